package boottest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// ErrUserData is wrapped by the error for deploy-time user-data that is not
// a #cloud-config document holding one mapping.
var ErrUserData = errors.New("user-data must be a #cloud-config mapping")

// cloudConfigHeader starts every #cloud-config document.
const cloudConfigHeader = "#cloud-config"

// identityKeys are cloud-config keys that decide the machine's hostname or
// how the test logs in; the test's seed owns them even when it does not
// set them, so deploy-time user-data cannot lock the test out.
var identityKeys = []string{"hostname", "fqdn", "preserve_hostname", "prefer_fqdn_over_hostname",
	"ssh_pwauth", "ssh_genkeytypes", "disable_root"}

// ParseCloudConfig checks that data is a #cloud-config document (its first
// line is the header) whose one YAML document is a mapping, and returns
// that mapping. An empty document is an empty mapping.
func ParseCloudConfig(data []byte) (*yaml.Node, error) {
	first, _, _ := bytes.Cut(data, []byte("\n"))
	if strings.TrimRight(string(first), " \t\r") != cloudConfigHeader {
		return nil, fmt.Errorf("%w: the first line must be %q", ErrUserData, cloudConfigHeader)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}, nil
	} else if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUserData, err)
	}
	var next yaml.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: it holds more than one YAML document", ErrUserData)
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%w: its top level is not a mapping of keys", ErrUserData)
	}
	m := doc.Content[0]
	if len(m.Content) > 0 { // the header is a comment the first key carries
		m.Content[0].HeadComment = dropHeader(m.Content[0].HeadComment)
	}
	m.HeadComment = dropHeader(m.HeadComment)
	return m, nil
}

// dropHeader removes the #cloud-config line from a comment.
func dropHeader(comment string) string {
	first, rest, _ := strings.Cut(comment, "\n")
	if strings.TrimSpace(first) != cloudConfigHeader {
		return comment
	}
	return strings.TrimLeft(rest, "\n")
}

// MergeUserData adds the keys of extra, a #cloud-config document, to base,
// the boot test's own user-data. The test's identity wins: base's keys are
// kept as they are; extra's users are added after base's, except any
// named like one of base's; extra's other identity keys (hostname, fqdn,
// preserve_hostname, ssh_pwauth, ssh_genkeytypes, …) are dropped. It
// returns the merged document and what of extra was dropped.
func MergeUserData(base, extra []byte) (merged []byte, dropped []string, err error) {
	b, err := ParseCloudConfig(base)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the test's own user-data: %w", err)
	}
	e, err := ParseCloudConfig(extra)
	if err != nil {
		return nil, nil, err
	}
	for i := 0; i+1 < len(e.Content); i += 2 {
		d, err := mergeKey(b, e.Content[i], e.Content[i+1])
		if err != nil {
			return nil, nil, err
		}
		dropped = append(dropped, d...)
	}
	out, err := encodeCloudConfig(b)
	if err != nil {
		return nil, nil, err
	}
	if _, err := ParseCloudConfig(out); err != nil { // e.g. an alias of a dropped anchor
		return nil, nil, fmt.Errorf("merging user-data: the result does not parse: %w", err)
	}
	return out, dropped, nil
}

// mergeKey adds one key of the extra user-data to base and returns what
// it dropped.
func mergeKey(base, key, value *yaml.Node) ([]string, error) {
	name := key.Value
	if name == "users" {
		return mergeUsers(base, value)
	}
	if slices.Contains(identityKeys, name) || mappingValue(base, name) != nil {
		return []string{name}, nil
	}
	base.Content = append(base.Content, key, value)
	return nil, nil
}

// mergeUsers appends extra's users to base's, but none named like one of
// base's.
func mergeUsers(base, users *yaml.Node) ([]string, error) {
	if users.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%w: users must be a list", ErrUserData)
	}
	own := mappingValue(base, "users")
	if own == nil {
		own = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		base.Content = append(base.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "users"}, own)
	}
	taken := map[string]bool{}
	for _, u := range own.Content {
		taken[userName(u)] = true
	}
	var dropped []string
	for _, u := range users.Content {
		if n := userName(u); taken[n] {
			dropped = append(dropped, "users["+n+"]")
			continue
		}
		own.Content = append(own.Content, u)
	}
	return dropped, nil
}

// userName is the name of a users entry: the entry itself ("default") or
// its name key.
func userName(u *yaml.Node) string {
	if u.Kind == yaml.ScalarNode {
		return u.Value
	}
	if n := mappingValue(u, "name"); n != nil {
		return n.Value
	}
	return ""
}

// mappingValue returns the value of key in a mapping node, or nil.
func mappingValue(m *yaml.Node, key string) *yaml.Node {
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// encodeCloudConfig writes the mapping as a #cloud-config document.
func encodeCloudConfig(m *yaml.Node) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(cloudConfigHeader + "\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("%w: encoding the merged user-data: %w", ErrUserData, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("%w: encoding the merged user-data: %w", ErrUserData, err)
	}
	return buf.Bytes(), nil
}

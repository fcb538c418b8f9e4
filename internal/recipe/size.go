package recipe

import (
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Size is a number of bytes, written in recipes with a binary unit: "4GiB",
// "2G", "3072MiB".
type Size int64

// Binary size units.
const (
	KiB Size = 1 << (10 * (iota + 1))
	MiB
	GiB
	TiB
)

// Limits on a recipe's disk size.
const (
	MinDiskSize = 1 * GiB
	MaxDiskSize = 2 * TiB
)

// sizeHint is shown with every size syntax error.
const sizeHint = "write a whole number with a binary unit, e.g. 4GiB, 2G or 3072MiB"

var sizePattern = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?) ?([A-Za-z]*)$`)

var sizeUnits = map[string]Size{
	"": 1, "b": 1,
	"k": KiB, "kib": KiB,
	"m": MiB, "mib": MiB,
	"g": GiB, "gib": GiB,
	"t": TiB, "tib": TiB,
}

// ParseSize parses a size such as "4GiB", "2G", "3072MiB", "1.5GiB" or a plain
// number of bytes. Single-letter units are binary, as in qemu-img; decimal
// units (GB) are refused as ambiguous.
func ParseSize(s string) (Size, error) {
	m := sizePattern.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil || len(s) > 64 {
		return 0, fmt.Errorf("%q is not a size", s)
	}
	unit, ok := sizeUnits[strings.ToLower(m[2])]
	if !ok {
		return 0, unitError(m[2])
	}
	n, ok := new(big.Rat).SetString(m[1])
	if !ok {
		return 0, fmt.Errorf("%q is not a size", s)
	}
	n.Mul(n, new(big.Rat).SetInt64(int64(unit)))
	if !n.IsInt() {
		return 0, fmt.Errorf("%q is not a whole number of bytes", s)
	}
	if n.Num().BitLen() > 62 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return Size(n.Num().Int64()), nil
}

func unitError(unit string) error {
	switch strings.ToLower(unit) {
	case "kb", "mb", "gb", "tb":
		return fmt.Errorf("unit %q is ambiguous: bakery uses binary units (%siB)", unit, strings.ToUpper(unit[:1]))
	}
	return fmt.Errorf("unknown size unit %q", unit)
}

// String renders the size with the largest binary unit that divides it
// exactly: "4GiB", "3584MiB", "512B".
func (s Size) String() string {
	for _, u := range []struct {
		suffix string
		n      Size
	}{{"TiB", TiB}, {"GiB", GiB}, {"MiB", MiB}, {"KiB", KiB}} {
		if s != 0 && s%u.n == 0 {
			return fmt.Sprintf("%d%s", s/u.n, u.suffix)
		}
	}
	return fmt.Sprintf("%dB", int64(s))
}

// MarshalJSON renders the size as its string, e.g. "4GiB".
func (s Size) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON accepts a size string or a plain number of bytes.
func (s *Size) UnmarshalJSON(b []byte) error {
	text := string(b)
	if strings.HasPrefix(text, `"`) {
		if err := json.Unmarshal(b, &text); err != nil {
			return fmt.Errorf("decoding size: %w", err)
		}
	}
	n, err := ParseSize(text)
	if err != nil {
		return fmt.Errorf("decoding size: %w", err)
	}
	*s = n
	return nil
}

// MarshalYAML renders the size as its string, e.g. "4GiB".
func (s Size) MarshalYAML() (any, error) { return s.String(), nil }

// UnmarshalYAML accepts a size scalar such as 4GiB or a plain number of bytes.
func (s *Size) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: expected a size, got %s", n.Line, kindName(n))
	}
	v, err := ParseSize(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*s = v
	return nil
}

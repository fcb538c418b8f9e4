package simplestreams

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"
)

// ParseIndex decodes an index document. Fields it does not know are
// ignored (producers add their own); a wrong format, an entry without a
// path or with a path leaving the mirror root is an error wrapping
// ErrFormat.
func ParseIndex(data []byte) (StreamIndex, error) {
	var idx StreamIndex
	if err := json.Unmarshal(data, &idx); err != nil {
		return StreamIndex{}, fmt.Errorf("%w: decoding index: %v", ErrFormat, err)
	}
	if idx.Format != FormatIndex {
		return StreamIndex{}, fmt.Errorf("%w: index format %q, want %q", ErrFormat, idx.Format, FormatIndex)
	}
	for id, e := range idx.Index {
		if err := checkPath(e.Path); err != nil {
			return StreamIndex{}, fmt.Errorf("%w: index entry %q: %v", ErrFormat, id, err)
		}
		if e.Format != "" && e.Format != FormatProducts {
			return StreamIndex{}, fmt.Errorf("%w: index entry %q: format %q, want %q", ErrFormat, id, e.Format, FormatProducts)
		}
	}
	return idx, nil
}

// ParseProducts decodes a products document. Unknown fields are ignored;
// a wrong format, an item path leaving the mirror root, a malformed
// sha256 or a negative size is an error wrapping ErrFormat.
func ParseProducts(data []byte) (Products, error) {
	var p Products
	if err := json.Unmarshal(data, &p); err != nil {
		return Products{}, fmt.Errorf("%w: decoding products: %v", ErrFormat, err)
	}
	if p.Format != FormatProducts {
		return Products{}, fmt.Errorf("%w: products format %q, want %q", ErrFormat, p.Format, FormatProducts)
	}
	for name, prod := range p.Products {
		for serial, v := range prod.Versions {
			for key, it := range v.Items {
				if err := checkItem(it); err != nil {
					return Products{}, fmt.Errorf("%w: %s %s item %q: %v", ErrFormat, name, serial, key, err)
				}
			}
		}
	}
	return p, nil
}

func checkItem(it ProductVersionItem) error {
	if it.Path != "" {
		if err := checkPath(it.Path); err != nil {
			return err
		}
	}
	if it.SHA256 != "" && !isHex(it.SHA256, 64) {
		return fmt.Errorf("sha256 %q is not 64 lowercase hex digits", it.SHA256)
	}
	if it.Size < 0 {
		return fmt.Errorf("negative size %d", it.Size)
	}
	return nil
}

// checkPath accepts a clean relative slash path that stays inside the
// mirror root.
func checkPath(p string) error {
	switch {
	case p == "":
		return fmt.Errorf("empty path")
	case strings.HasPrefix(p, "/") || strings.Contains(p, "\\") || strings.ContainsRune(p, 0):
		return fmt.Errorf("path %q is not relative", p)
	case path.Clean(p) != p || p == ".." || strings.HasPrefix(p, "../"):
		return fmt.Errorf("path %q is not clean or leaves the mirror root", p)
	}
	return nil
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// ParseTime parses an "updated" or "expires" value.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(TimeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: time %q: %v", ErrFormat, s, err)
	}
	return t, nil
}

// FormatTime formats t for "updated" and "expires", in UTC.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// Marshal encodes a document the way bakery publishes it: indented, keys
// in a stable order, ending with a newline.
func Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encoding simplestreams document: %w", err)
	}
	return buf.Bytes(), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

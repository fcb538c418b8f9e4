package recipe

import (
	"encoding/json"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    Size
		wantErr string
	}{
		{"4GiB", 4 * GiB, ""},
		{"2G", 2 * GiB, ""},
		{"2g", 2 * GiB, ""},
		{"3072MiB", 3 * GiB, ""},
		{"3072M", 3 * GiB, ""},
		{"1TiB", TiB, ""},
		{"2T", 2 * TiB, ""},
		{"512KiB", 512 * KiB, ""},
		{"1024K", MiB, ""},
		{"1.5GiB", 1536 * MiB, ""},
		{"4 GiB", 4 * GiB, ""},
		{" 4GiB ", 4 * GiB, ""},
		{"4096", 4096, ""},
		{"4096B", 4096, ""},
		{"0", 0, ""},
		{"", 0, "is not a size"},
		{"GiB", 0, "is not a size"},
		{"-4GiB", 0, "is not a size"},
		{"4.GiB", 0, "is not a size"},
		{"1e9", 0, "is not a size"},
		{"12abc", 0, `unknown size unit "abc"`},
		{"4GB", 0, `unit "GB" is ambiguous`},
		{"4mb", 0, `unit "mb" is ambiguous`},
		{"0.1B", 0, "not a whole number of bytes"},
		{"8388608TiB", 0, "too large"},
		{"99999999999999999999", 0, "too large"},
		{strings.Repeat("1", 70), 0, "is not a size"},
	}
	for _, tc := range tests {
		got, err := ParseSize(tc.in)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("ParseSize(%q): %v", tc.in, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("ParseSize(%q) error = %v, want %q", tc.in, err, tc.wantErr)
		case got != tc.want:
			t.Errorf("ParseSize(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestSizeString(t *testing.T) {
	tests := []struct {
		in   Size
		want string
	}{
		{0, "0B"}, {1, "1B"}, {1023, "1023B"}, {KiB, "1KiB"}, {1536 * MiB, "1536MiB"},
		{4 * GiB, "4GiB"}, {2 * TiB, "2TiB"}, {3 * TiB / 2, "1536GiB"}, {GiB + 1, "1073741825B"},
	}
	for _, tc := range tests {
		if got := tc.in.String(); got != tc.want {
			t.Errorf("Size(%d).String() = %q, want %q", int64(tc.in), got, tc.want)
		}
		if back, err := ParseSize(tc.want); err != nil || back != tc.in {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tc.want, back, err, tc.in)
		}
	}
}

func TestSizeJSON(t *testing.T) {
	b, err := json.Marshal(3 * GiB)
	if err != nil || string(b) != `"3GiB"` {
		t.Fatalf("json.Marshal = %s, %v; want \"3GiB\"", b, err)
	}
	for in, want := range map[string]Size{`"3GiB"`: 3 * GiB, `"2G"`: 2 * GiB, `1048576`: MiB} {
		var s Size
		if err := json.Unmarshal([]byte(in), &s); err != nil || s != want {
			t.Errorf("json.Unmarshal(%s) = %d, %v; want %d", in, s, err, want)
		}
	}
	var s Size
	if err := json.Unmarshal([]byte(`"4GB"`), &s); err == nil {
		t.Errorf("json.Unmarshal(\"4GB\") succeeded")
	}
}

func TestSizeYAML(t *testing.T) {
	b, err := yaml.Marshal(map[string]Size{"disk_size": 1536 * MiB})
	if err != nil || string(b) != "disk_size: 1536MiB\n" {
		t.Fatalf("yaml.Marshal = %q, %v", b, err)
	}
	var v struct {
		Size Size `yaml:"size"`
	}
	if err := yaml.Unmarshal([]byte("size: 2G\n"), &v); err != nil || v.Size != 2*GiB {
		t.Errorf("yaml.Unmarshal = %d, %v; want 2GiB", v.Size, err)
	}
	if err := yaml.Unmarshal([]byte("size: [1]\n"), &v); err == nil || !strings.Contains(err.Error(), "line 1: expected a size") {
		t.Errorf("yaml.Unmarshal(list) error = %v", err)
	}
}

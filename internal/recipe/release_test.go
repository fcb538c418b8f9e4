package recipe

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestReleasePolicy(t *testing.T) {
	r, err := Parse("r.yaml", []byte(`name: a
version: 1.2.0+evacuation0
version_scheme: semver-security
channels:
  - devel
  - {name: rolling, soak: 36h}
  - name: stable
    soak: 2w
support: {newer_minors: 2, min_weeks: 6}
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []Channel{{Name: "devel"}, {Name: "rolling", Soak: Duration(36 * time.Hour)}, {Name: "stable", Soak: Duration(14 * 24 * time.Hour)}}
	if !reflect.DeepEqual(r.ChannelOrder(), want) {
		t.Errorf("ChannelOrder = %+v, want %+v", r.ChannelOrder(), want)
	}
	if got := r.SupportPolicy(); got != (Support{NewerMinors: 2, MinWeeks: 6}) {
		t.Errorf("SupportPolicy = %+v", got)
	}
	if r.Scheme() != "semver-security" {
		t.Errorf("Scheme = %q", r.Scheme())
	}
	again, err := Parse("again.yaml", r.YAML())
	if err != nil {
		t.Fatalf("effective recipe does not parse back: %v\n%s", err, r.YAML())
	}
	if again.Digest() != r.Digest() {
		t.Errorf("digest changed through YAML: %s vs %s\n%s", again.Digest(), r.Digest(), r.YAML())
	}
}

func TestReleasePolicyDefaults(t *testing.T) {
	r, err := Parse("r.yaml", []byte("name: a\nversion: 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Scheme() != DefaultVersionScheme || !reflect.DeepEqual(r.ChannelOrder(), DefaultChannels) || r.SupportPolicy() != DefaultSupport {
		t.Errorf("defaults: %q %+v %+v", r.Scheme(), r.ChannelOrder(), r.SupportPolicy())
	}
	if strings.Contains(string(r.Canonical()), "channels") || strings.Contains(string(r.YAML()), "version_scheme") {
		t.Errorf("defaults leaked into the canonical recipe: %s", r.Canonical())
	}
}

func TestParseDuration(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Duration
		str  string
	}{
		{"0", 0, "0"}, {"90m", 90 * time.Minute, "90m"}, {"36h", 36 * time.Hour, "36h"},
		{"7d", 7 * 24 * time.Hour, "1w"}, {"2w", 14 * 24 * time.Hour, "2w"}, {"48h", 48 * time.Hour, "2d"},
	} {
		d, err := ParseDuration(tt.in)
		if err != nil || time.Duration(d) != tt.want || d.String() != tt.str {
			t.Errorf("ParseDuration(%q) = %v (%s), %v; want %v (%s)", tt.in, time.Duration(d), d, err, tt.want, tt.str)
		}
	}
	for _, bad := range []string{"", "7", "7 d", "-1d", "1y", "1.5d", "d", "1234567d"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) succeeded", bad)
		}
	}
}

package release

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/version"
)

func hopsText(hops []version.Hop) string {
	var out []string
	for _, h := range hops {
		s := h.From.String() + ">" + h.To.String()
		if h.Disruptive {
			s += "!"
		}
		if h.Major {
			s += "M"
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

func TestUpgradePath(t *testing.T) {
	const (
		v120 = "1.2.0+evacuation0"
		v130 = "1.3.0+evacuation0"
		v134 = "1.3.4+evacuation1"
		v140 = "1.4.0+evacuation0"
		v200 = "2.0.0+evacuation0"
	)
	base := func() *builder { return build(v200, v140, v134, v130, v120) }
	tests := []struct {
		name       string
		state      *builder
		from, to   string
		allowMajor bool
		want, err  string
	}{
		{name: "via the newest patch of the middle line", state: base(), from: v120, to: v140,
			want: "1.2.0+evacuation0>1.3.4+evacuation1! 1.3.4+evacuation1>1.4.0+evacuation0!"},
		{name: "revoked versions are no stop", state: base().revoke(v134, "bad"), from: v120, to: v140,
			want: "1.2.0+evacuation0>1.3.0+evacuation0 1.3.0+evacuation0>1.4.0+evacuation0"},
		{name: "major refused", state: base(), from: v120, to: v200,
			err: "crosses major versions; use --allow-major"},
		{name: "major allowed", state: base(), from: v130, to: v200, allowMajor: true,
			want: "1.3.0+evacuation0>1.4.0+evacuation0 1.4.0+evacuation0>2.0.0+evacuation0M"},
		{name: "downgrade", state: base(), from: v140, to: v120, err: "that is a downgrade"},
		{name: "same version", state: base(), from: v130, to: v130, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hops, err := tt.state.s.UpgradePath(tt.state.img(tt.from), tt.state.img(tt.to), tt.allowMajor)
			if !checkErr(t, err, tt.err) {
				if !errors.Is(err, version.ErrNoPath) {
					t.Errorf("error %v does not wrap ErrNoPath", err)
				}
				return
			}
			if got := hopsText(hops); got != tt.want {
				t.Errorf("hops = %s, want %s", got, tt.want)
			}
		})
	}
	b := base()
	bad := catalog.Image{Name: "junk", Version: "1.2"}
	for _, ends := range [][2]catalog.Image{{bad, b.img(v140)}, {b.img(v120), bad}} {
		if _, err := b.s.UpgradePath(ends[0], ends[1], true); !errors.Is(err, version.ErrInvalid) {
			t.Errorf("UpgradePath(%s, %s): error = %v, want ErrInvalid", ends[0].Version, ends[1].Version, err)
		}
	}
}

func TestPin(t *testing.T) {
	base := func() *builder {
		return build("1.2.0", "1.1.0", "1.0.0").
			through("1.0.0", day(0)).through("1.1.0", day(10)).
			head("devel", "1.2.0", day(20)).head("rolling", "", day(21))
	}
	tests := []struct {
		name              string
		state             *builder
		channel, override string
		want              Pin
		err               string
	}{
		{name: "channel head", state: base(), channel: "stable",
			want: Pin{Product: "demo", Version: "1.1.0", Image: name("1.1.0"), BuildID: "build-1.1.0", QCOW2SHA256: "qcow2-1.1.0", Channel: "stable"}},
		{name: "line channel", state: base(), channel: "stable-1.0",
			want: Pin{Product: "demo", Version: "1.0.0", Image: name("1.0.0"), BuildID: "build-1.0.0", QCOW2SHA256: "qcow2-1.0.0", Channel: "stable-1.0"}},
		{name: "override by version", state: base(), channel: "stable", override: "1.2.0",
			want: Pin{Product: "demo", Version: "1.2.0", Image: name("1.2.0"), BuildID: "build-1.2.0", QCOW2SHA256: "qcow2-1.2.0", Override: true}},
		{name: "override by image", state: base(), channel: "stable", override: name("1.0.0"),
			want: Pin{Product: "demo", Version: "1.0.0", Image: name("1.0.0"), BuildID: "build-1.0.0", QCOW2SHA256: "qcow2-1.0.0", Override: true}},
		{name: "override revoked", state: base().revoke("1.2.0", "breaks dns"), channel: "stable", override: "1.2.0",
			err: "demo-1.2.0 is revoked (breaks dns): it is never pinned"},
		{name: "head revoked", state: base().revoke("1.1.0", "breaks dns"), channel: "stable",
			err: "demo-1.1.0 is revoked (breaks dns): it is never pinned"},
		{name: "override unknown", state: base(), channel: "stable", override: "9.9.9",
			err: `unknown version or image "9.9.9" of demo`},
		{name: "no head", state: base(), channel: "lts", err: "demo has no version on channel lts"},
		{name: "emptied channel", state: base(), channel: "rolling", err: "demo has no version on channel rolling"},
		{name: "head not in the catalog", state: base().head("stable", "0.1.0", day(30)), channel: "stable",
			err: "demo: channel stable points at demo-0.1.0, which is not in the catalog"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.state.s.Pin(tt.channel, tt.override)
			if !checkErr(t, err, tt.err) {
				return
			}
			if got != tt.want {
				t.Errorf("Pin = %+v, want %+v", got, tt.want)
			}
		})
	}
	noDisk := base()
	noDisk.s.Images[1].Artifacts = nil
	if p, err := noDisk.s.Pin("stable", ""); err != nil || p.QCOW2SHA256 != "" {
		t.Errorf("Pin of an image without a qcow2 = %+v, %v; want no digest", p, err)
	}
}

func TestParseOverrides(t *testing.T) {
	tests := []struct {
		in   string
		want map[string]string
		err  string
	}{
		{"", map[string]string{}, ""},
		{" , ,", map[string]string{}, ""},
		{"debian-cloud=1.2.0", map[string]string{"debian-cloud": "1.2.0"}, ""},
		{" debian-cloud = 1.2.0 , buildmaster=3.20261101.0,", map[string]string{"debian-cloud": "1.2.0", "buildmaster": "3.20261101.0"}, ""},
		{"a=demo-1.2.0-2026110112", map[string]string{"a": "demo-1.2.0-2026110112"}, ""},
		{"debian-cloud", nil, `version override "debian-cloud": want product=version`},
		{"=1.2.0", nil, `version override "=1.2.0": want product=version`},
		{"debian-cloud=", nil, `version override "debian-cloud=": want product=version`},
		{"a=1.0.0,b=2.0.0,a=1.0.1", nil, "version override: a given twice"},
	}
	for _, tt := range tests {
		got, err := ParseOverrides(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("ParseOverrides(%q): error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || !maps.Equal(got, tt.want) {
			t.Errorf("ParseOverrides(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

// FuzzParseOverrides checks that what ParseOverrides accepts is trimmed,
// non-empty, and reads back the same when written out again.
func FuzzParseOverrides(f *testing.F) {
	for _, s := range []string{"", "a=1.0.0", " a = 1 , b=2,", "a", "a=1,a=2", "=", "a==b", "a=b=c,,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseOverrides(s)
		if err != nil {
			return
		}
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(got)) {
			v := got[k]
			if k == "" || v == "" || k != strings.TrimSpace(k) || v != strings.TrimSpace(v) || strings.ContainsAny(k, ",=") || strings.Contains(v, ",") {
				t.Fatalf("ParseOverrides(%q) = %q: bad entry %q=%q", s, got, k, v)
			}
			parts = append(parts, k+"="+v)
		}
		again, err := ParseOverrides(strings.Join(parts, ","))
		if err != nil || !maps.Equal(again, got) {
			t.Fatalf("ParseOverrides(%q) = %q, but its rewriting reads as %q, %v", s, got, again, err)
		}
	})
}

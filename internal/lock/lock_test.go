package lock

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

func sampleLock() *Lock {
	return &Lock{
		Inputs: Inputs{Distro: "debian", Release: "bookworm", Arch: "amd64", Components: []string{"main"},
			Kernel: "linux-image-cloud-amd64", BasePackages: []string{"sudo", "dbus"}, Packages: []string{"vim-tiny", "curl", "curl"}},
		Suites: []Suite{
			{Name: "bookworm", URI: "http://deb.debian.org/debian", Codename: "bookworm", Version: "12.15", Date: "2026-07-11T10:16:37Z", InReleaseSHA256: strings.Repeat("a", 64)},
			{Name: "bookworm-security", URI: "http://deb.debian.org/debian-security", Codename: "bookworm-security", Date: "2026-11-30T18:00:00Z", InReleaseSHA256: strings.Repeat("b", 64)},
		},
		Packages: []Package{
			{Name: "libc6", Version: "2.36-9+deb12u14", Architecture: "amd64", SHA256: strings.Repeat("1", 64), Size: 2759320, Filename: "pool/main/g/glibc/libc6_2.36-9+deb12u14_amd64.deb", Suite: "bookworm"},
			{Name: "apt", Version: "2.6.2", Architecture: "amd64", SHA256: strings.Repeat("2", 64), Size: 1373116, Filename: "pool/updates/main/a/apt/apt_2.6.2_amd64.deb", Suite: "bookworm-security"},
		},
		Tools: map[string]string{"mmdebstrap": "mmdebstrap 1.3.5", "e2fsprogs": "mke2fs 1.47.0 (5-Feb-2023)"},
	}
}

func TestEncodeGolden(t *testing.T) {
	got, err := sampleLock().Encode()
	if err != nil {
		t.Fatal(err)
	}
	golden := "testdata/sample.lock"
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("encoding differs from %s (run with -update and review):\n%s", golden, got)
	}
}

func TestRoundTrip(t *testing.T) {
	first, err := sampleLock().Encode()
	if err != nil {
		t.Fatal(err)
	}
	l, err := Decode(first)
	if err != nil {
		t.Fatal(err)
	}
	again, err := l.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, again) {
		t.Errorf("round trip changed the lock:\n%s\n%s", first, again)
	}
	if !bytes.HasSuffix(first, []byte("}\n")) {
		t.Error("no trailing newline")
	}
	// Filled slots keep their content, canonicalized.
	l.Config = json.RawMessage(`{"ref":"v1","commit":"abc"}`)
	b, _ := l.Encode()
	if !strings.Contains(string(b), "\"config\": {\n    \"commit\": \"abc\",\n    \"ref\": \"v1\"\n  }") {
		t.Errorf("config slot not canonical:\n%s", b)
	}
}

func TestDigestIgnoresOrder(t *testing.T) {
	a, b := sampleLock(), sampleLock()
	b.Packages[0], b.Packages[1] = b.Packages[1], b.Packages[0]
	b.Inputs.Packages = []string{"curl", "vim-tiny"}
	da, _ := a.Digest()
	db, _ := b.Digest()
	if da != db || !strings.HasPrefix(da, "sha256:") {
		t.Errorf("digests %s %s", da, db)
	}
	b.Packages[0].Version = "2.6.3"
	if dc, _ := b.Digest(); dc == da {
		t.Error("a changed version kept the digest")
	}
}

func TestDecodeErrors(t *testing.T) {
	good, _ := sampleLock().Encode()
	tests := map[string]string{
		"unknown field": strings.Replace(string(good), `"format": 1`, `"format": 1, "extra": 2`, 1),
		"old format":    strings.Replace(string(good), `"format": 1`, `"format": 0`, 1),
		"bad sha256":    strings.Replace(string(good), strings.Repeat("1", 64), "xyz", 1),
		"unknown suite": strings.Replace(string(good), `"suite": "bookworm-security"`, `"suite": "sid"`, 1),
		"not json":      "{",
	}
	for name, in := range tests {
		if _, err := Decode([]byte(in)); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

func TestCheckInputs(t *testing.T) {
	l := sampleLock()
	l.Normalize()
	same := Inputs{Distro: "debian", Release: "bookworm", Arch: "amd64", Components: []string{"main"},
		Kernel: "linux-image-cloud-amd64", BasePackages: []string{"dbus", "sudo"}, Packages: []string{"curl", "vim-tiny"}}
	if err := l.CheckInputs(same); err != nil {
		t.Errorf("same inputs: %v", err)
	}
	changed := same
	changed.Packages = []string{"curl"}
	changed.Release = "trixie"
	err := l.CheckInputs(changed)
	if !errors.Is(err, ErrStale) || !strings.Contains(err.Error(), "release: lock has bookworm, recipe has trixie") ||
		!strings.Contains(err.Error(), "packages: lock has [curl vim-tiny], recipe has [curl]") {
		t.Errorf("err %v", err)
	}
}

func TestSourceDateEpoch(t *testing.T) {
	got, err := sampleLock().SourceDateEpoch()
	if err != nil || got != 1796061600 { // 2026-11-30T18:00:00Z, the newest suite
		t.Errorf("got %d, %v", got, err)
	}
	if _, err := (&Lock{}).SourceDateEpoch(); err == nil {
		t.Error("no suites: no error")
	}
}

func TestWriteAndLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.lock")
	if err := sampleLock().Write(path); err != nil {
		t.Fatal(err)
	}
	l, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Packages) != 2 || l.Packages[0].Name != "apt" {
		t.Errorf("loaded %+v", l.Packages)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temp files left: %v", entries)
	}
}

func TestPathFor(t *testing.T) {
	for in, want := range map[string]string{"examples/a.yaml": "examples/a.lock", "b.yml": "b.lock", "c": "c.lock"} {
		if got := PathFor(in); got != want {
			t.Errorf("PathFor(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzDecode checks that any lock Decode accepts encodes canonically: a
// second decode and encode gives the same bytes.
func FuzzDecode(f *testing.F) {
	good, _ := sampleLock().Encode()
	f.Add(good)
	f.Add([]byte(`{"format":1,"inputs":{},"suites":[],"packages":[],"tools":{},"config":{},"elements":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := Decode(data)
		if err != nil {
			return
		}
		first, err := l.Encode()
		if err != nil {
			return // e.g. a config slot that is not valid JSON on its own
		}
		again, err := Decode(first)
		if err != nil {
			t.Fatalf("re-decoding: %v\n%s", err, first)
		}
		second, err := again.Encode()
		if err != nil || !bytes.Equal(first, second) {
			t.Fatalf("not canonical: %v\n%s\n%s", err, first, second)
		}
	})
}

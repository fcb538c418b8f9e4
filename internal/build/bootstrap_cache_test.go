package build

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bakery-dev/bakery/internal/lock"
	"github.com/bakery-dev/bakery/internal/runner"
	"github.com/bakery-dev/bakery/internal/stagecache"
)

// TestBootstrapKey shows what changes the bootstrap's stage cache key
// (anything that can change the tree mmdebstrap makes) and what does not
// (the image's name and version, the mirror packages are fetched from,
// later stages).
func TestBootstrapKey(t *testing.T) {
	base := func(t *testing.T) Params { return lockedParams(t, "http://deb.debian.org/debian") }
	keyOf := func(p Params) string {
		mirror, security := lockedSources(p)
		return bootstrapStage(p, mirror, security).CacheKey
	}
	want := keyOf(base(t))
	if len(want) != 64 {
		t.Fatalf("key %q is not a sha256", want)
	}
	tests := []struct {
		name    string
		edit    func(p *Params)
		changes bool
	}{
		{"nothing", func(p *Params) {}, false},
		{"version string", func(p *Params) { p.Recipe.Version = "9.9.9"; p.Identity.Version = "9.9.9" }, false},
		{"image name and serial", func(p *Params) { p.Identity.Name, p.Identity.Serial = "other", "2030010100" }, false},
		{"build mirror", func(p *Params) { p.Mirror = "http://127.0.0.1:9/debian" }, false},
		{"hostname", func(p *Params) { p.Recipe.Hostname = "elsewhere" }, false},
		{"disk size", func(p *Params) { p.Recipe.DiskSize *= 2 }, false},
		{"qemu-img version", func(p *Params) { p.Tools["qemu-img"] = "qemu-img version 9.0" }, false},
		{"a package version", func(p *Params) { p.Lock.Packages[0].Version += "+b1" }, true},
		{"a package digest", func(p *Params) { p.Lock.Packages[0].SHA256 = strings.Repeat("9", 64) }, true},
		{"one more package", func(p *Params) {
			p.Lock.Packages = append(p.Lock.Packages, lock.Package{Name: "zsh", Version: "5.9-4+b2", Architecture: "amd64", SHA256: strings.Repeat("3", 64)})
		}, true},
		{"requested packages", func(p *Params) { p.Recipe.Packages = append(p.Recipe.Packages, "htop") }, true},
		{"release", func(p *Params) { p.Recipe.Release = "trixie" }, true},
		{"architecture", func(p *Params) { p.Recipe.Arch = "arm64" }, true},
		{"image sources (locked archive)", func(p *Params) { p.Lock.Suites[0].URI = "http://mirror.example/debian" }, true},
		{"mmdebstrap version", func(p *Params) { p.Tools["mmdebstrap"] = "mmdebstrap 1.5.0" }, true},
		{"source date epoch", func(p *Params) { p.SourceDateEpoch++ }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := base(t)
			tt.edit(&p)
			if got := keyOf(p); (got != want) != tt.changes {
				t.Errorf("key %s, base %s: changed = %v, want %v", got, want, got != want, tt.changes)
			}
		})
	}
}

func TestBootstrapKeyUnlocked(t *testing.T) {
	p := lockedParams(t, "")
	b := bootstrapStage(p, "m", "s")
	if BootstrapKey(b, nil, p.Tools) != "" {
		t.Error("an unlocked build has a cache key")
	}
	if b.CacheState != "" {
		t.Errorf("plan without a cache lookup has state %q", b.CacheState)
	}
	p.Lock = nil
	if b := bootstrapStage(p, "m", "s"); b.CacheKey != "" || b.CacheState != CacheUnlocked {
		t.Errorf("unlocked bootstrap: key %q state %q", b.CacheKey, b.CacheState)
	}
}

func TestBootstrapCacheState(t *testing.T) {
	if err := runner.Require(stagecache.Tools()...); err != nil {
		t.Skip(err)
	}
	c, err := stagecache.Open(stagecache.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	key := strings.Repeat("ab", 32)
	tree := filepath.Join(t.TempDir(), "tree")
	if err := os.MkdirAll(filepath.Join(tree, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	before := bootstrapCacheState(c, key)
	if _, err := c.Store(context.Background(), key, "bootstrap", tree); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ got, want string }{
		{before, CacheMiss},
		{bootstrapCacheState(c, key), CacheHit},
		{bootstrapCacheState(nil, key), CacheOff},
		{bootstrapCacheState(c, ""), CacheUnlocked},
	} {
		if tt.got != tt.want {
			t.Errorf("cache state %q, want %q", tt.got, tt.want)
		}
	}
}

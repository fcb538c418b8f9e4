package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bakery-dev/bakery/internal/runner"
	"github.com/bakery-dev/bakery/internal/stagecache"
)

func TestParseCacheMax(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		bad  bool
	}{
		{"", stagecache.DefaultMaxBytes, false},
		{"20GiB", 20 << 30, false},
		{"512MiB", 512 << 20, false},
		{"0", -1, false},
		{"off", -1, false},
		{"OFF", -1, false},
		{"0GiB", -1, false},
		{"20GB", 0, true},
		{"lots", 0, true},
	}
	for _, tt := range tests {
		got, err := parseCacheMax("--cache-max", tt.in)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("parseCacheMax(%q) = %d, %v; want %d (error %v)", tt.in, got, err, tt.want, tt.bad)
		}
		if tt.bad && !isUsage(err) {
			t.Errorf("parseCacheMax(%q): %v is not a usage error", tt.in, err)
		}
	}
}

func TestOpenStageCache(t *testing.T) {
	state := t.TempDir()
	g := &globals{getenv: func(k string) (string, bool) {
		return map[string]string{"BAKERY_CACHE_MAX": "off"}[k], k == "BAKERY_CACHE_MAX"
	}}
	if c, err := openStageCache(g, cacheFlags{}, state); c != nil || err != nil {
		t.Errorf("BAKERY_CACHE_MAX=off: cache %v, %v", c, err)
	}
	if c, err := openStageCache(g, cacheFlags{max: "1GiB"}, state); err != nil || c == nil || c.MaxBytes() != 1<<30 {
		t.Errorf("--cache-max 1GiB over the environment: %v, %v", c, err)
	}
	if c, _ := openStageCache(g, cacheFlags{max: "1GiB", noCache: true}, state); c != nil {
		t.Error("--no-cache still opened the cache")
	}
}

// TestCacheCommands lists and prunes a stage cache with two small entries.
func TestCacheCommands(t *testing.T) {
	if err := runner.Require(stagecache.Tools()...); err != nil {
		t.Skip(err)
	}
	state := t.TempDir()
	c, err := stagecache.Open(stagecache.Options{Dir: stageCacheDir(state)})
	if err != nil {
		t.Fatal(err)
	}
	tree := filepath.Join(t.TempDir(), "tree")
	if err := os.MkdirAll(filepath.Join(tree, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{strings.Repeat("a", 64), strings.Repeat("b", 64)} {
		if _, err := c.Store(context.Background(), k, "bootstrap", tree); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut := runCLI(t, nil, "--state-dir", state, "cache", "ls")
	if code != 0 || !strings.Contains(out, "aaaaaaaaaaaa  bootstrap") || !strings.Contains(out, "2 entries") {
		t.Errorf("cache ls: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = runCLI(t, nil, "--state-dir", state, "--json", "cache", "ls")
	var entries []stagecache.Entry
	if code != 0 || json.Unmarshal([]byte(out), &entries) != nil || len(entries) != 2 {
		t.Errorf("cache ls --json: exit %d\n%s", code, out)
	}
	if code, _, errOut := runCLI(t, nil, "--state-dir", state, "cache", "prune", "--all", "--max", "1GiB"); code != 2 {
		t.Errorf("prune --all --max: exit %d, want 2\n%s", code, errOut)
	}
	if code, out, _ := runCLI(t, nil, "--state-dir", state, "cache", "prune", "--max", "1GiB"); code != 0 || !strings.Contains(out, "0 entries removed") {
		t.Errorf("prune --max 1GiB: exit %d\n%s", code, out)
	}
	if code, out, _ := runCLI(t, nil, "--state-dir", state, "cache", "prune", "--all"); code != 0 || !strings.Contains(out, "2 entries removed") {
		t.Errorf("prune --all: exit %d\n%s", code, out)
	}
	if code, _, _ := runCLI(t, nil, "--state-dir", state, "cache", "frobnicate"); code != 2 {
		t.Errorf("unknown subcommand: exit %d, want 2", code)
	}
}

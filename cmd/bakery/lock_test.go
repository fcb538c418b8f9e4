package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/bakery-dev/bakery/internal/lock"
)

// TestLockCLI covers what needs no mirror: usage errors, a broken lock file
// and a stale lock (build --plan refuses it with exit 2 and a hint).
func TestLockCLI(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	good := writeFile(t, dir, "web.yaml", "name: web\nversion: 0.1.0\npackages: [vim]\n")
	stale := &lock.Lock{
		Inputs: lock.Inputs{Distro: "debian", Release: "bookworm", Arch: "amd64", Kernel: "linux-image-cloud-amd64", Packages: []string{"emacs"}},
		Suites: []lock.Suite{{Name: "bookworm", URI: "http://deb.debian.org/debian", Date: "2026-07-11T10:16:37Z", InReleaseSHA256: strings.Repeat("a", 64)}},
	}
	if err := stale.Write(lock.PathFor(good)); err != nil {
		t.Fatal(err)
	}
	broken := writeFile(t, dir, "broken.yaml", "name: broken\nversion: 0.1.0\n")
	writeFile(t, dir, "broken.lock", "{not json")
	tests := []struct {
		name     string
		args     []string
		code     int
		inStderr string
	}{
		{"no recipe", []string{"lock"}, 2, "exactly one recipe"},
		{"two flags fine, no recipe", []string{"lock", "--update", "--diff"}, 2, "exactly one recipe"},
		{"two recipes", []string{"lock", good, "--diff", good}, 2, "got 2 arguments"},
		{"bad flag after the recipe", []string{"lock", good, "--nope"}, 2, "flag provided but not defined"},
		{"stale lock refused", []string{"--state-dir", state, "build", "--plan", good}, 2, "run 'bakery lock " + good},
		{"stale lock names the difference", []string{"--state-dir", state, "build", "--plan", good}, 2, "packages: lock has [emacs], recipe has [vim]"},
		{"broken lock", []string{"--state-dir", state, "build", "--plan", broken}, 2, "broken.lock"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, nil, tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.inStderr) {
				t.Errorf("exit %d, want %d with %q\nstdout: %s\nstderr: %s", code, tt.code, tt.inStderr, out, errOut)
			}
		})
	}
	// --no-lock ignores the stale lock.
	if code, _, errOut := runCLI(t, nil, "--state-dir", state, "build", "--plan", "--no-lock", good); code != 0 {
		t.Errorf("--no-lock: exit %d\n%s", code, errOut)
	}
}

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestIntegrationInterruptedBuildLeavesNothing cancels a real build in the
// middle of its bootstrap (as Ctrl-C does) and checks that no workspace,
// tree, mount, artifact or catalog entry is left.
func TestIntegrationInterruptedBuildLeavesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: real mmdebstrap")
	}
	if os.Getuid() != 0 {
		t.Skip("needs root")
	}
	state := t.TempDir()
	trees := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	g := &globals{stdout: &out, stderr: &errb, getenv: func(string) (string, bool) { return "", false }}
	code := runWith(ctx, g, []string{"--state-dir", state, "build", "--tree-dir", trees, "../../examples/debian-cloud.yaml"})
	if code != 1 {
		t.Fatalf("interrupted build exit %d, want 1\n%s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "bootstrap") {
		t.Errorf("expected the build to stop in bootstrap:\n%s", tail(errb.String(), 20))
	}
	assertEmptyDir(t, filepath.Join(state, "work"))
	assertEmptyDir(t, trees)
	assertEmptyDir(t, filepath.Join(state, "artifacts", "sha256"))
	if c, o, e := runCLI(t, nil, "--state-dir", state, "--json", "images"); c != 0 || strings.TrimSpace(o) != "[]" {
		t.Errorf("catalog after interrupted build: exit %d %q %s", c, o, e)
	}
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mounts), state) || strings.Contains(string(mounts), trees) {
		t.Errorf("mounts left behind:\n%s", mounts)
	}
}

func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == "tmp" { // the artifact store's own temp directory
			continue
		}
		t.Errorf("%s still holds %s", dir, e.Name())
	}
}

package publish

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bakery-dev/bakery/internal/runner"
)

// TestIntegrationGpgvVerifiesStreams checks the published .sjson files
// with gpgv, the verifier Canonical's simplestreams tools call, against the
// published public key; and that gpgv refuses a tampered one.
func TestIntegrationGpgvVerifiesStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: runs gpg and gpgv")
	}
	if err := runner.Require("gpg", "gpgv"); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	e := newEnv(t)
	if err := e.fill.Fill(ctx, []string{"alpha"}, 2); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	e.publish(t, dir)
	home, keyring := t.TempDir(), filepath.Join(t.TempDir(), "bakery.gpg")
	r := runner.Exec{}
	if _, err := r.Run(ctx, runner.Cmd{Args: []string{"gpg", "--homedir", home, "--batch", "--output", keyring, "--dearmor", filepath.Join(dir, KeyPath)}}); err != nil {
		t.Fatal(err)
	}
	signed, _ := filepath.Glob(filepath.Join(dir, "streams/v1/*.sjson"))
	if len(signed) != 4 {
		t.Fatalf("signed documents: %v", signed)
	}
	for _, f := range signed {
		if _, err := r.Run(ctx, runner.Cmd{Args: []string{"gpgv", "--homedir", home, "--keyring", keyring, f}}); err != nil {
			t.Errorf("gpgv %s: %v", filepath.Base(f), err)
		}
	}
	data, _ := os.ReadFile(filepath.Join(dir, "streams/v1/index.sjson"))
	bad := filepath.Join(t.TempDir(), "index.sjson")
	os.WriteFile(bad, bytes.Replace(data, []byte("index:1.0"), []byte("index:1.1"), 1), 0o644)
	_, err := r.Run(ctx, runner.Cmd{Args: []string{"gpgv", "--homedir", home, "--keyring", keyring, bad}})
	if err == nil || !strings.Contains(err.Error(), "BAD signature") {
		t.Errorf("gpgv accepted a tampered index: %v", err)
	}
}

package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/catalog/sqlite"
)

// TestVerifyAndProvenanceRefusals: verify and show --provenance on images
// that cannot be verified or have no provenance, without building.
func TestVerifyAndProvenanceRefusals(t *testing.T) {
	state := t.TempDir()
	ctx := context.Background()
	cat, err := sqlite.Open(ctx, filepath.Join(state, "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	img := catalog.Image{Name: "unlocked-1", Product: "unlocked", Serial: "2026120201", CreatedAt: time.Now(),
		Recipe: []byte("name: unlocked\nversion: 0.1.0\n")}
	if err := cat.AddImage(ctx, img); err != nil {
		t.Fatal(err)
	}
	cat.Close()
	tests := []struct {
		name     string
		args     []string
		code     int
		inStderr string
	}{
		{"verify unknown", []string{"verify", "nope"}, 1, "not found"},
		{"verify no name", []string{"verify"}, 2, "exactly one image"},
		{"verify unlocked", []string{"verify", "unlocked-1"}, 2, "without a lock"},
		{"verify help", []string{"verify", "--help"}, 0, "scratch directory"},
		{"provenance missing", []string{"show", "--provenance", "unlocked-1"}, 1, "has no provenance"},
		{"rebuild flag documented", []string{"build", "--help"}, 0, "-rebuild"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, nil, append([]string{"--state-dir", state}, tt.args...)...)
			if code != tt.code || !strings.Contains(errOut, tt.inStderr) {
				t.Errorf("exit %d, want %d with %q\nstdout: %s\nstderr: %s", code, tt.code, tt.inStderr, out, errOut)
			}
		})
	}
}

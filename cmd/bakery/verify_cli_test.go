package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bakery-dev/bakery/internal/build"
	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/catalog/sqlite"
	"github.com/bakery-dev/bakery/internal/treediff"
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

func TestReportVerify(t *testing.T) {
	d := func(c string) string { return "sha256:" + strings.Repeat(c, 64) }
	rep := build.VerifyReport{Image: "img", BuildID: d("0"), RebuildSeconds: 171.24,
		Outputs: []build.OutputCheck{
			{Kind: "rootfs-tar", Recorded: d("a"), Rebuilt: d("b")},
			{Kind: "qcow2", Recorded: d("c"), Rebuilt: d("c"), Identical: true},
		},
		TreeCompared: true, DifferentFiles: 12,
		Differences: []treediff.Difference{{Path: "/etc/machine-id", Change: treediff.Changed, Fields: []string{"content"}}},
	}
	var out bytes.Buffer
	g := &globals{stdout: &out}
	err := reportVerify(g, rep)
	if err == nil || !strings.Contains(err.Error(), "img does not rebuild identically") {
		t.Errorf("err %v, want a failure (exit 1)", err)
	}
	for _, want := range []string{"rebuilt:  DIFFERENT (in 171.2 s, not recorded)", "rootfs-tar DIFFERENT  recorded sha256 aaaa",
		"rebuilt  sha256 bbbb", "qcow2      identical  sha256 cccc", "root tree: 12 paths differ (the first 1):", "  /etc/machine-id: content differ"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	rep.Identical, rep.Outputs, rep.TreeCompared = true, rep.Outputs[1:], false
	out.Reset()
	g.json = true
	if err := reportVerify(g, rep); err != nil || !strings.Contains(out.String(), `"identical": true`) {
		t.Errorf("identical: %v\n%s", err, out.String())
	}
}

package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bakery-dev/bakery/internal/artifact"
	"github.com/bakery-dev/bakery/internal/boottest"
	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/catalog/catalogtest"
	"github.com/bakery-dev/bakery/internal/qemu"
)

func TestTestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	img := writeFile(t, dir, "disk.qcow2", "not really")
	tests := []struct {
		name string
		args []string
		in   string
	}{
		{"no image", []string{"test"}, "at least one image"},
		{"parallel 0", []string{"test", "--parallel", "0", img}, "--parallel 0"},
		{"parallel too high", []string{"test", "--parallel", "100000", img}, "number of CPUs"},
		{"bad accel", []string{"test", "--accel", "hvf", img}, "hvf"},
		{"missing recipe", []string{"test", "--recipe", filepath.Join(dir, "none.yaml"), img}, "none.yaml"},
		{"one of several missing", []string{"test", img, "nope"}, "nope is neither a file nor an image"},
		{"negative check timeout", []string{"test", "--check-timeout", "-1s", img}, "--check-timeout must not be negative"},
		{"missing user-data", []string{"test", "--user-data", filepath.Join(dir, "none.yaml"), img}, "--user-data: open"},
		{"user-data not cloud-config", []string{"test", "--user-data", writeFile(t, dir, "ud.sh", "#!/bin/sh\necho hi\n"), img}, "must be a #cloud-config mapping"},
		{"user-data a list", []string{"test", "--user-data", writeFile(t, dir, "ud.yaml", "#cloud-config\n- a\n"), img}, "not a mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, nil, append([]string{"--state-dir", state}, tt.args...)...)
			if code != 2 || !strings.Contains(errOut, tt.in) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut, tt.in)
			}
		})
	}
}

// testState is a state directory holding one catalog image whose qcow2 is
// a small stored blob and whose recipe lists two tests: a.sh stored with
// the image, b.sh only on disk.
func testState(t *testing.T) (*stateHandles, catalog.Image) {
	t.Helper()
	ctx := context.Background()
	g := &globals{stateDir: filepath.Join(t.TempDir(), "state"), stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{},
		getenv: func(string) (string, bool) { return "", false }}
	st, err := g.open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	img := catalogtest.Sample(1)
	img.Recipe = []byte("name: debian-cloud\nversion: 0.1.1\ntests:\n  - tests/a.sh\n  - tests/b.sh\n")
	img.Artifacts = []catalog.Artifact{
		putBlob(t, st, catalog.KindQcow2, "disk.qcow2", "qcow2 bytes"),
		putBlob(t, st, catalog.KindTestScript, "tests/a.sh", "#!/bin/sh\necho stored\n"),
	}
	if err := st.catalog.AddImage(ctx, img); err != nil {
		t.Fatal(err)
	}
	return st, img
}

func putBlob(t *testing.T, st *stateHandles, kind, name, content string) catalog.Artifact {
	t.Helper()
	d, n, err := artifact.Digest(strings.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.store.Put(context.Background(), d, strings.NewReader(content)); err != nil {
		t.Fatal(err)
	}
	return catalog.Artifact{Kind: kind, Filename: name, Digest: d, Size: n}
}

func TestResolveTarget(t *testing.T) {
	st, img := testState(t)
	ctx := context.Background()
	testsDir := t.TempDir()
	writeFile(t, mkdirAll(t, filepath.Join(testsDir, "tests")), "b.sh", "#!/bin/sh\necho on disk\n")

	byName, err := resolveTarget(ctx, st, img.Name, testFlags{testsDir: testsDir})
	if err != nil {
		t.Fatal(err)
	}
	if byName.image == nil || byName.image.Name != img.Name || byName.release().BuildID != img.BuildID {
		t.Fatalf("by name: %+v", byName)
	}
	if len(byName.scripts) != 2 || string(byName.scripts[0].Content) != "#!/bin/sh\necho stored\n" ||
		string(byName.scripts[1].Content) != "#!/bin/sh\necho on disk\n" || byName.scripts[1].Missing != "" {
		t.Errorf("scripts %+v", byName.scripts)
	}
	link := filepath.Join(t.TempDir(), "link.qcow2")
	if err := os.Link(byName.path, link); err != nil {
		t.Fatal(err)
	}
	byPath, err := resolveTarget(ctx, st, link, testFlags{testsDir: t.TempDir()})
	if err != nil || byPath.image == nil || byPath.image.Name != img.Name || byPath.path != link {
		t.Fatalf("by a link to the catalog's file: %+v, %v", byPath, err)
	}
	if byPath.scripts[1].Missing == "" || !strings.Contains(byPath.scripts[1].Missing, "--tests-dir") {
		t.Errorf("a script that is nowhere: %+v", byPath.scripts[1])
	}
	other := writeFile(t, t.TempDir(), "other.qcow2", "qcow2 bytes") // same content, another file
	if plain, err := resolveTarget(ctx, st, other, testFlags{}); err != nil || plain.image != nil || plain.release() != nil || len(plain.scripts) != 0 {
		t.Errorf("a file that is no catalog image: %+v, %v", plain, err)
	}
}

func TestKeepResultsRecordsTheVerdict(t *testing.T) {
	st, img := testState(t)
	ctx := context.Background()
	work := t.TempDir()
	console := writeFile(t, work, "console-bios.log", "SeaBIOS\r\nlogin: ")
	rep := boottest.Report{Image: "x", Accel: qemu.TCG, Started: time.Now(), Duration: time.Minute,
		Boots:  []boottest.Boot{{Firmware: qemu.BIOS, Passed: true, BootToSSH: 40 * time.Second, ConsoleLog: console}},
		Checks: []boottest.Check{{Name: "boot", Firmware: qemu.BIOS, Passed: true, Evidence: "SSH answered"}}}
	rep.Passed = true
	qaDir := filepath.Join(st.dir, "images", img.Name, "qa")
	stale := writeFile(t, mkdirAll(t, qaDir), "console-uefi.log", "an earlier run")
	target := &testTarget{arg: img.Name, path: "x", image: &img}
	kept, err := keepResults(ctx, st, target, rep, work, "")
	if err != nil {
		t.Fatal(err)
	}
	qa, err := st.catalog.LatestQA(ctx, img.Name)
	if err != nil || !qa.Passed || qa.BootToSSH != 40*time.Second || len(qa.Artifacts) != 3 {
		t.Fatalf("recorded %+v, %v", qa, err)
	}
	for _, key := range []string{catalog.KindQAReport, catalog.KindQAJUnit, "console-bios"} {
		if _, err := os.Stat(kept[key]); err != nil || !strings.HasPrefix(kept[key], qaDir) {
			t.Errorf("%s kept at %q: %v", key, kept[key], err)
		}
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an earlier run's console is still linked: %v", err)
	}
	if data, _ := os.ReadFile(kept[catalog.KindQAJUnit]); !bytes.Contains(data, []byte(`<testcase name="boot" classname="bakery.bios"`)) {
		t.Errorf("junit: %s", data)
	}
	out := t.TempDir()
	plain := &testTarget{arg: "/x/disk.qcow2", path: "/x/disk.qcow2"}
	kept, err = keepResults(ctx, st, plain, rep, work, out)
	if err != nil || kept["console-bios"] != filepath.Join(out, "disk", "console-bios.log") {
		t.Errorf("--out: %v %v", kept, err)
	}
}

func mkdirAll(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

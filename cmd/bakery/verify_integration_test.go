package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bakery-dev/bakery/internal/build"
	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/lock"
	"github.com/bakery-dev/bakery/internal/provenance"
)

// checkReuse builds the lock of the shared image again (from a copy of the
// recipe, every mirror refusing connections): the catalog already has that
// build ID, so bakery reuses the image instead of building.
func checkReuse(t *testing.T, state, recipeFile string, env map[string]string, first builtImage) {
	code, out, errOut := runCLI(t, env, "--state-dir", state, "--json", "build", recipeFile)
	if code != 0 {
		t.Fatalf("build of a recorded lock: exit %d\n%s\n%s", code, out, tail(errOut, 20))
	}
	var got struct {
		builtImage
		Reused bool `json:"reused"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if !got.Reused || got.Image.Name != first.Image.Name || got.Image.BuildID != first.Image.BuildID {
		t.Errorf("build of a recorded lock: reused %v, image %s (%s), want the recorded %s", got.Reused, got.Image.Name, got.Image.BuildID, first.Image.Name)
	}
	if strings.Contains(errOut, `"stage":"bootstrap"`) || !strings.Contains(errOut, `"stage":"reuse"`) {
		t.Errorf("a reused build ran the bootstrap or did not say it reused:\n%s", tail(errOut, 20))
	}
	imgs := listImages(t, state)
	if len(imgs) != 1 {
		t.Errorf("catalog has %d images after a reuse, want 1", len(imgs))
	}
}

func listImages(t *testing.T, state string) []catalog.Image {
	t.Helper()
	code, out, errOut := runCLI(t, nil, "--state-dir", state, "--json", "images")
	if code != 0 {
		t.Fatalf("images: exit %d %s", code, errOut)
	}
	var imgs []catalog.Image
	if err := json.Unmarshal([]byte(out), &imgs); err != nil {
		t.Fatal(err)
	}
	return imgs
}

// checkVerify rebuilds the shared image with bakery verify, from its
// stored lock and recipe, with every mirror refusing connections (the
// host's through a scratch apt configuration): all three outputs must be
// identical, nothing recorded and the scratch directory gone.
func checkVerify(t *testing.T, state string, env map[string]string, first builtImage) (build.VerifyReport, string) {
	apt := t.TempDir()
	writeFile(t, apt, "sources.list", "deb "+refused+"/debian bookworm main\ndeb "+refused+"/debian-security bookworm-security main\n")
	before := len(listImages(t, state))
	code, out, errOut := runCLI(t, env, "--state-dir", state, "--json", "verify", "--apt-config", apt, first.Image.Name)
	if code != 0 {
		t.Fatalf("verify: exit %d\n%s\n%s", code, out, tail(errOut, 40))
	}
	var rep build.VerifyReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("verify --json: %v\n%s", err, out)
	}
	kinds := map[string]bool{}
	for _, c := range rep.Outputs {
		kinds[c.Kind] = c.Identical && c.Rebuilt == c.Recorded
	}
	if !rep.Identical || len(kinds) != 3 || !kinds["rootfs-tar"] || !kinds["raw"] || !kinds["qcow2"] || rep.TreeCompared {
		t.Errorf("verify report %+v, want three identical outputs", rep)
	}
	t.Logf("verify: rebuilt %s in %.1f s, identical", rep.Image, rep.RebuildSeconds)
	for _, stage := range []string{`"stage":"bootstrap"`, `"stage":"compare"`} {
		if !strings.Contains(errOut, stage) {
			t.Errorf("verify progress lacks %s", stage)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(state, "work", "verify-*")); len(left) != 0 {
		t.Errorf("scratch directories left behind: %v", left)
	}
	if imgs := listImages(t, state); len(imgs) != before {
		t.Errorf("catalog has %d images after verify, %d before", len(imgs), before)
	}
	return rep, errOut
}

// checkInterruptedVerify cancels a verify in the middle of its rebuild (as
// Ctrl-C does): the scratch directory and root tree must be gone.
func checkInterruptedVerify(t *testing.T, state string, first builtImage) {
	trees := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	g := &globals{stdout: &out, stderr: &errb, getenv: func(string) (string, bool) { return "", false }}
	code := runWith(ctx, g, []string{"--state-dir", state, "verify", "--tree-dir", trees, first.Image.Name})
	if code != 1 || !strings.Contains(errb.String(), "interrupted") && !strings.Contains(errb.String(), "context deadline") {
		t.Errorf("interrupted verify: exit %d, want 1 naming the interruption:\n%s", code, tail(errb.String(), 10))
	}
	if left, _ := filepath.Glob(filepath.Join(state, "work", "verify-*")); len(left) != 0 {
		t.Errorf("scratch directories left behind: %v", left)
	}
	assertEmptyDir(t, trees)
}

// TestIntegrationProvenance reads the shared image's provenance and lock
// artifacts: the subjects are its outputs with their digests, every locked
// package and suite is a dependency with its digest, and the kept lock is
// the one it was built from.
func TestIntegrationProvenance(t *testing.T) {
	s := sharedLocked(t)
	img := s.b.Image
	code, out, errOut := runCLI(t, nil, "--state-dir", s.state, "show", "--provenance", img.Name)
	if code != 0 {
		t.Fatalf("show --provenance: exit %d %s", code, errOut)
	}
	st, err := provenance.Parse([]byte(out))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	checkSubjects(t, st, img)
	checkDependencies(t, st, s.lock)
	p := st.Predicate
	if p.RunDetails.Metadata.InvocationID != img.BuildID || p.RunDetails.Builder.Version["bakery"] == "" || p.RunDetails.Builder.Version["mmdebstrap"] == "" {
		t.Errorf("run details %+v", p.RunDetails)
	}
	ext := p.BuildDefinition.ExternalParameters
	want, _ := s.lock.Digest()
	if ext.Recipe.Digest != img.RecipeDigest || ext.Lock == nil || ext.Lock.Digest != want || ext.Recipe.Dir != filepath.Dir(s.recipe) {
		t.Errorf("external parameters: recipe %s in %s, lock %+v; want %s in %s, lock %s", ext.Recipe.Digest, ext.Recipe.Dir, ext.Lock, img.RecipeDigest, filepath.Dir(s.recipe), want)
	}
	kept, err := os.ReadFile(s.b.Paths[catalog.KindLock])
	if err != nil {
		t.Fatalf("lock artifact: %v", err)
	}
	l, err := lock.Decode(kept)
	if d, _ := l.Digest(); err != nil || d != want {
		t.Errorf("kept lock: %v, digest %s, want %s", err, d, want)
	}
	for _, a := range img.Artifacts {
		if a.Kind == catalog.KindLock && a.Digest != want {
			t.Errorf("lock artifact %s has digest %s, want the lock's digest %s (the file is the canonical encoding)", a.Filename, a.Digest, want)
		}
	}
}

func checkSubjects(t *testing.T, st provenance.Statement, img catalog.Image) {
	t.Helper()
	subjects := map[string]string{}
	for _, s := range st.Subject {
		subjects[s.Name] = s.Digest["sha256"]
	}
	n := 0
	for _, a := range img.Artifacts {
		switch a.Kind {
		case catalog.KindQcow2, catalog.KindRaw, catalog.KindRootfsTar, catalog.KindManifest, catalog.KindSBOM:
			n++
			if subjects[a.Filename] != build.Checksum(a.Digest) {
				t.Errorf("subject %s: %q, want %s", a.Filename, subjects[a.Filename], build.Checksum(a.Digest))
			}
		}
	}
	if n != 5 || len(subjects) != 5 {
		t.Errorf("%d subjects for %d outputs, want 5: %v", len(subjects), n, subjects)
	}
}

func checkDependencies(t *testing.T, st provenance.Statement, l *lock.Lock) {
	t.Helper()
	byLocation, byURI := map[string]string{}, map[string]string{}
	for _, d := range st.Predicate.BuildDefinition.ResolvedDependencies {
		byLocation[d.DownloadLocation], byURI[d.URI] = d.Digest["sha256"], d.Digest["sha256"]
	}
	archives := map[string]string{}
	for _, s := range l.Suites {
		archives[s.Name] = strings.TrimRight(s.URI, "/")
		if byURI[archives[s.Name]+"/dists/"+s.Name+"/InRelease"] != s.InReleaseSHA256 {
			t.Errorf("suite %s's InRelease is not a dependency with sha256 %s", s.Name, s.InReleaseSHA256)
		}
	}
	for _, p := range l.Packages {
		if byLocation[archives[p.Suite]+"/"+p.Filename] != p.SHA256 {
			t.Errorf("package %s %s (sha256 %s) is not a dependency", p.Name, p.Version, p.SHA256)
		}
	}
	if n := len(st.Predicate.BuildDefinition.ResolvedDependencies); n != len(l.Packages)+len(l.Suites) {
		t.Errorf("%d dependencies, want %d packages + %d suites", n, len(l.Packages), len(l.Suites))
	}
}

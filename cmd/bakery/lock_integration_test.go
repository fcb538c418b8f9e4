package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bakery-dev/bakery/internal/artifact"
	"github.com/bakery-dev/bakery/internal/lock"
)

// refused is a mirror address that refuses connections (the discard port
// on the loopback, where nothing listens).
const refused = "http://127.0.0.1:9"

// TestIntegrationLockedRebuildOffline locks examples/debian-cloud.yaml
// against the real mirror, builds it, then builds it again with both
// mirrors pointing at an address that refuses connections: the second
// build installs from the input archive alone. It also checks that a
// corrupted archive entry is detected and that a stale lock is refused.
func TestIntegrationLockedRebuildOffline(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: real lock and two real mmdebstrap builds")
	}
	if os.Getuid() != 0 {
		t.Skip("needs root")
	}
	state, err := os.MkdirTemp("/var/tmp", "bakery-test-locked-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(state) })
	dir := t.TempDir()
	recipeFile := filepath.Join(dir, "debian-cloud.yaml")
	data, err := os.ReadFile("../../examples/debian-cloud.yaml")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "debian-cloud.yaml", string(data))
	env := map[string]string{"BAKERY_OUTPUTS": "qcow2,raw,rootfs-tar"}

	l := lockRecipeCLI(t, state, recipeFile)
	first := buildCLI(t, env, state, recipeFile)

	// Offline: both archives refuse connections (the mirror through the
	// environment, the security archive through the recipe).
	writeFile(t, dir, "debian-cloud.yaml", string(data)+"\nsecurity_mirror: "+refused+"/debian-security\n")
	offline := map[string]string{"BAKERY_OUTPUTS": env["BAKERY_OUTPUTS"], "BAKERY_MIRROR": refused + "/debian"}
	t.Run("corrupt archive entry is refused", func(t *testing.T) { checkCorruptInput(t, state, recipeFile, offline, l) })
	second := buildCLI(t, offline, state, recipeFile)

	if first.Image.BuildID != second.Image.BuildID {
		t.Errorf("build IDs differ: %s vs %s", first.Image.BuildID, second.Image.BuildID)
	}
	checkInstalledMatchesLock(t, second, l)
	compareOutputs(t, first, second)

	t.Run("stale lock", func(t *testing.T) {
		writeFile(t, dir, "debian-cloud.yaml", strings.Replace(string(data), "  - vim-tiny\n", "  - vim-tiny\n  - htop\n", 1))
		code, _, errOut := runCLI(t, env, "--state-dir", state, "build", recipeFile)
		if code != 2 || !strings.Contains(errOut, "bakery lock") || !strings.Contains(errOut, "htop") {
			t.Errorf("stale lock: exit %d, want 2 with a hint:\n%s", code, errOut)
		}
	})
}

func lockRecipeCLI(t *testing.T, state, recipeFile string) *lock.Lock {
	t.Helper()
	code, out, errOut := runCLI(t, nil, "--state-dir", state, "--json", "lock", recipeFile)
	if code != 0 {
		t.Fatalf("lock: exit %d\n%s\n%s", code, out, tail(errOut, 40))
	}
	var rep lockReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || !rep.Written {
		t.Fatalf("lock --json: %v\n%s", err, out)
	}
	t.Logf("locked %d packages in %d ms", rep.Packages, rep.ElapsedMS)
	l, err := lock.Load(lock.PathFor(recipeFile))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func buildCLI(t *testing.T, env map[string]string, state, recipeFile string) builtImage {
	t.Helper()
	code, out, errOut := runCLI(t, env, "--state-dir", state, "--json", "build", recipeFile)
	if code != 0 {
		t.Fatalf("build: exit %d\n%s\n%s", code, out, tail(errOut, 60))
	}
	var b builtImage
	if err := json.Unmarshal([]byte(out), &b); err != nil {
		t.Fatalf("build --json output: %v\n%s", err, out)
	}
	t.Logf("built %s in %s", b.Image.Name, b.Image.BuildDuration)
	return b
}

// checkCorruptInput damages one archived .deb: with no mirror to fetch it
// again the build must fail naming the package, and the damaged file must
// be gone. The good file is put back afterwards.
func checkCorruptInput(t *testing.T, state, recipeFile string, env map[string]string, l *lock.Lock) {
	p := l.Packages[len(l.Packages)/2]
	hex := p.SHA256
	path := filepath.Join(state, "inputs", "debs", "sha256", hex[:2], hex)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append([]byte("corrupt"), good...), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCLI(t, env, "--state-dir", state, "build", recipeFile)
	if code == 0 || !strings.Contains(errOut, p.Name+" "+p.Version) {
		t.Errorf("build with a corrupt %s: exit %d, want a failure naming it:\n%s", p.Name, code, tail(errOut, 20))
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("corrupt archive entry kept: %v", err)
	}
	if err := os.WriteFile(path, good, 0o444); err != nil {
		t.Fatal(err)
	}
}

func checkInstalledMatchesLock(t *testing.T, b builtImage, l *lock.Lock) {
	t.Helper()
	locked := map[string]string{}
	for _, p := range l.Packages {
		locked[p.Name] = p.Version
	}
	for _, p := range b.Image.Packages {
		if v, ok := locked[p.Name]; !ok || v != p.Version {
			t.Errorf("installed %s %s, the lock has %q", p.Name, p.Version, v)
		}
		delete(locked, p.Name)
	}
	for name, v := range locked {
		t.Errorf("locked %s %s was not installed", name, v)
	}
}

// compareOutputs asserts that the two builds of one lock gave the same
// rootfs tarball, raw disk and qcow2, byte for byte.
func compareOutputs(t *testing.T, a, b builtImage) {
	t.Helper()
	digests := func(img builtImage) map[string]string {
		m := map[string]string{}
		for _, art := range img.Image.Artifacts {
			m[art.Kind] = art.Digest
		}
		return m
	}
	da, db := digests(a), digests(b)
	var diffs []string
	for _, kind := range []string{"rootfs-tar", "raw", "qcow2"} {
		if err := artifact.ValidateDigest(da[kind]); err != nil {
			t.Errorf("%s: %v", kind, err)
		}
		if da[kind] != db[kind] {
			diffs = append(diffs, fmt.Sprintf("%s: %s vs %s", kind, da[kind], db[kind]))
		}
	}
	if len(diffs) > 0 {
		t.Errorf("two builds of one lock differ:\n%s", strings.Join(diffs, "\n"))
	}
}

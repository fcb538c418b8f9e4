package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/bakery-dev/bakery/internal/artifact"
	"github.com/bakery-dev/bakery/internal/lock"
	"github.com/bakery-dev/bakery/internal/runner"
)

// refused is a mirror address that refuses connections (the discard port
// on the loopback, where nothing listens).
const refused = "http://127.0.0.1:9"

// TestIntegrationLockedRebuildOffline takes the shared image (a locked
// build of examples/debian-cloud.yaml against the real mirror) and builds
// its lock again with both mirrors pointing at an address that refuses
// connections: the second build installs from the input archive alone and
// must be identical, bit for bit. The stage cache entry the first build
// stored is corrupted beforehand, so the second build also shows that a
// corrupt entry is detected, discarded and made again (mmdebstrap runs).
// A third build then restores the bootstrap from the stage cache: it must
// be faster and identical too. It also checks that a corrupted archive
// entry is detected and that a stale lock is refused.
func TestIntegrationLockedRebuildOffline(t *testing.T) {
	s := sharedLocked(t)
	first, state, l := s.b, s.state, s.lock
	checkInstalledMatchesLock(t, first, l)

	// Offline: both archives refuse connections (the mirror through the
	// environment, the security archive through a copy of the recipe).
	dir := t.TempDir()
	data, err := os.ReadFile(s.recipe)
	if err != nil {
		t.Fatal(err)
	}
	recipeFile := writeFile(t, dir, "debian-cloud.yaml", string(data)+"\nsecurity_mirror: "+refused+"/debian-security\n")
	copyLock(t, s.recipe, recipeFile)
	offline := map[string]string{"BAKERY_OUTPUTS": "qcow2,raw,rootfs-tar", "BAKERY_MIRROR": refused + "/debian"}
	t.Run("corrupt archive entry is refused", func(t *testing.T) { checkCorruptInput(t, state, recipeFile, offline, l) })
	entry := corruptCacheEntry(t, state)
	second, events := buildCLIEvents(t, offline, state, recipeFile)
	if !strings.Contains(events, "cache entry "+entry[:12]+" is corrupt, discarded") || !strings.Contains(events, "stored in cache") {
		t.Errorf("the corrupt stage cache entry was not reported, discarded and stored again:\n%s", cacheEvents(events))
	}

	if first.Image.BuildID != second.Image.BuildID {
		t.Errorf("build IDs differ: %s vs %s", first.Image.BuildID, second.Image.BuildID)
	}
	checkInstalledMatchesLock(t, second, l)
	compareOutputs(t, first, second)

	t.Run("warm rebuild from the stage cache", func(t *testing.T) {
		warm, events := buildCLIEvents(t, offline, state, recipeFile)
		if !strings.Contains(events, "restored from cache (key "+entry[:12]) {
			t.Errorf("the bootstrap was not restored from the stage cache:\n%s", cacheEvents(events))
		}
		if warm.Image.BuildDuration >= first.Image.BuildDuration {
			t.Errorf("warm rebuild took %s, the cold build %s", warm.Image.BuildDuration, first.Image.BuildDuration)
		}
		t.Logf("cold build %s, warm rebuild %s", first.Image.BuildDuration, warm.Image.BuildDuration)
		compareOutputs(t, first, warm)
		checkCacheLs(t, state, entry)
	})

	t.Run("stale lock", func(t *testing.T) {
		stale := writeFile(t, dir, "debian-cloud.yaml", strings.Replace(string(data), "  - vim-tiny\n", "  - vim-tiny\n  - htop\n", 1))
		code, _, errOut := runCLI(t, offline, "--state-dir", state, "build", stale)
		if code != 2 || !strings.Contains(errOut, "bakery lock") || !strings.Contains(errOut, "htop") {
			t.Errorf("stale lock: exit %d, want 2 with a hint:\n%s", code, errOut)
		}
	})
}

// corruptCacheEntry flips bytes in the middle of the one stage cache
// entry (the shared build's bootstrap) and returns its key.
func corruptCacheEntry(t *testing.T, state string) string {
	t.Helper()
	archives, _ := filepath.Glob(filepath.Join(state, "cache", "stages", "*", "tree.tar.zst"))
	if len(archives) != 1 {
		t.Fatalf("stage cache entries after the first build: %v, want one", archives)
	}
	f, err := os.OpenFile(archives[0], os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, _ := f.Stat()
	if _, err := f.WriteAt([]byte("corrupt!"), info.Size()/2); err != nil {
		t.Fatal(err)
	}
	return filepath.Base(filepath.Dir(archives[0]))
}

// cacheEvents picks the stage cache's progress messages out of a build's
// JSON event lines.
func cacheEvents(events string) string {
	var out []string
	for _, line := range strings.Split(events, "\n") {
		if strings.Contains(line, "cache") {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

func checkCacheLs(t *testing.T, state, key string) {
	t.Helper()
	code, out, errOut := runCLI(t, nil, "--state-dir", state, "--json", "cache", "ls")
	var entries []struct {
		Key, Stage string
		Size       int64
	}
	if code != 0 || json.Unmarshal([]byte(out), &entries) != nil {
		t.Fatalf("cache ls: exit %d\n%s\n%s", code, out, errOut)
	}
	if len(entries) != 1 || entries[0].Key != key || entries[0].Stage != "bootstrap" || entries[0].Size <= 0 {
		t.Errorf("cache ls = %s, want the bootstrap entry %s", out, key)
	}
}

func buildCLIEvents(t *testing.T, env map[string]string, state, recipeFile string) (builtImage, string) {
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
	return b, errOut
}

func copyLock(t *testing.T, fromRecipe, toRecipe string) {
	t.Helper()
	data, err := os.ReadFile(lock.PathFor(fromRecipe))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(lock.PathFor(toRecipe), data, 0o644); err != nil {
		t.Fatal(err)
	}
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

// compareOutputs compares two builds of one lock: their root trees must be
// identical (content, type, mode, owners, times) and so must the rootfs
// tarball, the raw disk and the qcow2, byte for byte.
func compareOutputs(t *testing.T, a, b builtImage) {
	t.Helper()
	ctx := context.Background()
	ta := extractRootfs(t, ctx, runner.Exec{}, a.Paths["rootfs-tar"])
	tb := extractRootfs(t, ctx, runner.Exec{}, b.Paths["rootfs-tar"])
	for _, d := range treeDiff(t, ta, tb) {
		t.Errorf("root trees of two builds of one lock differ at /%s", d)
	}
	da, db := digests(a), digests(b)
	for _, kind := range []string{"rootfs-tar", "raw", "qcow2"} {
		if err := artifact.ValidateDigest(da[kind]); err != nil {
			t.Errorf("%s: %v", kind, err)
		}
		if da[kind] != db[kind] {
			t.Errorf("two builds of one lock differ: %s %s vs %s", kind, da[kind], db[kind])
		} else {
			t.Logf("%s identical: %s", kind, da[kind])
		}
	}
}

func digests(img builtImage) map[string]string {
	m := map[string]string{}
	for _, art := range img.Image.Artifacts {
		m[art.Kind] = art.Digest
	}
	return m
}

// treeDiff lists the paths (relative) whose type, mode, owner, size,
// modification time, link target or content differ between two trees, or
// that exist in only one of them.
func treeDiff(t *testing.T, a, b string) []string {
	t.Helper()
	ea, eb := treeEntries(t, a), treeEntries(t, b)
	var diffs []string
	for p, x := range ea {
		if y, ok := eb[p]; !ok || x != y {
			diffs = append(diffs, p)
		}
	}
	for p := range eb {
		if _, ok := ea[p]; !ok {
			diffs = append(diffs, p)
		}
	}
	sort.Strings(diffs)
	return diffs
}

func treeEntries(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		var st syscall.Stat_t
		if err := syscall.Lstat(path, &st); err != nil {
			return err
		}
		desc := fmt.Sprintf("%o %d:%d %d %d %d", st.Mode, st.Uid, st.Gid, st.Size, st.Mtim.Sec, st.Rdev)
		switch {
		case d.Type()&os.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			desc += " -> " + target
		case d.Type().IsRegular():
			sum, _, err := artifact.DigestFile(path)
			if err != nil {
				return err
			}
			desc += " " + sum
		}
		out[rel] = desc
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

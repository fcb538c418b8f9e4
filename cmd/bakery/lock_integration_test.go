package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bakery-dev/bakery/internal/lock"
)

// refused is a mirror address that refuses connections (the discard port
// on the loopback, where nothing listens).
const refused = "http://127.0.0.1:9"

// TestIntegrationLockedRebuildOffline takes the shared image (a locked
// build of examples/debian-cloud.yaml against the real mirror) and
// rebuilds it from its stored lock with `bakery verify`, both mirrors
// pointing at an address that refuses connections: the rebuild installs
// from the input archive alone and must be identical, bit for bit. The
// stage cache entry the first build stored is corrupted beforehand, so the
// rebuild also shows that a corrupt entry is detected, discarded and made
// again (mmdebstrap runs); a second verify then restores the bootstrap
// from the stage cache and must be faster and identical too. On the way it
// checks that building the same lock again reuses the recorded image, that
// a corrupted archive entry is detected (build --rebuild) and that a stale
// lock is refused.
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
	t.Run("same lock is reused", func(t *testing.T) { checkReuse(t, state, recipeFile, offline, first) })
	t.Run("corrupt archive entry is refused", func(t *testing.T) { checkCorruptInput(t, state, recipeFile, offline, l) })
	t.Run("interrupted verify leaves nothing", func(t *testing.T) { checkInterruptedVerify(t, state, first) })
	entry := corruptCacheEntry(t, state)
	t.Run("verify offline, corrupt cache entry rebuilt", func(t *testing.T) {
		_, events := checkVerify(t, state, offline, first)
		if !strings.Contains(events, "cache entry "+entry[:12]+" is corrupt, discarded") || !strings.Contains(events, "stored in cache") {
			t.Errorf("the corrupt stage cache entry was not reported, discarded and stored again:\n%s", cacheEvents(events))
		}
	})

	t.Run("warm verify from the stage cache", func(t *testing.T) {
		rep, events := checkVerify(t, state, offline, first)
		if !strings.Contains(events, "restored from cache (key "+entry[:12]) {
			t.Errorf("the bootstrap was not restored from the stage cache:\n%s", cacheEvents(events))
		}
		if warm := time.Duration(rep.RebuildSeconds * float64(time.Second)); warm >= first.Image.BuildDuration {
			t.Errorf("warm rebuild took %s, the cold build %s", warm, first.Image.BuildDuration)
		}
		t.Logf("cold build %s, warm rebuild %.1f s", first.Image.BuildDuration, rep.RebuildSeconds)
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
// again the rebuild (build --rebuild, as the catalog has this build) must
// fail naming the package, and the damaged file must be gone. The good
// file is put back afterwards.
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
	code, _, errOut := runCLI(t, env, "--state-dir", state, "build", "--rebuild", recipeFile)
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

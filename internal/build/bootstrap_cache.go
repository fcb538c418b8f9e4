package build

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/bakery-dev/bakery/internal/lock"
	"github.com/bakery-dev/bakery/internal/progress"
	"github.com/bakery-dev/bakery/internal/stagecache"
)

// StageCacheSalt is mixed into every stage cache key; bump it when a
// change to bakery (or a bug in an older one) makes cached trees wrong.
const StageCacheSalt = "bakery-stage-cache-1"

// Cache states shown in the plan.
const (
	CacheHit      = "hit"      // an entry exists (it is verified before use)
	CacheMiss     = "miss"     // no entry: the stage runs and stores one
	CacheOff      = "off"      // the cache is disabled for this build
	CacheUnlocked = "unlocked" // unlocked builds are not cached: their package set is known only after mmdebstrap resolved it
)

// BootstrapKey is the stage cache key of a locked build's bootstrap: the
// sha256 of everything that shapes the tree mmdebstrap makes — the salt,
// release, architecture and components, the requested packages (they decide
// which packages apt marks as manually installed), the locked closure
// (name, version, architecture and sha256 of each package), the apt sources
// written into the image, the mmdebstrap version and SOURCE_DATE_EPOCH.
// The image's name, version and serial, the mirror the packages were
// fetched from and all later stages are not part of it. Unlocked builds
// have no key ("").
func BootstrapKey(s Bootstrap, l *lock.Lock, tools map[string]string) string {
	if l == nil {
		return ""
	}
	h := sha256.New()
	fmt.Fprintf(h, "salt %s\nrelease %s\narch %s\ncomponents %s\n", StageCacheSalt, s.Release, s.Arch, strings.Join(s.components(), " "))
	fmt.Fprintf(h, "include %s\n", strings.Join(sortedUnique(s.Packages), ","))
	for _, p := range l.Packages { // sorted by the lock's canonical form
		fmt.Fprintf(h, "package %s %s %s %s\n", p.Name, p.Version, p.Architecture, p.SHA256)
	}
	for _, src := range s.Sources() {
		fmt.Fprintf(h, "source %s\n", src)
	}
	fmt.Fprintf(h, "mmdebstrap %s\nsource-date-epoch %d\n", tools["mmdebstrap"], s.SourceDateEpoch)
	return hex.EncodeToString(h.Sum(nil))
}

// bootstrapCacheState says whether the plan's bootstrap will come from the
// cache (without verifying the entry: that happens when it is used).
func bootstrapCacheState(c *stagecache.Cache, key string) string {
	switch {
	case key == "":
		return CacheUnlocked
	case c == nil:
		return CacheOff
	}
	if _, err := c.Lookup(key); err == nil {
		return CacheHit
	}
	return CacheMiss
}

// restore fills the workspace's tree from the stage cache. It reports
// false (and leaves no tree behind) when there is no usable entry; a
// corrupt entry has then been discarded.
func (s Bootstrap) restore(ctx context.Context, ws *Workspace) bool {
	start := time.Now()
	e, err := ws.StageCache.Restore(ctx, s.CacheKey, ws.Tree)
	switch {
	case err == nil:
		s.info(ws, fmt.Sprintf("restored from cache (key %s, %s, in %.1fs)", short(s.CacheKey), sizeText(e.Size), time.Since(start).Seconds()))
		return true
	case errors.Is(err, stagecache.ErrNotFound):
		s.info(ws, fmt.Sprintf("not in cache (key %s): running mmdebstrap", short(s.CacheKey)))
	case errors.Is(err, stagecache.ErrCorrupt):
		s.info(ws, fmt.Sprintf("warning: cache entry %s is corrupt, discarded; running mmdebstrap (%v)", short(s.CacheKey), err))
	default:
		ws.Logger.Warn("stage cache: restore failed; bootstrapping instead", "key", s.CacheKey, "err", err)
		s.info(ws, fmt.Sprintf("warning: restoring cache entry %s failed; running mmdebstrap (%v)", short(s.CacheKey), err))
	}
	_ = os.RemoveAll(ws.Tree)
	return false
}

// settle replaces the tree mmdebstrap made by one extracted from its tar
// archive, as a cached rebuild gets it (see stagecache.CopyTree): from the
// stage cache entry it stores, or, with the cache off or failing, through a
// pipe.
func (s Bootstrap) settle(ctx context.Context, ws *Workspace) error {
	start := time.Now()
	fresh := ws.Tree + ".settled"
	if s.cached(ws) && s.storeAndRestore(ctx, ws, fresh) {
		s.info(ws, fmt.Sprintf("stored in cache and restored (key %s, in %.1fs)", short(s.CacheKey), time.Since(start).Seconds()))
	} else if err := stagecache.CopyTree(ctx, ws.Runner, ws.Tree, fresh); err != nil {
		return err
	}
	if err := removeTree(ws.Tree); err != nil {
		return err
	}
	if err := os.Rename(fresh, ws.Tree); err != nil {
		return fmt.Errorf("settling the bootstrapped tree: %w", err)
	}
	return nil
}

// storeAndRestore keeps the tree in the stage cache and extracts the new
// entry into dir. A failure is logged, not fatal: the caller copies the
// tree instead.
func (s Bootstrap) storeAndRestore(ctx context.Context, ws *Workspace, dir string) bool {
	if _, err := ws.StageCache.Store(ctx, s.CacheKey, s.Name(), ws.Tree); err != nil {
		ws.Logger.Warn("stage cache: storing the bootstrap failed", "key", s.CacheKey, "err", err)
		return false
	}
	if _, err := ws.StageCache.Restore(ctx, s.CacheKey, dir); err != nil {
		ws.Logger.Warn("stage cache: restoring the stored bootstrap failed", "key", s.CacheKey, "err", err)
		_ = os.RemoveAll(dir)
		return false
	}
	return true
}

func (s Bootstrap) info(ws *Workspace, msg string) {
	ws.Progress.Emit(progress.Event{Time: time.Now(), Kind: progress.Info, Stage: s.Name(), Message: msg})
}

func (s Bootstrap) cached(ws *Workspace) bool { return s.CacheKey != "" && ws.StageCache != nil }

func short(key string) string {
	if len(key) > 12 {
		return key[:12]
	}
	return key
}

func sizeText(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

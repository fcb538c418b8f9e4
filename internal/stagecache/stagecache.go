// Package stagecache keeps the results of expensive build stages (the
// bootstrapped root tree) between builds, keyed by the sha256 of the
// stage's inputs, so a rebuild whose inputs did not change restores the
// tree instead of making it again.
//
// Each entry is a directory DIR/<key>/ holding the tree as a POSIX tar
// archive compressed with zstd (tree.tar.zst: owners, modes, xattrs,
// hardlinks, device nodes and nanosecond mtimes survive the round trip)
// and entry.json, which records the archive's sha256 and size. Entries are
// written to a temporary directory, synced and renamed into place; the
// digest is checked on every restore, and an entry that fails the check
// (or whose metadata is unreadable) is deleted and reported as ErrCorrupt,
// never used. The cache is kept under a size limit by evicting the least
// recently used entries first.
package stagecache

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/bakery-dev/bakery/internal/artifact"
	"github.com/bakery-dev/bakery/internal/runner"
)

// Errors returned by Restore (wrapped; compare with errors.Is).
var (
	ErrNotFound = errors.New("no stage cache entry")
	ErrCorrupt  = errors.New("corrupt stage cache entry (discarded)")
	ErrBadKey   = errors.New("invalid stage cache key")
)

const (
	archiveName = "tree.tar.zst"
	entryName   = "entry.json"
	tmpPrefix   = ".tmp-"
)

// DefaultMaxBytes is the default size limit of a cache.
const DefaultMaxBytes = 20 << 30

// Options configure a cache.
type Options struct {
	Dir      string // e.g. STATE/cache/stages
	MaxBytes int64  // evict least recently used entries beyond this total; 0 = no limit
	Runner   runner.Runner
	Logger   *slog.Logger
	Now      func() time.Time
}

// Cache is a directory of stage cache entries.
type Cache struct {
	o Options
}

// Entry describes one cached stage result.
type Entry struct {
	Key      string    `json:"key"`    // 64 hex digits: sha256 of the stage's inputs
	Stage    string    `json:"stage"`  // e.g. bootstrap
	Digest   string    `json:"digest"` // sha256:… of tree.tar.zst
	Size     int64     `json:"size"`   // bytes of tree.tar.zst
	Created  time.Time `json:"created"`
	LastUsed time.Time `json:"last_used"`
}

// Open returns the cache in o.Dir, creating the directory.
func Open(o Options) (*Cache, error) {
	if o.Dir == "" {
		return nil, errors.New("opening stage cache: no directory")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Runner == nil {
		o.Runner = runner.Exec{}
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("opening stage cache %s: %w", o.Dir, err)
	}
	return &Cache{o: o}, nil
}

// Dir is where the entries are kept.
func (c *Cache) Dir() string { return c.o.Dir }

// MaxBytes is the size limit (0 = none).
func (c *Cache) MaxBytes() int64 { return c.o.MaxBytes }

// ValidKey reports whether key is 64 lowercase hex digits.
func ValidKey(key string) error {
	if len(key) != 64 {
		return fmt.Errorf("%w %q: want 64 hex digits", ErrBadKey, key)
	}
	if _, err := hex.DecodeString(key); err != nil || strings.ToLower(key) != key {
		return fmt.Errorf("%w %q: want 64 lowercase hex digits", ErrBadKey, key)
	}
	return nil
}

func (c *Cache) entryDir(key string) string { return filepath.Join(c.o.Dir, key) }

// Lookup returns the entry for key without verifying its archive (for
// plans and listings), or ErrNotFound.
func (c *Cache) Lookup(key string) (Entry, error) {
	if err := ValidKey(key); err != nil {
		return Entry{}, err
	}
	e, err := readEntry(c.entryDir(key))
	if errors.Is(err, fs.ErrNotExist) {
		return Entry{}, fmt.Errorf("%w for key %s", ErrNotFound, key)
	}
	return e, err
}

func readEntry(dir string) (Entry, error) {
	data, err := os.ReadFile(filepath.Join(dir, entryName))
	if err != nil {
		return Entry{}, err
	}
	var e Entry
	if err := json.Unmarshal(data, &e); err != nil {
		return Entry{}, fmt.Errorf("%w: reading %s: %v", ErrCorrupt, filepath.Join(dir, entryName), err)
	}
	if e.Key != filepath.Base(dir) || artifact.ValidateDigest(e.Digest) != nil || e.Size <= 0 {
		return Entry{}, fmt.Errorf("%w: %s does not describe entry %s", ErrCorrupt, entryName, filepath.Base(dir))
	}
	return e, nil
}

// List returns every entry, most recently used first. Unreadable entries
// and leftovers of interrupted writes are skipped.
func (c *Cache) List() ([]Entry, error) {
	des, err := os.ReadDir(c.o.Dir)
	if err != nil {
		return nil, fmt.Errorf("listing stage cache: %w", err)
	}
	var out []Entry
	for _, de := range des {
		if !de.IsDir() || ValidKey(de.Name()) != nil {
			continue
		}
		if e, err := readEntry(c.entryDir(de.Name())); err == nil {
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].LastUsed.Equal(out[j].LastUsed) {
			return out[i].LastUsed.After(out[j].LastUsed)
		}
		return out[i].Key < out[j].Key
	})
	return out, nil
}

// Remove deletes the entry for key (no error when there is none).
func (c *Cache) Remove(key string) error {
	if err := ValidKey(key); err != nil {
		return err
	}
	return c.removeDir(c.entryDir(key))
}

// removeDir moves an entry out of the way first (rename is atomic), so a
// half-removed entry is never seen under its key.
func (c *Cache) removeDir(dir string) error {
	doomed := filepath.Join(c.o.Dir, tmpPrefix+"rm-"+randomSuffix())
	if err := os.Rename(dir, doomed); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("removing stage cache entry %s: %w", filepath.Base(dir), err)
	}
	if err := os.RemoveAll(doomed); err != nil {
		return fmt.Errorf("removing stage cache entry %s: %w", filepath.Base(dir), err)
	}
	return nil
}

// Prune evicts least recently used entries until the entries total at most
// max bytes (max 0 removes everything) and returns what it removed. It
// also clears leftovers of interrupted writes.
func (c *Cache) Prune(max int64) ([]Entry, error) {
	c.clearTemps()
	entries, err := c.List()
	if err != nil {
		return nil, err
	}
	var total int64
	for _, e := range entries {
		total += e.Size
	}
	var removed []Entry
	for i := len(entries) - 1; i >= 0 && total > max; i-- { // oldest use last in the list
		if err := c.Remove(entries[i].Key); err != nil {
			return removed, err
		}
		total -= entries[i].Size
		removed = append(removed, entries[i])
	}
	return removed, nil
}

// clearTemps removes temporary directories older than an hour (a build
// that is still writing one is younger).
func (c *Cache) clearTemps() {
	des, err := os.ReadDir(c.o.Dir)
	if err != nil {
		return
	}
	for _, de := range des {
		if !strings.HasPrefix(de.Name(), tmpPrefix) {
			continue
		}
		if info, err := de.Info(); err == nil && c.o.Now().Sub(info.ModTime()) > time.Hour {
			_ = os.RemoveAll(filepath.Join(c.o.Dir, de.Name()))
		}
	}
}

// Total is the size of all entries.
func Total(entries []Entry) int64 {
	var n int64
	for _, e := range entries {
		n += e.Size
	}
	return n
}

func randomSuffix() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

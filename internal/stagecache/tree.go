package stagecache

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/bakery-dev/bakery/internal/atomicfile"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/bakery-dev/bakery/internal/artifact"
	"github.com/bakery-dev/bakery/internal/runner"
)

// Tools are the host programs Store and Restore run.
func Tools() []string { return []string{"tar", "zstd"} }

// CreateArgs is the tar command line that writes tree to standard output
// as a zstd-compressed POSIX archive keeping everything a root tree needs:
// numeric owners, modes, xattrs (file capabilities), ACLs, hardlinks,
// device nodes and nanosecond modification times.
func CreateArgs(tree string) []string {
	return append(createArgs(tree), "--use-compress-program=zstd -T0 -1 -q", ".")
}

func createArgs(tree string) []string {
	return []string{"tar", "--create", "--file=-", "--directory=" + tree,
		"--format=posix", "--numeric-owner", "--xattrs", "--xattrs-include=*", "--acls",
		"--sort=name", "--one-file-system"}
}

// ExtractArgs is the tar command line that restores an archive read from
// standard input into dir, as it was (owners, modes, xattrs, ACLs, times).
func ExtractArgs(dir string) []string {
	return append(extractArgs(dir), "--use-compress-program=zstd -q")
}

func extractArgs(dir string) []string {
	return []string{"tar", "--extract", "--file=-", "--directory=" + dir,
		"--numeric-owner", "--same-owner", "--preserve-permissions",
		"--xattrs", "--xattrs-include=*", "--acls"}
}

// CopyTree recreates src at dst (which must not exist) exactly as Restore
// would from an entry of src, without keeping an entry: tar piped into
// tar. A tree made by extraction differs from one made by mmdebstrap in
// ways tar does not show but mkfs.ext4 -d does, so every locked build
// passes its bootstrapped tree through tar once, cached or not, and a
// cached rebuild stays identical to a cold one.
func CopyTree(ctx context.Context, r runner.Runner, src, dst string) error {
	if err := os.Mkdir(dst, 0o755); err != nil {
		return fmt.Errorf("copying tree %s: %w", src, err)
	}
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		_, err := r.Run(ctx, runner.Cmd{Args: append(createArgs(src), "."), Stdout: pw})
		pw.CloseWithError(err)
		errc <- err
	}()
	_, err := r.Run(ctx, runner.Cmd{Args: extractArgs(dst), Stdin: pr})
	pr.CloseWithError(io.ErrClosedPipe) // unblock the writer if tar -x stopped early
	if werr := <-errc; err == nil {
		err = werr
	}
	if err != nil {
		_ = os.RemoveAll(dst)
		return fmt.Errorf("copying tree %s: %w", src, err)
	}
	return nil
}

// Store archives tree as the entry for key, replacing nothing: when an
// entry for key appeared meanwhile (another build), that one is kept. The
// cache is then pruned to its size limit.
func (c *Cache) Store(ctx context.Context, key, stage, tree string) (Entry, error) {
	if err := ValidKey(key); err != nil {
		return Entry{}, err
	}
	tmp, err := os.MkdirTemp(c.o.Dir, tmpPrefix)
	if err != nil {
		return Entry{}, fmt.Errorf("storing stage cache entry: %w", err)
	}
	defer os.RemoveAll(tmp) // gone after the rename
	e, err := c.writeEntry(ctx, tmp, key, stage, tree)
	if err != nil {
		return Entry{}, err
	}
	if err := c.commit(tmp, key); err != nil {
		return Entry{}, err
	}
	if c.o.MaxBytes > 0 {
		removed, err := c.Prune(c.o.MaxBytes)
		for _, r := range removed {
			c.o.Logger.Info("stage cache: evicted", "key", r.Key, "size", r.Size)
		}
		if err != nil {
			return e, err
		}
	}
	return e, nil
}

func (c *Cache) writeEntry(ctx context.Context, dir, key, stage, tree string) (Entry, error) {
	f, err := os.OpenFile(filepath.Join(dir, archiveName), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return Entry{}, fmt.Errorf("storing stage cache entry %s: %w", key, err)
	}
	h := sha256.New()
	cw := &countingWriter{w: io.MultiWriter(f, h)}
	_, err = c.o.Runner.Run(ctx, runner.Cmd{Args: CreateArgs(tree), Stdout: cw})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Entry{}, fmt.Errorf("archiving %s for the stage cache: %w", tree, err)
	}
	now := c.o.Now().UTC()
	e := Entry{Key: key, Stage: stage, Digest: artifact.FormatDigest(h), Size: cw.n, Created: now, LastUsed: now}
	if err := writeJSON(filepath.Join(dir, entryName), e); err != nil {
		return Entry{}, err
	}
	return e, syncDir(dir)
}

// commit renames the finished temporary directory to the entry's name.
func (c *Cache) commit(tmp, key string) error {
	err := os.Rename(tmp, c.entryDir(key))
	if err != nil {
		if _, serr := os.Stat(c.entryDir(key)); serr == nil {
			return nil // another build stored the same key first
		}
		return fmt.Errorf("storing stage cache entry %s: %w", key, err)
	}
	return syncDir(c.o.Dir)
}

// Restore verifies the entry for key and extracts it into dir, which must
// not exist yet. It returns ErrNotFound when there is no entry and
// ErrCorrupt when the entry failed verification (it has been deleted).
func (c *Cache) Restore(ctx context.Context, key, dir string) (Entry, error) {
	e, err := c.Lookup(key)
	if errors.Is(err, ErrCorrupt) {
		return Entry{}, c.discard(key, err)
	}
	if err != nil {
		return Entry{}, err
	}
	f, err := os.Open(filepath.Join(c.entryDir(key), archiveName))
	if err != nil {
		if _, serr := os.Stat(c.entryDir(key)); errors.Is(serr, fs.ErrNotExist) {
			return Entry{}, fmt.Errorf("%w for key %s (evicted meanwhile)", ErrNotFound, key)
		}
		return Entry{}, c.discard(key, fmt.Errorf("%w: %v", ErrCorrupt, err))
	}
	defer f.Close()
	if err := verify(f, e); err != nil {
		return Entry{}, c.discard(key, err)
	}
	if err := c.extract(ctx, f, dir); err != nil {
		return Entry{}, err
	}
	e.LastUsed = c.o.Now().UTC()
	if err := writeJSON(filepath.Join(c.entryDir(key), entryName), e); err != nil {
		c.o.Logger.Warn("stage cache: recording last use", "key", key, "err", err)
	}
	return e, nil
}

// verify hashes the whole archive and compares size and digest with the
// entry's record, then rewinds the file.
func verify(f *os.File, e Entry) error {
	d, n, err := artifact.Digest(f)
	if err != nil {
		return fmt.Errorf("%w: reading archive: %v", ErrCorrupt, err)
	}
	if n != e.Size {
		return fmt.Errorf("%w: archive has %d bytes, entry says %d (truncated?)", ErrCorrupt, n, e.Size)
	}
	if d != e.Digest {
		return fmt.Errorf("%w: archive hashes to %s, entry says %s", ErrCorrupt, d, e.Digest)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("rewinding stage cache archive: %w", err)
	}
	return nil
}

func (c *Cache) extract(ctx context.Context, archive io.Reader, dir string) error {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return fmt.Errorf("restoring stage cache entry: %w", err)
	}
	if _, err := c.o.Runner.Run(ctx, runner.Cmd{Args: ExtractArgs(dir), Stdin: archive}); err != nil {
		_ = os.RemoveAll(dir)
		return fmt.Errorf("restoring stage cache entry into %s: %w", dir, err)
	}
	return nil
}

// discard deletes a corrupt entry and returns why it was corrupt.
func (c *Cache) discard(key string, why error) error {
	c.o.Logger.Warn("stage cache: corrupt entry discarded", "key", key, "err", why)
	if err := c.Remove(key); err != nil {
		return errors.Join(why, err)
	}
	return why
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// writeJSON replaces path with v, indented, via a synced temporary file.
func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s: %w", path, err)
	}
	return atomicfile.Write(path, append(data, '\n'), 0o600)
}

func syncDir(dir string) error {
	if err := atomicfile.SyncDir(dir); err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}

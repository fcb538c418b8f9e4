// Package fsstore is the default artifact store: blobs kept as read-only
// files in a local directory, laid out as root/sha256/ab/<hex>. Writes go to
// a temporary file under root/tmp (same filesystem), are hashed while they
// are copied, fsynced and renamed into place only once the digest matches.
package fsstore

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/bakery-dev/bakery/internal/artifact"
)

var (
	_ artifact.Store   = (*Store)(nil)
	_ artifact.Adopter = (*Store)(nil)
	_ artifact.Locator = (*Store)(nil)
)

const blobMode fs.FileMode = 0o444

// Store is a content-addressed blob store in a local directory.
type Store struct {
	root string
	// rename moves a file; a field so tests can simulate a rename across
	// filesystems.
	rename func(oldpath, newpath string) error
}

// New opens the store at root, creating its directories if needed.
func New(root string) (*Store, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("opening artifact store %s: %w", root, err)
	}
	s := &Store{root: abs, rename: os.Rename}
	for _, dir := range []string{s.blobDir(), s.tmpDir()} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("opening artifact store %s: %w", root, err)
		}
	}
	return s, nil
}

// Root returns the store's absolute root directory.
func (s *Store) Root() string { return s.root }

func (s *Store) blobDir() string { return filepath.Join(s.root, artifact.Algorithm) }
func (s *Store) tmpDir() string  { return filepath.Join(s.root, "tmp") }

// blobPath returns where the blob with digest lives, whether or not it exists.
func (s *Store) blobPath(digest string) (string, error) {
	hex, err := artifact.Hex(digest)
	if err != nil {
		return "", err
	}
	return filepath.Join(s.blobDir(), hex[:2], hex), nil
}

// Put stores the content of r under digest. See artifact.Store.
func (s *Store) Put(ctx context.Context, digest string, r io.Reader) error {
	dst, err := s.blobPath(digest)
	if err != nil {
		return fmt.Errorf("storing artifact: %w", err)
	}
	if exists(dst) {
		return nil
	}
	tmp, err := s.writeTemp(ctx, digest, r)
	if err != nil {
		return fmt.Errorf("storing artifact %s: %w", digest, err)
	}
	if err := s.commit(tmp, dst); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("storing artifact %s: %w", digest, err)
	}
	return nil
}

// writeTemp copies r into a new temporary file, checks its digest and
// fsyncs it. It returns the temporary file's name; on error nothing is left.
func (s *Store) writeTemp(ctx context.Context, digest string, r io.Reader) (name string, err error) {
	f, err := os.CreateTemp(s.tmpDir(), "put-*")
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(f, h), ctxReader{ctx, r}); err != nil {
		return "", fmt.Errorf("copying content: %w", err)
	}
	if got := artifact.FormatDigest(h); got != digest {
		return "", artifact.Mismatch(digest, got)
	}
	if err := f.Chmod(blobMode); err != nil {
		return "", err
	}
	if err := f.Sync(); err != nil {
		return "", fmt.Errorf("syncing %s: %w", f.Name(), err)
	}
	return f.Name(), f.Close()
}

// commit renames a verified, synced file into place at dst and fsyncs the
// directories it touched. Two commits of the same blob race harmlessly: the
// content is identical and rename replaces atomically.
func (s *Store) commit(src, dst string) error {
	dir := filepath.Dir(dst)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := s.rename(src, dst); err != nil {
		return err
	}
	if err := syncDir(dir); err != nil {
		return err
	}
	return syncDir(filepath.Dir(dir))
}

// Adopt moves the file at path into the store. See artifact.Adopter.
func (s *Store) Adopt(ctx context.Context, digest, path string) error {
	dst, err := s.blobPath(digest)
	if err != nil {
		return fmt.Errorf("adopting %s: %w", path, err)
	}
	if err := verifyAndSync(ctx, digest, path); err != nil {
		return fmt.Errorf("adopting %s: %w", path, err)
	}
	if exists(dst) {
		return removeAdopted(path)
	}
	if err := os.Chmod(path, blobMode); err != nil {
		return fmt.Errorf("adopting %s: %w", path, err)
	}
	err = s.commit(path, dst)
	if errors.Is(err, syscall.EXDEV) {
		err = s.adoptByCopy(ctx, digest, path)
	}
	if err != nil {
		return fmt.Errorf("adopting %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

// adoptByCopy is Adopt's fallback when path is on another filesystem.
func (s *Store) adoptByCopy(ctx context.Context, digest, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := s.Put(ctx, digest, f); err != nil {
		return err
	}
	return removeAdopted(path)
}

func removeAdopted(path string) error {
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("removing adopted file: %w", err)
	}
	return nil
}

// verifyAndSync hashes the file at path, checks it against digest and makes
// sure its content is on disk before it is renamed into the store.
func verifyAndSync(ctx context.Context, digest, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	r, err := artifact.NewSparseReader(f)
	if err != nil {
		return fmt.Errorf("hashing: %w", err)
	}
	if _, err := io.Copy(h, ctxReader{ctx, r}); err != nil {
		return fmt.Errorf("hashing: %w", err)
	}
	if got := artifact.FormatDigest(h); got != digest {
		return artifact.Mismatch(digest, got)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing: %w", err)
	}
	return nil
}

// Open returns the blob's content. See artifact.Store.
func (s *Store) Open(ctx context.Context, digest string) (io.ReadCloser, error) {
	p, err := s.blobPath(digest)
	if err != nil {
		return nil, fmt.Errorf("opening artifact: %w", err)
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("opening artifact %s: %w", digest, artifact.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("opening artifact %s: %w", digest, err)
	}
	return f, nil
}

// Stat returns the blob's size. See artifact.Store.
func (s *Store) Stat(ctx context.Context, digest string) (int64, error) {
	p, err := s.blobPath(digest)
	if err != nil {
		return 0, fmt.Errorf("inspecting artifact: %w", err)
	}
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("inspecting artifact %s: %w", digest, artifact.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("inspecting artifact %s: %w", digest, err)
	}
	return fi.Size(), nil
}

// Path returns the local file holding the blob. See artifact.Locator.
func (s *Store) Path(digest string) (string, error) {
	p, err := s.blobPath(digest)
	if err != nil {
		return "", fmt.Errorf("locating artifact: %w", err)
	}
	if !exists(p) {
		return "", fmt.Errorf("locating artifact %s: %w", digest, artifact.ErrNotFound)
	}
	return p, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	return nil
}

// ctxReader stops a copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

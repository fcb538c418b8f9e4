package publish

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"syscall"

	"github.com/ProtonMail/go-crypto/openpgp/clearsign"

	"github.com/bakery-dev/bakery/internal/artifact"
	"github.com/bakery-dev/bakery/internal/atomicfile"
	"github.com/bakery-dev/bakery/internal/simplestreams"
)

// stateFile records, in the published directory, the digest, size and
// modification time of every artifact a publish wrote, so the next publish
// can leave an unchanged artifact alone without re-hashing it. It is
// written last. lockFile keeps two publishers out of one directory.
const (
	stateFile = ".bakery-publish.json"
	lockFile  = ".bakery-publish.lock"
)

// ErrBusy is returned when another publish is writing the directory.
var ErrBusy = errors.New("another bakery publish is writing the directory")

// ErrForeignDir is returned for a non-empty directory that bakery never
// published into: publishing removes every file the index does not name, so
// it only writes into an empty directory or one it published before.
var ErrForeignDir = errors.New("the directory holds files bakery did not publish")

// record is what stateFile keeps about one artifact.
type record struct {
	Digest  string `json:"digest"`
	Size    int64  `json:"size"`
	ModTime int64  `json:"mtime_ns"`
}

// Stats says what a publish did.
type Stats struct {
	Written   int `json:"written"`   // files written (artifacts and documents)
	Unchanged int `json:"unchanged"` // files left alone
	Removed   int `json:"removed"`   // stale files removed after the new index was in place
}

// DirOptions controls ToDir.
type DirOptions struct {
	// Verify re-hashes every existing artifact instead of trusting the
	// digests recorded by the previous publish.
	Verify bool
	// Files are further documents by path (the Atom feeds), written after
	// the products files and before the index, each atomically. Nothing
	// in the index names them: each is its own old or new version.
	Files  map[string][]byte
	Logger *slog.Logger
}

// ErrNotContentAddressed is returned by ToDir for a snapshot made without
// Options.ContentAddressed.
var ErrNotContentAddressed = errors.New("static publishing needs a snapshot with content-addressed products files")

// ToDir writes the snapshot into dir as static files: the artifacts first,
// then the products files (at content-addressed paths, see VersionedPath),
// opt.Files and the public key, the index last (its signed variant, then
// the plain one); each file by temporary file, fsync and rename, its
// directory fsynced. Files whose content is already in place are left
// alone. The index is the commit point: until it is renamed into place the
// old index names only old files, all still there, and files the new
// snapshot no longer names are removed only once both variants of the new
// index are in place. So a crash at any point leaves, for a reader of
// index.json and for a reader of index.sjson alike, the old or the new
// complete tree. The products files the replaced index named stay until
// the next publish, for readers who fetched it just before.
// checkOwned accepts an empty directory or one a publish has locked before
// (the lock file is made before anything else is written, so a publish
// killed early still marks the directory as bakery's).
func checkOwned(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("publishing to %s: %w", dir, err)
	}
	for _, e := range entries {
		if e.Name() == lockFile {
			return nil
		}
	}
	if len(entries) > 0 {
		return fmt.Errorf("publishing to %s: %w (no %s; it has %s…): publish into an empty directory or one bakery published into",
			dir, ErrForeignDir, lockFile, entries[0].Name())
	}
	return nil
}

func ToDir(ctx context.Context, snap Snapshot, store artifact.Store, dir string, opt DirOptions) (Stats, error) {
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := mkdirSynced(dir); err != nil {
		return Stats{}, fmt.Errorf("publishing to %s: %w", dir, err)
	}
	if err := checkOwned(dir); err != nil {
		return Stats{}, err
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return Stats{}, err
	}
	defer unlock()
	if !snap.ContentAddressed {
		return Stats{}, fmt.Errorf("publishing to %s: %w", dir, ErrNotContentAddressed)
	}
	w := &dirWriter{dir: dir, store: store, log: log, verify: opt.Verify, recorded: readState(dir)}
	for _, p := range sortedPaths(snap.Blobs) {
		if err := w.blob(ctx, p, snap.Blobs[p]); err != nil {
			return w.stats, err
		}
	}
	for _, p := range snap.Streams {
		if err := w.doc(p, snap.Docs[p], snap.Docs[simplestreams.SignedPath(p)]); err != nil {
			return w.stats, err
		}
	}
	for _, p := range sortedPaths(opt.Files) {
		if err := w.doc(p, opt.Files[p], nil); err != nil {
			return w.stats, err
		}
	}
	if err := w.doc(KeyPath, snap.Docs[KeyPath], nil); err != nil {
		return w.stats, err
	}
	keep := w.indexedStreams(snap.Index) // read before the index is replaced
	if err := w.doc(snap.Index, snap.Docs[snap.Index], snap.Docs[simplestreams.SignedPath(snap.Index)]); err != nil {
		return w.stats, err
	}
	if err := w.removeStale(snap, opt.Files, keep); err != nil {
		return w.stats, err
	}
	return w.stats, w.writeState(snap)
}

type dirWriter struct {
	dir      string
	store    artifact.Store
	log      *slog.Logger
	verify   bool
	recorded map[string]record // by path, from the previous publish
	stats    Stats
}

func (w *dirWriter) path(p string) string { return filepath.Join(w.dir, filepath.FromSlash(p)) }

// blob copies one artifact into place unless it already is.
func (w *dirWriter) blob(ctx context.Context, p string, b Blob) error {
	dst := w.path(p)
	if w.blobInPlace(dst, p, b) {
		w.stats.Unchanged++
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := w.copyBlob(ctx, dst, b); err != nil {
		return fmt.Errorf("publishing %s: %w", p, err)
	}
	w.log.Debug("published artifact", "path", p, "size", b.Size)
	w.stats.Written++
	return nil
}

func (w *dirWriter) blobInPlace(dst, p string, b Blob) bool {
	st, err := os.Stat(dst)
	if err != nil || !st.Mode().IsRegular() || st.Size() != b.Size {
		return false
	}
	if r, ok := w.recorded[p]; ok && !w.verify && r == (record{b.Digest, b.Size, st.ModTime().UnixNano()}) {
		return true
	}
	d, _, err := artifact.DigestFile(dst)
	return err == nil && d == b.Digest
}

func (w *dirWriter) copyBlob(ctx context.Context, dst string, b Blob) error {
	src, err := w.store.Open(ctx, b.Digest)
	if err != nil {
		return err
	}
	defer src.Close()
	if err := mkdirSynced(filepath.Dir(dst)); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	h := sha256.New()
	n, err := io.Copy(tmp, io.TeeReader(src, h))
	if err == nil && (n != b.Size || artifact.FormatDigest(h) != b.Digest) {
		err = artifact.Mismatch(b.Digest, artifact.FormatDigest(h))
	}
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return err
	}
	return atomicfile.SyncDir(filepath.Dir(dst))
}

// doc writes a document and its signed variant, unless the document is
// unchanged (its signature then stays too: re-signing would only change
// the signature time).
func (w *dirWriter) doc(p string, data, signed []byte) error {
	dst := w.path(p)
	if old, err := os.ReadFile(dst); err == nil && bytes.Equal(old, data) && (signed == nil || exists(w.path(simplestreams.SignedPath(p)))) {
		w.stats.Unchanged++
		return nil
	}
	if err := mkdirSynced(filepath.Dir(dst)); err != nil {
		return fmt.Errorf("publishing %s: %w", p, err)
	}
	// The signed variant first: the plain one is what the next publish
	// compares, so it must not be new while the signed one is still old.
	if signed != nil {
		if err := atomicfile.Write(w.path(simplestreams.SignedPath(p)), signed, 0o644); err != nil {
			return fmt.Errorf("publishing %s: %w", p, err)
		}
		w.stats.Written++
	}
	if err := atomicfile.Write(dst, data, 0o644); err != nil {
		return fmt.Errorf("publishing %s: %w", p, err)
	}
	w.stats.Written++
	return nil
}

// removeStale removes what the snapshot does not name, except keep: files
// of older publishes and temporary files of interrupted ones, then empty
// directories.
func (w *dirWriter) removeStale(snap Snapshot, files map[string][]byte, keep map[string]bool) error {
	var dirs []string
	err := filepath.WalkDir(w.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(w.dir, path)
		rel = filepath.ToSlash(rel)
		switch {
		case rel == "." || rel == stateFile || rel == lockFile:
			return nil
		case d.IsDir():
			dirs = append(dirs, path)
			return nil
		}
		if _, ok := snap.Docs[rel]; ok {
			return nil
		}
		if _, ok := snap.Blobs[rel]; ok {
			return nil
		}
		if _, ok := files[rel]; ok || keep[rel] {
			return nil
		}
		if err := os.Remove(path); err != nil {
			return err
		}
		w.log.Debug("removed stale file", "path", rel)
		w.stats.Removed++
		return nil
	})
	if err != nil {
		return fmt.Errorf("removing stale files from %s: %w", w.dir, err)
	}
	slices.Reverse(dirs) // deepest first
	for _, d := range dirs {
		_ = os.Remove(d) // fails, as wanted, unless empty
	}
	return nil
}

// indexedStreams returns the products files (both variants) that the index
// in place names, through index.json or index.sjson. The publish that
// replaces that index keeps them, so that a reader who fetched it just
// before still finds them; the publish after removes them. An index that
// cannot be read names nothing.
func (w *dirWriter) indexedStreams(index string) map[string]bool {
	out := map[string]bool{}
	add := func(data []byte) {
		idx, err := simplestreams.ParseIndex(data)
		if err != nil {
			return
		}
		for _, e := range idx.Index {
			out[e.Path], out[simplestreams.SignedPath(e.Path)] = true, true
		}
	}
	if data, err := os.ReadFile(w.path(index)); err == nil {
		add(data)
	}
	if data, err := os.ReadFile(w.path(simplestreams.SignedPath(index))); err == nil {
		if b, _ := clearsign.Decode(data); b != nil {
			add(b.Plaintext)
		}
	}
	return out
}

func (w *dirWriter) writeState(snap Snapshot) error {
	rec := map[string]record{}
	for p, b := range snap.Blobs {
		if st, err := os.Stat(w.path(p)); err == nil {
			rec[p] = record{b.Digest, b.Size, st.ModTime().UnixNano()}
		}
	}
	data, err := json.MarshalIndent(rec, "", " ")
	if err != nil {
		return fmt.Errorf("encoding publish state: %w", err)
	}
	return atomicfile.Write(filepath.Join(w.dir, stateFile), data, 0o644)
}

func readState(dir string) map[string]record {
	rec := map[string]record{}
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err == nil {
		_ = json.Unmarshal(data, &rec) // a damaged record only costs re-hashing
	}
	return rec
}

func sortedPaths[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil || !errors.Is(err, fs.ErrNotExist)
}

// mkdirSynced creates dir and its missing parents, fsyncing the parent of
// each directory it creates so that the new entries survive a crash.
func mkdirSynced(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := mkdirSynced(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return atomicfile.SyncDir(parent)
}

// lockDir takes the directory's publish lock (released when the process
// ends, also by a crash).
func lockDir(dir string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("locking %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", dir, ErrBusy)
	}
	return func() { f.Close() }, nil
}

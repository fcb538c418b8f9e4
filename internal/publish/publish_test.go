package publish

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/bakery-dev/bakery/internal/artifact/fsstore"
	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/catalog/sqlite"
	"github.com/bakery-dev/bakery/internal/pgpkey"
	"github.com/bakery-dev/bakery/internal/publish/publishtest"
	"github.com/bakery-dev/bakery/internal/simplestreams"
)

type env struct {
	cat   *sqlite.DB
	store *fsstore.Store
	key   *pgpkey.Key
	ring  openpgp.EntityList
	fill  *publishtest.Filler
	runs  int
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	cat, err := sqlite.Open(ctx, filepath.Join(dir, "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	store, err := fsstore.New(filepath.Join(dir, "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := pgpkey.Create(filepath.Join(dir, "keys"), pgpkey.Spec{Name: "t", PrivateFile: "k", PublicFile: "k.asc", ArmoredPublic: true})
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := key.ArmoredPublic()
	ring, _ := pgpkey.ReadKeyring(pub)
	return &env{cat: cat, store: store, key: key, ring: ring, fill: publishtest.New(cat, store, 1, 4096)}
}

func (e *env) publish(t *testing.T, dir string) Stats {
	t.Helper()
	e.runs++ // a new time each run: a new expiry, so a new index
	snap, err := Build(context.Background(), e.cat, e.key, staticOptions(), time.Now().Add(time.Duration(e.runs)*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	st, err := ToDir(context.Background(), snap, e.store, dir, DirOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func staticOptions() Options {
	o := DefaultOptions()
	o.ContentAddressed = true
	return o
}

// streamFiles lists the products files (.json and .sjson) in dir.
func streamFiles(t *testing.T, dir string) map[string]bool {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "streams/v1/*:*"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, p := range m {
		out[filepath.Base(p)] = true
	}
	return out
}

// verifyTree reads the published tree as a client would (signed documents)
// and checks every item's size and sha256; it returns the item count.
func (e *env) verifyTree(t *testing.T, dir string) int {
	t.Helper()
	c := &simplestreams.Client{Source: simplestreams.Dir(dir), Keyring: e.ring}
	n := 0
	err := c.Walk(context.Background(), func(_, _, _ string, it simplestreams.ProductVersionItem) error {
		n++
		return c.VerifyItem(context.Background(), it)
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestToDirIncrementalAndStale(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	if err := e.fill.Fill(ctx, []string{"alpha", "beta"}, 3); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "www")
	first := e.publish(t, dir)
	items := e.verifyTree(t, dir)
	// 2 products × 3 images × 5 artifacts; 3 streams × 2 docs + index × 2 + key.
	if first.Written != 30+6+2+1 || items == 0 {
		t.Fatalf("first publish %+v, %d items", first, items)
	}
	if _, err := os.Stat(filepath.Join(dir, KeyPath)); err != nil {
		t.Fatal(err)
	}
	qcow := filepath.Join(dir, "images/alpha")
	before := modTimes(t, qcow)

	second := e.publish(t, dir)
	if second.Written != 2 || second.Removed != 0 {
		t.Errorf("unchanged catalog: %+v, want only the index (2 files) written", second)
	}
	if after := modTimes(t, qcow); !equalMaps(before, after) {
		t.Error("an unchanged publish touched artifacts")
	}

	imgs, _ := e.cat.ListImages(ctx, catalog.ListOptions{Product: "alpha"})
	victim := imgs[len(imgs)-1] // the oldest: on stable
	if err := e.fill.Revoke(ctx, victim); err != nil {
		t.Fatal(err)
	}
	streamsBefore := streamFiles(t, dir)
	third := e.publish(t, dir)
	if third.Removed != 5 {
		t.Errorf("after a revocation: %+v, want the 5 artifacts of %s removed", third, victim.Name)
	}
	replaced := 0
	for f := range streamsBefore {
		if _, ok := streamFiles(t, dir)[f]; !ok {
			t.Errorf("products file %s of the replaced index removed by the publish that replaced it", f)
		}
		if !named(t, dir, "streams/v1/"+f) {
			replaced++
		}
	}
	if fourth := e.publish(t, dir); replaced == 0 || fourth.Removed != replaced {
		t.Errorf("the publish after: %+v, want the %d products files the previous index named removed", fourth, replaced)
	}
	if _, err := os.Stat(filepath.Join(dir, "images", victim.Product, victim.Serial)); !os.IsNotExist(err) {
		t.Errorf("revoked image's directory still there: %v", err)
	}
	e.verifyTree(t, dir)
}

func TestToDirRepairsDamagedArtifact(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	if err := e.fill.Fill(ctx, []string{"alpha"}, 1); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	e.publish(t, dir)
	var victim string
	filepath.Walk(filepath.Join(dir, "images"), func(p string, info os.FileInfo, err error) error {
		if info.Mode().IsRegular() && victim == "" {
			victim = p
		}
		return nil
	})
	data, _ := os.ReadFile(victim)
	data[0] ^= 0xff
	os.WriteFile(victim, data, 0o644) // same size, new mtime
	if st := e.publish(t, dir); st.Written != 3 {
		t.Errorf("after damaging %s: %+v, want it rewritten with the index", victim, st)
	}
	e.verifyTree(t, dir)
}

func TestToDirBusy(t *testing.T) {
	dir := t.TempDir()
	unlock, err := lockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	e := newEnv(t)
	snap, err := Build(context.Background(), e.cat, e.key, staticOptions(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ToDir(context.Background(), snap, e.store, dir, DirOptions{}); !errors.Is(err, ErrBusy) {
		t.Errorf("second publisher: %v, want ErrBusy", err)
	}
}

func TestToDirRefusesFixedPaths(t *testing.T) {
	e := newEnv(t)
	snap, err := Build(context.Background(), e.cat, e.key, DefaultOptions(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ToDir(context.Background(), snap, e.store, t.TempDir(), DirOptions{}); !errors.Is(err, ErrNotContentAddressed) {
		t.Errorf("snapshot with fixed paths: %v, want ErrNotContentAddressed", err)
	}
}

// TestToDirIndexIsTheCommitPoint publishes a changed catalog in two halves:
// everything but the index, as a publish killed just before the index
// would, then all of it. After the first half both index variants still
// name exactly the old tree, complete; the products files the old index
// named stay until the publish after the complete one.
func TestToDirIndexIsTheCommitPoint(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	if err := e.fill.Fill(ctx, []string{"alpha", "beta"}, 2); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	e.publish(t, dir)
	oldIndex := readFile(t, filepath.Join(dir, simplestreams.IndexPath))
	oldSigned := readFile(t, filepath.Join(dir, simplestreams.SignedPath(simplestreams.IndexPath)))
	oldItems := e.verifyTree(t, dir)

	img, err := e.fill.AddImage(ctx, "alpha", "9.0.0")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.fill.Move(ctx, img, "devel"); err != nil {
		t.Fatal(err)
	}
	snap, err := Build(ctx, e.cat, e.key, staticOptions(), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	half := snap
	half.Docs = maps.Clone(snap.Docs)
	half.Docs[snap.Index] = oldIndex
	half.Docs[simplestreams.SignedPath(snap.Index)] = oldSigned
	w := &dirWriter{dir: dir, store: e.store, log: slog.New(slog.DiscardHandler), recorded: readState(dir)}
	for _, p := range sortedPaths(half.Blobs) {
		if err := w.blob(ctx, p, half.Blobs[p]); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range half.Streams {
		if err := w.doc(p, half.Docs[p], half.Docs[simplestreams.SignedPath(p)]); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.verifyTree(t, dir); got != oldItems {
		t.Fatalf("before the index: %d items reachable, want the old %d", got, oldItems)
	}
	st, err := ToDir(ctx, snap, e.store, dir, DirOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.verifyTree(t, dir); got != oldItems+5 || st.Removed != 0 {
		t.Errorf("after the index: %d items, %+v; want %d items and the replaced products files kept", got, st, oldItems+5)
	}
	if st := e.publish(t, dir); st.Removed != 2 { // the daily stream changed: its old .json and .sjson
		t.Errorf("the publish after: %+v, want the replaced products file and its signed variant removed", st)
	}
	for f := range streamFiles(t, dir) {
		if !named(t, dir, "streams/v1/"+f) {
			t.Errorf("products file %s left although no index names it", f)
		}
	}
}

func TestToDirFiles(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	snap, err := Build(context.Background(), e.cat, e.key, staticOptions(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"feeds/releases.atom": []byte("a"), "feeds/x/security.atom": []byte("b")}
	if _, err := ToDir(context.Background(), snap, e.store, dir, DirOptions{Files: files}); err != nil {
		t.Fatal(err)
	}
	if got := string(readFile(t, filepath.Join(dir, "feeds/x/security.atom"))); got != "b" {
		t.Errorf("feeds/x/security.atom = %q", got)
	}
	delete(files, "feeds/x/security.atom")
	st, err := ToDir(context.Background(), snap, e.store, dir, DirOptions{Files: files})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "feeds/x")); !os.IsNotExist(err) || st.Removed != 1 || st.Written != 0 {
		t.Errorf("a file no longer given: %+v, stat %v; want it and its directory removed, nothing written", st, err)
	}
}

// named reports whether the index in dir names the products file p (.json
// or .sjson).
func named(t *testing.T, dir, p string) bool {
	t.Helper()
	idx, err := simplestreams.ParseIndex(readFile(t, filepath.Join(dir, simplestreams.IndexPath)))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range idx.Index {
		if e.Path == p || simplestreams.SignedPath(e.Path) == p {
			return true
		}
	}
	return false
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func modTimes(t *testing.T, dir string) map[string]time.Time {
	t.Helper()
	out := map[string]time.Time{}
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			out[p] = info.ModTime()
		}
		return err
	})
	if err != nil || len(out) == 0 {
		t.Fatalf("walking %s: %v (%d files)", dir, err, len(out))
	}
	return out
}

func equalMaps(a, b map[string]time.Time) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !b[k].Equal(v) {
			return false
		}
	}
	return true
}

// TestToDirRefusesForeignDir: publishing removes what the index does not
// name, so it never writes into a directory that holds someone else's
// files.
func TestToDirRefusesForeignDir(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "index.html")
	if err := os.WriteFile(other, []byte("not bakery's"), 0o644); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	snap, err := Build(context.Background(), e.cat, e.key, staticOptions(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ToDir(context.Background(), snap, e.store, dir, DirOptions{}); !errors.Is(err, ErrForeignDir) {
		t.Fatalf("publishing into a foreign directory: %v, want ErrForeignDir", err)
	}
	if data, err := os.ReadFile(other); err != nil || string(data) != "not bakery's" {
		t.Errorf("the foreign file was touched: %q, %v", data, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("a refused publish wrote %d entries", len(entries)-1)
	}
}

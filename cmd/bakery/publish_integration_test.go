package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/bakery-dev/bakery/internal/artifact/fsstore"
	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/catalog/sqlite"
	"github.com/bakery-dev/bakery/internal/pgpkey"
	"github.com/bakery-dev/bakery/internal/publish"
	"github.com/bakery-dev/bakery/internal/publish/publishtest"
	"github.com/bakery-dev/bakery/internal/runner"
	"github.com/bakery-dev/bakery/internal/simplestreams"
)

// syntheticState is a state directory whose catalog holds synthetic
// images with real random blobs in its artifact store, and a signing key.
type syntheticState struct {
	dir   string
	cat   *sqlite.DB
	store *fsstore.Store
	fill  *publishtest.Filler
	key   *pgpkey.Key
	ring  openpgp.EntityList
}

func newSyntheticState(t *testing.T, blobSize int) *syntheticState {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	if code, _, errOut := runCLI(t, nil, "--state-dir", dir, "keygen"); code != 0 {
		t.Fatalf("keygen: %s", errOut)
	}
	cat, err := sqlite.Open(ctx, filepath.Join(dir, "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	store, err := fsstore.New(filepath.Join(dir, "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := pgpkey.Load(filepath.Join(dir, "keys"), streamsKeySpec)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := key.ArmoredPublic()
	ring, err := pgpkey.ReadKeyring(pub)
	if err != nil {
		t.Fatal(err)
	}
	return &syntheticState{dir: dir, cat: cat, store: store, fill: publishtest.New(cat, store, 42, blobSize), key: key, ring: ring}
}

// buildBakery builds the bakery binary for tests that run it as a
// separate process.
func buildBakery(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bakery")
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		goTool = "go"
	}
	if _, err := (runner.Exec{}).Run(context.Background(), runner.Cmd{Args: []string{goTool, "build", "-o", bin, "."}}); err != nil {
		t.Fatalf("building bakery: %v", err)
	}
	return bin
}

// memSource serves a snapshot's documents, for reading what a publish
// should produce without writing it.
type memSource map[string][]byte

func (m memSource) Open(_ context.Context, p string) (io.ReadCloser, error) {
	if d, ok := m[p]; ok {
		return io.NopCloser(bytes.NewReader(d)), nil
	}
	return nil, simplestreams.ErrNotFound
}

// streamsOf lists, per content ID, every item the documents name
// (product serial key path sha256 size), read through the signed
// documents when ring is set.
func streamsOf(t *testing.T, src simplestreams.Source, ring openpgp.KeyRing) map[string]string {
	t.Helper()
	ctx := context.Background()
	c := &simplestreams.Client{Source: src}
	if ring != nil {
		c.Keyring = ring
	}
	idx, err := c.Index(ctx)
	if err != nil {
		t.Fatalf("reading the index: %v", err)
	}
	out := map[string]string{}
	for id, e := range idx.Index {
		p, err := c.Products(ctx, e)
		if err != nil {
			t.Fatalf("reading %s: %v", e.Path, err)
		}
		var lines []string
		for name, prod := range p.Products {
			for serial, v := range prod.Versions {
				for key, it := range v.Items {
					lines = append(lines, fmt.Sprintf("%s %s %s %s %s %d", name, serial, key, it.Path, it.SHA256, it.Size))
				}
			}
		}
		slices.Sort(lines)
		out[id] = strings.Join(lines, "\n")
	}
	return out
}

// checkComplete verifies every item the published documents name, both
// through the plain and the signed documents.
func checkComplete(t *testing.T, dir string, ring openpgp.KeyRing) {
	t.Helper()
	for _, r := range []openpgp.KeyRing{nil, ring} {
		c := &simplestreams.Client{Source: simplestreams.Dir(dir), Keyring: r}
		err := c.Walk(context.Background(), func(_, _, _ string, it simplestreams.ProductVersionItem) error {
			return c.VerifyItem(context.Background(), it)
		})
		if err != nil {
			t.Fatalf("published tree incomplete (signed %v): %v", r != nil, err)
		}
	}
}

// mutate changes the catalog a little: a new image on devel (every
// second one also on rolling), now and then a revocation.
func (s *syntheticState) mutate(t *testing.T, i int, rng *rand.Rand) {
	t.Helper()
	ctx := context.Background()
	product := []string{"alpha", "beta"}[i%2]
	img, err := s.fill.AddImage(ctx, product, fmt.Sprintf("2.%d.0", i))
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range []string{"devel", "rolling"}[:1+i%2] {
		if err := s.fill.Move(ctx, img, ch); err != nil {
			t.Fatal(err)
		}
	}
	if rng.IntN(3) == 0 {
		imgs, _ := s.cat.ListImages(ctx, catalog.ListOptions{Product: product})
		marks, _ := s.cat.ImageMarks(ctx, product)
		for _, old := range imgs[1:] {
			if !marks[old.Name].Revoked {
				if err := s.fill.Revoke(ctx, old); err != nil {
					t.Fatal(err)
				}
				break
			}
		}
	}
}

// TestIntegrationPublishKilled kills `bakery publish` with SIGKILL at
// random points, again and again, and checks each time the strict
// property: the tree reachable from index.json, and the one reachable from
// index.sjson (verified signatures), is exactly the old state or exactly
// the new one, and every file it names is there, complete (sha256 and
// size); then that a publish run to the end gives exactly the new state
// and leaves no temporary file and no products file that neither it nor
// the index it replaced names.
func TestIntegrationPublishKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: builds bakery and runs it 50 times")
	}
	bin := buildBakery(t)
	s := newSyntheticState(t, 1<<20)
	ctx := context.Background()
	if err := s.fill.Fill(ctx, []string{"alpha", "beta"}, 3); err != nil {
		t.Fatal(err)
	}
	www := filepath.Join(t.TempDir(), "www")
	argv := []string{bin, "--state-dir", s.dir, "publish", "--to", www}
	full := func() time.Duration {
		start := time.Now()
		if _, err := (runner.Exec{}).Run(ctx, runner.Cmd{Args: argv}); err != nil {
			t.Fatalf("publish: %v", err)
		}
		return time.Since(start)
	}
	took := full()
	checkComplete(t, www, s.ring)
	rng := rand.New(rand.NewPCG(7, uint64(time.Now().UnixNano())))
	const runs = 24
	interrupted := 0
	seen := map[string]int{} // "plain/signed" → runs, e.g. "old/new"
	for i := range runs {
		old := streamsOf(t, simplestreams.Dir(www), nil)
		if signed := streamsOf(t, simplestreams.Dir(www), s.ring); !mapsEqual(signed, old) {
			t.Fatalf("run %d: before publishing, index.json and index.sjson name different trees", i)
		}
		s.mutate(t, i, rng)
		snap, err := publish.Build(ctx, s.cat, s.key, publish.DefaultOptions(), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		want := streamsOf(t, memSource(snap.Docs), nil)
		if mapsEqual(old, want) {
			t.Fatalf("run %d: the mutation did not change the streams", i)
		}
		p, err := runner.Start(ctx, runner.Cmd{Args: argv})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rng.Int64N(int64(took) * 13 / 10)))
		select {
		case <-p.Done():
		default:
			interrupted++
		}
		if err := p.Kill(); err != nil {
			t.Fatal(err)
		}
		checkComplete(t, www, s.ring)
		var states []string
		for _, ring := range []openpgp.KeyRing{nil, s.ring} {
			got := streamsOf(t, simplestreams.Dir(www), ring)
			switch {
			case mapsEqual(got, old):
				states = append(states, "old")
			case mapsEqual(got, want):
				states = append(states, "new")
			default:
				t.Fatalf("run %d: the tree named by the index (signed %v) is neither the old nor the new state:\n%v", i, ring != nil, got)
			}
		}
		seen[strings.Join(states, "/")]++
		before := indexedStreams(t, www, s.ring)
		took = full()
		if got := streamsOf(t, simplestreams.Dir(www), s.ring); !mapsEqual(got, want) {
			t.Fatalf("run %d: a complete publish after the kill does not give the new state", i)
		}
		checkComplete(t, www, s.ring)
		assertNoTempFiles(t, www)
		assertOnlyIndexedStreams(t, www, s.ring, before)
	}
	t.Logf("%d runs, %d killed while publishing (last full publish %s); after the kill index.json/index.sjson named: %v", runs, interrupted, took, seen)
	if interrupted < runs/4 {
		t.Errorf("only %d of %d kills landed while the publisher ran: the test did not exercise much", interrupted, runs)
	}
}

// indexedStreams returns the products files (.json and .sjson) that
// index.json or index.sjson in dir names.
func indexedStreams(t *testing.T, dir string, ring openpgp.KeyRing) map[string]bool {
	t.Helper()
	named := map[string]bool{}
	for _, r := range []openpgp.KeyRing{nil, ring} {
		idx, err := (&simplestreams.Client{Source: simplestreams.Dir(dir), Keyring: r}).Index(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range idx.Index {
			named[e.Path], named[simplestreams.SignedPath(e.Path)] = true, true
		}
	}
	return named
}

// assertOnlyIndexedStreams checks that a complete publish left no products
// file but those its index names and those the index it replaced named
// (kept one publish longer for readers of that index).
func assertOnlyIndexedStreams(t *testing.T, dir string, ring openpgp.KeyRing, replaced map[string]bool) {
	t.Helper()
	named := indexedStreams(t, dir, ring)
	files, _ := filepath.Glob(filepath.Join(dir, "streams/v1/*:*json"))
	for _, f := range files {
		if rel, _ := filepath.Rel(dir, f); !named[filepath.ToSlash(rel)] && !replaced[filepath.ToSlash(rel)] {
			t.Errorf("products file %s left although neither the index nor the one it replaced names it", rel)
		}
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func assertNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.Contains(filepath.Base(p), ".tmp-") {
			t.Errorf("temporary file left: %s", p)
		}
		return nil
	})
}

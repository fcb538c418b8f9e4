// Package artifacttest is the conformance suite every artifact.Store
// implementation must pass. A backend's test calls Run with a function that
// returns a new, empty store.
package artifacttest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/bakery-dev/bakery/internal/artifact"
)

// Run runs the conformance suite. newStore must return a new, empty store
// each time it is called.
func Run(t *testing.T, newStore func(t *testing.T) artifact.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s artifact.Store)
	}{
		{"PutOpenStat", testPutOpenStat},
		{"EmptyBlob", testEmptyBlob},
		{"PutIdempotent", testPutIdempotent},
		{"MismatchStoresNothing", testMismatchStoresNothing},
		{"CanceledPutStoresNothing", testCanceledPut},
		{"NotFound", testNotFound},
		{"ConcurrentPutSameBlob", testConcurrentPut},
		{"BadDigest", testBadDigest},
		{"Adopt", testAdopt},
		{"AdoptMismatch", testAdoptMismatch},
		{"Locate", testLocate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, newStore(t))
		})
	}
}

// Blob returns random content of size n and its digest.
func Blob(t testing.TB, n int) ([]byte, string) {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	d, _, err := artifact.Digest(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return b, d
}

// ReadAll returns the content of the blob with digest d.
func ReadAll(t testing.TB, s artifact.Store, d string) []byte {
	t.Helper()
	rc, err := s.Open(context.Background(), d)
	if err != nil {
		t.Fatalf("Open(%s): %v", d, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading %s: %v", d, err)
	}
	return b
}

func put(t *testing.T, s artifact.Store, d string, b []byte) {
	t.Helper()
	if err := s.Put(context.Background(), d, bytes.NewReader(b)); err != nil {
		t.Fatalf("Put(%s): %v", d, err)
	}
}

func checkStored(t *testing.T, s artifact.Store, d string, want []byte) {
	t.Helper()
	size, err := s.Stat(context.Background(), d)
	if err != nil {
		t.Fatalf("Stat(%s): %v", d, err)
	}
	if size != int64(len(want)) {
		t.Errorf("Stat(%s) = %d, want %d", d, size, len(want))
	}
	if got := ReadAll(t, s, d); !bytes.Equal(got, want) {
		t.Errorf("content of %s differs from what was put (%d bytes, want %d)", d, len(got), len(want))
	}
}

func checkAbsent(t *testing.T, s artifact.Store, d string) {
	t.Helper()
	if _, err := s.Stat(context.Background(), d); !errors.Is(err, artifact.ErrNotFound) {
		t.Errorf("Stat(%s) error = %v, want ErrNotFound", d, err)
	}
	rc, err := s.Open(context.Background(), d)
	if err == nil {
		rc.Close()
	}
	if !errors.Is(err, artifact.ErrNotFound) {
		t.Errorf("Open(%s) error = %v, want ErrNotFound", d, err)
	}
}

func testPutOpenStat(t *testing.T, s artifact.Store) {
	for _, n := range []int{1, 4096, 3<<20 + 17} {
		b, d := Blob(t, n)
		put(t, s, d, b)
		checkStored(t, s, d, b)
	}
}

func testEmptyBlob(t *testing.T, s artifact.Store) {
	const empty = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	put(t, s, empty, nil)
	checkStored(t, s, empty, nil)
}

func testPutIdempotent(t *testing.T, s artifact.Store) {
	b, d := Blob(t, 1000)
	put(t, s, d, b)
	put(t, s, d, b)
	checkStored(t, s, d, b)
}

func testMismatchStoresNothing(t *testing.T, s artifact.Store) {
	b, d := Blob(t, 1000)
	other, _ := Blob(t, 1000)
	err := s.Put(context.Background(), d, bytes.NewReader(other))
	if !errors.Is(err, artifact.ErrDigestMismatch) {
		t.Fatalf("Put of wrong content: error = %v, want ErrDigestMismatch", err)
	}
	checkAbsent(t, s, d)
	// A failed Put must not block a later correct one.
	put(t, s, d, b)
	checkStored(t, s, d, b)
}

// cancelAfter yields zero bytes forever and cancels its context after n.
type cancelAfter struct {
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	c.n -= len(p)
	if c.n <= 0 {
		c.cancel()
	}
	return len(p), nil
}

func testCanceledPut(t *testing.T, s artifact.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, d := Blob(t, 10)
	err := s.Put(ctx, d, &cancelAfter{n: 1 << 20, cancel: cancel})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Put with canceled context: error = %v, want context.Canceled", err)
	}
	checkAbsent(t, s, d)
}

func testNotFound(t *testing.T, s artifact.Store) {
	_, d := Blob(t, 10)
	checkAbsent(t, s, d)
}

func testConcurrentPut(t *testing.T, s artifact.Store) {
	b, d := Blob(t, 1<<20)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			errs[i] = s.Put(context.Background(), d, bytes.NewReader(b))
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Put #%d: %v", i, err)
		}
	}
	checkStored(t, s, d, b)
}

func testBadDigest(t *testing.T, s artifact.Store) {
	ctx := context.Background()
	hex := strings.Repeat("ab", 32)
	for _, d := range []string{
		"",
		"sha256:",
		hex,
		"md5:" + hex,
		"sha512:" + hex,
		"SHA256:" + hex,
		"sha256:" + strings.ToUpper(hex),
		"sha256:" + hex[:63],
		"sha256:" + hex + "0",
		"sha256:" + hex[:62] + "zz",
		"sha256:../../../../../../etc/passwd",
		"sha256:" + hex[:60] + "/../",
	} {
		if err := s.Put(ctx, d, strings.NewReader("x")); !errors.Is(err, artifact.ErrInvalidDigest) {
			t.Errorf("Put(%q) error = %v, want ErrInvalidDigest", d, err)
		}
		if rc, err := s.Open(ctx, d); !errors.Is(err, artifact.ErrInvalidDigest) {
			if err == nil {
				rc.Close()
			}
			t.Errorf("Open(%q) error = %v, want ErrInvalidDigest", d, err)
		}
		if _, err := s.Stat(ctx, d); !errors.Is(err, artifact.ErrInvalidDigest) {
			t.Errorf("Stat(%q) error = %v, want ErrInvalidDigest", d, err)
		}
	}
}

func writeFile(t *testing.T, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "adopt-me")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func testAdopt(t *testing.T, s artifact.Store) {
	a, ok := s.(artifact.Adopter)
	if !ok {
		t.Skip("store does not implement artifact.Adopter")
	}
	b, d := Blob(t, 100_000)
	for i := range 2 { // second time: already stored
		p := writeFile(t, b)
		if err := a.Adopt(context.Background(), d, p); err != nil {
			t.Fatalf("Adopt #%d: %v", i, err)
		}
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Adopt #%d left the source file behind (stat error %v)", i, err)
		}
		checkStored(t, s, d, b)
	}
}

func testAdoptMismatch(t *testing.T, s artifact.Store) {
	a, ok := s.(artifact.Adopter)
	if !ok {
		t.Skip("store does not implement artifact.Adopter")
	}
	_, d := Blob(t, 1000)
	other, _ := Blob(t, 1000)
	p := writeFile(t, other)
	if err := a.Adopt(context.Background(), d, p); !errors.Is(err, artifact.ErrDigestMismatch) {
		t.Fatalf("Adopt of wrong content: error = %v, want ErrDigestMismatch", err)
	}
	checkAbsent(t, s, d)
	if got, err := os.ReadFile(p); err != nil || !bytes.Equal(got, other) {
		t.Errorf("Adopt mismatch did not leave the source file intact (err %v)", err)
	}
	if err := a.Adopt(context.Background(), "sha256:nope", p); !errors.Is(err, artifact.ErrInvalidDigest) {
		t.Errorf("Adopt with bad digest: error = %v, want ErrInvalidDigest", err)
	}
}

func testLocate(t *testing.T, s artifact.Store) {
	l, ok := s.(artifact.Locator)
	if !ok {
		t.Skip("store does not implement artifact.Locator")
	}
	b, d := Blob(t, 5000)
	if _, err := l.Path(d); !errors.Is(err, artifact.ErrNotFound) {
		t.Errorf("Path of missing blob: error = %v, want ErrNotFound", err)
	}
	put(t, s, d, b)
	p, err := l.Path(d)
	if err != nil {
		t.Fatalf("Path: %v", err)
	}
	if !filepath.IsAbs(p) {
		t.Errorf("Path = %q, want an absolute path", p)
	}
	if got, err := os.ReadFile(p); err != nil || !bytes.Equal(got, b) {
		t.Errorf("file at Path does not hold the blob (err %v)", err)
	}
	if _, err := l.Path("sha256:x"); !errors.Is(err, artifact.ErrInvalidDigest) {
		t.Errorf("Path with bad digest: error = %v, want ErrInvalidDigest", err)
	}
}

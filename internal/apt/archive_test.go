package apt

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/bakery-dev/bakery/internal/runner"
)

func testInput(content, name string) Input {
	sum := sha256.Sum256([]byte(content))
	return Input{Name: name, Version: "1.0", Arch: "all", SHA256: hex.EncodeToString(sum[:]), Size: int64(len(content))}
}

func newTestArchive(t *testing.T) *Archive {
	t.Helper()
	a, err := OpenArchive(t.TempDir(), &runner.Recorder{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestArchiveEnsure(t *testing.T) {
	files := map[string]string{"/pool/a.deb": "content of a", "/pool/b.deb": "content of b", "/pool/evil.deb": "not what the lock says"}
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		body, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, body)
	}))
	defer srv.Close()
	a := newTestArchive(t)
	ctx := context.Background()
	ina, inb := testInput("content of a", "a"), testInput("content of b", "b")
	ina.URLs = []string{srv.URL + "/missing/a.deb", srv.URL + "/pool/a.deb"} // first mirror lacks it
	inb.URLs = []string{srv.URL + "/pool/b.deb"}

	res, err := a.Ensure(ctx, []Input{ina, inb}, nil)
	if err != nil || res.Fetched != 2 || res.Present != 0 {
		t.Fatalf("first Ensure: %+v, %v", res, err)
	}
	// Second time: everything is present, nothing is downloaded.
	before := hits.Load()
	res, err = a.Ensure(ctx, []Input{ina, inb}, nil)
	if err != nil || res.Present != 2 || hits.Load() != before {
		t.Fatalf("second Ensure: %+v, %v, %d requests", res, err, hits.Load()-before)
	}
	// A corrupted entry is discarded and fetched again.
	path, err := a.Path(ina.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("bit rot"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err = a.Ensure(ctx, []Input{ina, inb}, nil)
	if err != nil || res.Discarded != 1 || res.Fetched != 1 || res.Present != 1 {
		t.Fatalf("after corruption: %+v, %v", res, err)
	}
	if data, _ := os.ReadFile(path); string(data) != "content of a" {
		t.Errorf("archive holds %q", data)
	}
}

func TestArchiveEnsureFailures(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "tampered")
	}))
	defer srv.Close()
	a := newTestArchive(t)
	gone := testInput("x", "gone-pkg")
	gone.URLs = []string{"http://127.0.0.1:9/pool/x.deb"} // refuses connections
	tampered := testInput("real", "tampered-pkg")
	tampered.URLs = []string{srv.URL + "/pool/t.deb"}
	nowhere := testInput("y", "nowhere-pkg")
	_, err := a.Ensure(context.Background(), []Input{gone, tampered, nowhere}, nil)
	if !errors.Is(err, ErrMissingInput) {
		t.Fatalf("err %v, want ErrMissingInput", err)
	}
	for _, name := range []string{"gone-pkg 1.0 (all)", "tampered-pkg 1.0 (all)", "nowhere-pkg 1.0 (all)", "digest mismatch"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %q: %v", name, err)
		}
	}
	if _, err := a.Path(tampered.SHA256); err == nil {
		t.Error("tampered content was stored")
	}
}

func TestArchiveControlCache(t *testing.T) {
	a := newTestArchive(t)
	in := testInput("deb", "a")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "deb") }))
	defer srv.Close()
	in.URLs = []string{srv.URL}
	if _, err := a.Ensure(context.Background(), []Input{in}, nil); err != nil {
		t.Fatal(err)
	}
	rec := &runner.Recorder{Outputs: map[string][]byte{"dpkg-deb": []byte("Package: a\nVersion: 1.0\nArchitecture: all\n")}}
	a.Runner = rec
	for range 2 {
		p, err := a.Control(context.Background(), in.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := p.Value("Package"); v != "a" {
			t.Errorf("control %+v", p)
		}
	}
	if len(rec.Cmds) != 1 || !strings.HasPrefix(rec.Cmds[0].String(), "dpkg-deb --field ") {
		t.Errorf("commands %v", rec.Argvs())
	}
}

package feed

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/catalog/catalogtest"
	"github.com/bakery-dev/bakery/internal/catalog/sqlite"
)

// testServer serves the feeds of a SQLite catalog holding two images of
// debian-cloud, the older promoted to stable and the newer made a security
// release.
func testServer(t *testing.T) (*httptest.Server, *sqlite.DB) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	a, b := catalogtest.Sample(1), catalogtest.Sample(2)
	for _, img := range []catalog.Image{a, b} {
		if err := db.AddImage(ctx, img); err != nil {
			t.Fatal(err)
		}
	}
	changes := []catalog.Change{
		{
			Event: catalog.Event{Product: a.Product, Action: catalog.ActionPromote, Image: a.Name, Version: a.Version, Channel: "stable", Actor: "alice", At: b.CreatedAt},
			Moves: []catalog.Move{{Channel: "stable", To: a.Name}},
		},
		{
			Event: catalog.Event{Product: b.Product, Action: catalog.ActionSecurityRelease, Image: b.Name, Version: b.Version, Actor: "alice", At: b.CreatedAt},
			Marks: []catalog.Mark{{Image: b.Name, Marks: catalog.Marks{Security: true, Advisories: []string{"DSA-9-1"}, Severity: "high", Fixed: []string{"openssl"}}}},
		},
	}
	for _, c := range changes {
		if _, err := db.ApplyChange(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/feeds/", Handler(db, DefaultOptions("http://images.test")))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, db
}

func get(t *testing.T, srv *httptest.Server, path string, header ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func TestHandler(t *testing.T) {
	srv, _ := testServer(t)
	tests := []struct {
		path    string
		entries int
		want    string
	}{
		{"/feeds/releases.atom", 4, "debian-cloud 0.1.1 promoted to stable"},
		{"/feeds/security.atom", 1, "Security release debian-cloud 0.1.2: DSA-9-1 (high)"},
		{"/feeds/debian-cloud/releases.atom", 4, "debian-cloud 0.1.2 built"},
		{"/feeds/debian-cloud/security.atom", 1, "Fixed packages: openssl"},
	}
	for _, tt := range tests {
		resp, body := get(t, srv, tt.path)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != ContentType {
			t.Errorf("GET %s: %s, %s", tt.path, resp.Status, resp.Header.Get("Content-Type"))
			continue
		}
		f := checkAtom(t, []byte(body))
		if len(f.Entries) != tt.entries || !strings.Contains(body, tt.want) || f.ID != "http://images.test"+tt.path {
			t.Errorf("GET %s: id %s, %d entries (want %d), contains %q: %v\n%s", tt.path, f.ID, len(f.Entries), tt.entries, tt.want, strings.Contains(body, tt.want), body)
		}
		again, _ := get(t, srv, tt.path, "If-None-Match", resp.Header.Get("ETag"))
		if again.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s with its ETag: %s, want 304", tt.path, again.Status)
		}
	}
	for path, code := range map[string]int{
		"/feeds/no-such-product/releases.atom": http.StatusNotFound,
		"/feeds/no-such-product/security.atom": http.StatusNotFound,
		"/feeds/other.atom":                    http.StatusNotFound,
	} {
		if resp, _ := get(t, srv, path); resp.StatusCode != code {
			t.Errorf("GET %s: %s, want %d", path, resp.Status, code)
		}
	}
	resp, err := srv.Client().Post(srv.URL+"/feeds/releases.atom", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %s, want 405", resp.Status)
	}
}

func TestHandlerRejectsBadOptions(t *testing.T) {
	if _, err := NewHandler(nil, DefaultOptions("not a url")); err == nil {
		t.Error("NewHandler accepted a relative base URL")
	}
}

func TestFilesMatchHandler(t *testing.T) {
	srv, db := testServer(t)
	files, err := Files(context.Background(), db, DefaultOptions("http://images.test"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 4 {
		t.Errorf("%d files, want 4 (two global feeds, two of debian-cloud)", len(files))
	}
	for path, doc := range files {
		resp, body := get(t, srv, "/"+path)
		if resp.StatusCode != http.StatusOK || body != string(doc) {
			t.Errorf("file %s differs from what the handler serves (%s)", path, resp.Status)
		}
	}
}

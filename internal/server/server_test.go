package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/bakery-dev/bakery/internal/artifact/fsstore"
	"github.com/bakery-dev/bakery/internal/catalog/sqlite"
	"github.com/bakery-dev/bakery/internal/pgpkey"
	"github.com/bakery-dev/bakery/internal/publish/publishtest"
	"github.com/bakery-dev/bakery/internal/simplestreams"
)

type env struct {
	server *Server
	srv    *httptest.Server
	ring   openpgp.EntityList
	fill   *publishtest.Filler
	cat    *sqlite.DB
	now    time.Time
}

func newEnv(t *testing.T, mutate func(*Options)) *env {
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
	e := &env{ring: ring, fill: publishtest.New(cat, store, 7, 10000), cat: cat, now: time.Now()}
	if err := e.fill.Fill(ctx, []string{"alpha", "beta"}, 2); err != nil {
		t.Fatal(err)
	}
	opt := DefaultOptions()
	opt.Catalog, opt.Store, opt.Key, opt.CheckInterval = cat, store, key, 0
	opt.Now = func() time.Time { return e.now }
	if mutate != nil {
		mutate(&opt)
	}
	s, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	e.server = s
	e.srv = httptest.NewServer(s.Handler())
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) get(t *testing.T, path string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	tr := &http.Transport{DisableCompression: true}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

func (e *env) client() *simplestreams.Client {
	u, _ := url.Parse(e.srv.URL)
	return &simplestreams.Client{Source: simplestreams.HTTP{Base: u}, Keyring: e.ring}
}

func TestServeStreamsVerified(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	n := 0
	err := c.Walk(context.Background(), func(_, _, _ string, it simplestreams.ProductVersionItem) error {
		n++
		return c.VerifyItem(context.Background(), it)
	})
	if err != nil || n == 0 {
		t.Fatalf("walking over HTTP: %d items, %v", n, err)
	}
	resp, body := e.get(t, "/streams/v1/bakery.asc")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pgp-keys" || !bytes.Contains(body, []byte("PUBLIC KEY")) {
		t.Errorf("key: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if resp, body := e.get(t, "/healthz"); resp.StatusCode != 200 || string(body) != "ok\n" {
		t.Errorf("healthz: %d %q", resp.StatusCode, body)
	}
}

func TestServeHTTPBehaviour(t *testing.T) {
	e := newEnv(t, nil)
	resp, plain := e.get(t, "/streams/v1/index.json")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("ETag") == "" {
		t.Fatalf("index: %d %v", resp.StatusCode, resp.Header)
	}
	etag := resp.Header.Get("ETag")
	if resp, _ := e.get(t, "/streams/v1/index.json", "If-None-Match", etag); resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match on the index: %d, want 304", resp.StatusCode)
	}
	resp, gz := e.get(t, "/streams/v1/index.json", "Accept-Encoding", "br, gzip")
	if resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("ETag") == etag || !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
		t.Fatalf("gzip: %v", resp.Header)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	unz, _ := io.ReadAll(zr)
	if !bytes.Equal(unz, plain) {
		t.Error("gzipped index differs from the plain one")
	}
	if resp, _ := e.get(t, "/streams/v1/index.json", "Accept-Encoding", "gzip;q=0"); resp.Header.Get("Content-Encoding") != "" {
		t.Error("gzip;q=0 got gzip")
	}
	if resp, _ := e.get(t, "/streams/v1/index.sjson"); !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Errorf("sjson content type %q", resp.Header.Get("Content-Type"))
	}

	idx, _ := simplestreams.ParseIndex(plain)
	var item simplestreams.ProductVersionItem
	prods, _ := e.client().Products(context.Background(), idx.Index["org.example.bakery:released:download"])
	for _, p := range prods.Products {
		for _, v := range p.Versions {
			item = v.Items["disk1.img"]
		}
	}
	resp, whole := e.get(t, "/"+item.Path)
	if resp.StatusCode != 200 || int64(len(whole)) != item.Size || resp.Header.Get("Content-Type") != "application/x-qemu-disk" || resp.Header.Get("ETag") != `"`+item.SHA256+`"` {
		t.Fatalf("artifact: %d, %d bytes, %v", resp.StatusCode, len(whole), resp.Header)
	}
	resp, part := e.get(t, "/"+item.Path, "Range", "bytes=100-199")
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(part, whole[100:200]) {
		t.Errorf("range: %d, %d bytes", resp.StatusCode, len(part))
	}
	if resp, _ := e.get(t, "/"+item.Path, "If-None-Match", `"`+item.SHA256+`"`); resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match on an artifact: %d", resp.StatusCode)
	}
	if resp, _ := e.get(t, "/images/nope/1/x.qcow2"); resp.StatusCode != 404 {
		t.Errorf("unknown path: %d", resp.StatusCode)
	}
	if resp, err := http.Post(e.srv.URL+"/streams/v1/index.json", "text/plain", nil); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %v %v", resp.StatusCode, err)
	}
}

func TestServeFollowsCatalog(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	_, before := e.get(t, "/streams/v1/org.example.bakery:daily:download.json")
	img, err := e.fill.AddImage(ctx, "gamma", "0.1.0")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.fill.Move(ctx, img, "devel"); err != nil {
		t.Fatal(err)
	}
	_, after := e.get(t, "/streams/v1/org.example.bakery:daily:download.json")
	if bytes.Contains(before, []byte(img.Serial)) || !bytes.Contains(after, []byte(img.Name)) {
		t.Errorf("the daily stream did not follow the catalog:\n%s", after)
	}
	if err := e.fill.Revoke(ctx, img); err != nil {
		t.Fatal(err)
	}
	if _, revoked := e.get(t, "/streams/v1/org.example.bakery:daily:download.json"); bytes.Contains(revoked, []byte(img.Name)) {
		t.Error("a revoked image is still served")
	}
	if resp, _ := e.get(t, "/images/gamma/"+img.Serial+"/"+img.Artifacts[0].Filename); resp.StatusCode != 404 {
		t.Errorf("a revoked image's artifact: %d, want 404", resp.StatusCode)
	}
}

func TestServeResignsBeforeExpiry(t *testing.T) {
	e := newEnv(t, nil)
	idx1, err := e.client().Index(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	e.now = e.now.Add(2 * 24 * time.Hour)
	c := e.client()
	c.Now = func() time.Time { return e.now }
	idx2, err := c.Index(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if idx1.Expires == idx2.Expires {
		t.Errorf("index not re-signed: expires %s both times", idx1.Expires)
	}
}

func TestServeMountsAndValidate(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		o.Mounts = map[string]http.Handler{"/feeds/": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "feed "+r.URL.Path)
		})}
	})
	if resp, body := e.get(t, "/feeds/all.atom"); resp.StatusCode != 200 || string(body) != "feed /feeds/all.atom" {
		t.Errorf("mount: %d %q", resp.StatusCode, body)
	}
	bad := DefaultOptions()
	if _, err := New(bad); err == nil {
		t.Error("options without catalog accepted")
	}
	bad.Catalog, bad.Store, bad.Key = e.cat, fsstoreFor(t), keyFor(t)
	bad.Mounts = map[string]http.Handler{"/streams/x": http.NotFoundHandler()}
	if _, err := New(bad); err == nil {
		t.Error("a mount shadowing the streams accepted")
	}
}

// TestServeRootMountIsFallback: a handler mounted at "/" gets only what
// the streams, artifacts, /healthz and longer mounts do not answer.
func TestServeRootMountIsFallback(t *testing.T) {
	echo := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, name+" "+r.URL.Path) })
	}
	e := newEnv(t, func(o *Options) { o.Mounts = map[string]http.Handler{"/": echo("root"), "/feeds/": echo("feed")} })
	for path, want := range map[string]string{
		"/":                   "root /",
		"/products/alpha":     "root /products/alpha",
		"/feeds/all.atom":     "feed /feeds/all.atom",
		"/streams/v1/nothing": "root /streams/v1/nothing",
	} {
		if resp, body := e.get(t, path); resp.StatusCode != 200 || string(body) != want {
			t.Errorf("%s: %d %q, want %q", path, resp.StatusCode, body, want)
		}
	}
	for _, path := range []string{"/streams/v1/index.json", "/healthz"} {
		if resp, body := e.get(t, path); resp.StatusCode != 200 || strings.HasPrefix(string(body), "root ") {
			t.Errorf("%s went to the root mount: %d %q", path, resp.StatusCode, body)
		}
	}
}

func fsstoreFor(t *testing.T) *fsstore.Store {
	s, err := fsstore.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func keyFor(t *testing.T) *pgpkey.Key {
	k, err := pgpkey.Create(t.TempDir(), pgpkey.Spec{Name: "t", PrivateFile: "k", PublicFile: "k.asc", ArmoredPublic: true})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestServeConcurrentWhileCatalogChanges(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	done := make(chan struct{})
	errs := make(chan string, 16)
	for range 8 {
		go func() {
			for {
				select {
				case <-done:
					errs <- ""
					return
				default:
				}
				resp, err := http.Get(e.srv.URL + "/streams/v1/index.json")
				if err != nil {
					errs <- err.Error()
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					errs <- resp.Status
					return
				}
			}
		}()
	}
	var last string
	for i := range 5 {
		img, err := e.fill.AddImage(ctx, "gamma", "0.1."+string(rune('0'+i)))
		if err != nil {
			t.Fatal(err)
		}
		if err := e.fill.Move(ctx, img, "devel"); err != nil {
			t.Fatal(err)
		}
		last = img.Name
	}
	close(done)
	for range 8 {
		if msg := <-errs; msg != "" {
			t.Error(msg)
		}
	}
	if _, body := e.get(t, "/streams/v1/org.example.bakery:daily:download.json"); !bytes.Contains(body, []byte(last)) {
		t.Error("the last image added is not served")
	}
}

func TestServeDocHEADAndLength(t *testing.T) {
	e := newEnv(t, nil)
	_, body := e.get(t, "/streams/v1/index.json")
	req, _ := http.NewRequest(http.MethodHead, e.srv.URL+"/streams/v1/index.json", nil)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ContentLength != int64(len(body)) || resp.Header.Get("Last-Modified") == "" || resp.Header.Get("Accept-Ranges") != "bytes" {
		t.Errorf("HEAD: %d length %d (body %d) %v", resp.StatusCode, resp.ContentLength, len(body), resp.Header)
	}
	if resp, part := e.get(t, "/streams/v1/index.json", "Range", "bytes=0-9"); resp.StatusCode != 206 || string(part) != string(body[:10]) {
		t.Errorf("range on a document: %d %q", resp.StatusCode, part)
	}
}

func TestServeLastPublished(t *testing.T) {
	e := newEnv(t, nil)
	fams, _ := e.server.PublishedMetrics(context.Background())
	if !e.server.LastPublished().IsZero() || fams[0].Samples[0].Value != 0 {
		t.Errorf("before any request: last published %v, gauge %v; want zero", e.server.LastPublished(), fams[0].Samples[0].Value)
	}
	e.get(t, "/streams/v1/index.json")
	fams, _ = e.server.PublishedMetrics(context.Background())
	if got := e.server.LastPublished(); !got.Equal(e.now) && got.Sub(e.now).Abs() > time.Second {
		t.Errorf("last published %v, want the signing time %v", got, e.now)
	}
	if v := fams[0].Samples[0].Value; v < float64(e.now.Unix())-1 || fams[0].Name != "bakery_streams_last_publish_timestamp_seconds" {
		t.Errorf("gauge %s = %v, want about %d", fams[0].Name, v, e.now.Unix())
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/feed"
	"github.com/bakery-dev/bakery/internal/simplestreams"
)

// syncBuffer is a bytes.Buffer safe for one writer and a polling reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var servingURL = regexp.MustCompile(`serving the catalog at (http://\S+)`)

// startServe runs `bakery serve --listen 127.0.0.1:0` in-process and
// returns its base URL and a function that stops it as Ctrl-C does and
// returns its exit code.
func startServe(t *testing.T, state string, extra ...string) (*url.URL, func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	g := &globals{stdout: &out, stderr: &errb, getenv: func(string) (string, bool) { return "", false }}
	done := make(chan int, 1)
	go func() {
		done <- runWith(ctx, g, append([]string{"--state-dir", state, "serve", "--listen", "127.0.0.1:0"}, extra...))
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m := servingURL.FindStringSubmatch(out.String()); m != nil {
			u, err := url.Parse(m[1])
			if err != nil {
				t.Fatal(err)
			}
			stop := func() int {
				cancel()
				select {
				case code := <-done:
					return code
				case <-time.After(15 * time.Second):
					t.Fatal("serve did not stop after Ctrl-C")
					return -1
				}
			}
			return u, stop
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited %d: %s", code, errb.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve printed no URL: %q %q", out.String(), errb.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// verifyServed fetches the signed streams over HTTP and downloads every
// item, checking its sha256 and size; it returns the item count.
func verifyServed(t *testing.T, base *url.URL, ring openpgp.KeyRing) int {
	t.Helper()
	c := &simplestreams.Client{Source: simplestreams.HTTP{Base: base}, Keyring: ring}
	n := 0
	err := c.Walk(context.Background(), func(_, _, _ string, it simplestreams.ProductVersionItem) error {
		n++
		return c.VerifyItem(context.Background(), it)
	})
	if err != nil {
		t.Fatalf("verifying the served streams: %v", err)
	}
	return n
}

// TestServeSyntheticCatalog serves streams, feeds and webhooks: every item
// verified over HTTP, the Atom feeds under /feeds/, and a promotion made
// while serving delivered to a webhook receiver.
func TestServeSyntheticCatalog(t *testing.T) {
	ctx := context.Background()
	s := newSyntheticState(t, 8192)
	if err := s.fill.Fill(ctx, []string{"alpha", "beta"}, 3); err != nil {
		t.Fatal(err)
	}
	rec := newHookReceiver("s3cret")
	hooks := httptest.NewServer(rec)
	defer hooks.Close()
	if _, err := s.cat.AddWebhook(ctx, catalog.Webhook{URL: hooks.URL, Events: []string{catalog.HookPromoted}, Secret: "s3cret"}); err != nil {
		t.Fatal(err)
	}
	base, stop := startServe(t, s.dir, "--webhook-poll", "50ms")
	// 2 products × 5 files × (3 images on daily, the first on released,
	// the second on rolling).
	if n := verifyServed(t, base, s.ring); n != 2*5*(3+1+1) {
		t.Errorf("verified %d items", n)
	}
	for _, p := range []string{feed.Path(feed.Releases, ""), feed.Path(feed.Security, "alpha")} {
		resp, err := http.Get(base.String() + p)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var doc struct {
			XMLName xml.Name
			ID      string `xml:"id"`
		}
		if err := xml.Unmarshal(body, &doc); resp.StatusCode != http.StatusOK || err != nil || doc.XMLName.Space != feed.Namespace || doc.ID != base.String()+p {
			t.Errorf("GET %s: %s, %v, %+v", p, resp.Status, err, doc)
		}
	}
	img, err := s.fill.AddImage(ctx, "alpha", "3.0.0")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.fill.Move(ctx, img, "devel"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the promotion's webhook", 10*time.Second, func() bool { return rec.ackCount() == 1 })
	rec.mu.Lock()
	if len(rec.bad) != 0 {
		t.Errorf("bad webhook requests: %v", rec.bad)
	}
	rec.mu.Unlock()
	checkWebCatalog(t, base)
	if code := stop(); code != 0 {
		t.Errorf("serve exit %d after Ctrl-C, want 0", code)
	}
}

// TestPublishStreamsAndFeeds publishes twice: products files at
// content-addressed paths named by the index, the feeds beside them, and
// an unchanged catalog rewrites at most the index.
func TestPublishStreamsAndFeeds(t *testing.T) {
	s := newSyntheticState(t, 4096)
	if err := s.fill.Fill(context.Background(), []string{"alpha", "beta"}, 2); err != nil {
		t.Fatal(err)
	}
	www := t.TempDir()
	publish := func() publishStats {
		t.Helper()
		code, out, errOut := runCLI(t, nil, "--state-dir", s.dir, "--json", "publish", "--to", www, "--base-url", "https://images.example.org")
		var st publishStats
		if code != 0 || json.Unmarshal([]byte(out), &st) != nil {
			t.Fatalf("publish: exit %d %s %s", code, out, errOut)
		}
		return st
	}
	publish()
	checkComplete(t, www, s.ring)
	idx, err := (&simplestreams.Client{Source: simplestreams.Dir(www), Keyring: s.ring}).Index(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	versioned := regexp.MustCompile(`^streams/v1/[^/]+\.[0-9a-f]{16}\.json$`)
	for id, e := range idx.Index {
		if !versioned.MatchString(e.Path) {
			t.Errorf("index entry %s: path %s is not content-addressed", id, e.Path)
		}
	}
	for _, p := range []string{"feeds/releases.atom", "feeds/security.atom", "feeds/alpha/releases.atom", "feeds/beta/security.atom"} {
		data, err := os.ReadFile(filepath.Join(www, p))
		if err != nil || !bytes.Contains(data, []byte("<id>https://images.example.org/"+p+"</id>")) {
			t.Errorf("%s: %v\n%s", p, err, data)
		}
	}
	if st := publish(); st.Written > 2 || st.Removed != 0 { // the index is new unless signed in the same second
		t.Errorf("unchanged catalog: %+v, want at most the index and its signed variant written", st)
	}
}

type publishStats struct{ Written, Unchanged, Removed int }

// checkWebCatalog fetches the web catalog's product list and a product
// page from the served root.
func checkWebCatalog(t *testing.T, base *url.URL) {
	t.Helper()
	for path, want := range map[string]string{"/": `href="/products/alpha"`, "/products/beta": "<h1>beta</h1>"} {
		resp, err := http.Get(base.JoinPath(path).String())
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: %d, no %q", path, resp.StatusCode, want)
		}
	}
}

func TestStreamsCommandsNeedKey(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{{"publish", "--to", t.TempDir()}, {"serve", "--listen", "127.0.0.1:0"}} {
		code, _, errOut := runCLI(t, nil, append([]string{"--state-dir", dir}, args...)...)
		if code != 2 || !bytes.Contains([]byte(errOut), []byte("bakery keygen")) {
			t.Errorf("%v without a key: exit %d %q", args, code, errOut)
		}
	}
	if code, _, errOut := runCLI(t, nil, "--state-dir", dir, "publish"); code != 2 {
		t.Errorf("publish without --to: exit %d %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, nil, "--state-dir", dir, "publish", "--to", dir, "--expiry", "7x"); code != 2 {
		t.Errorf("bad --expiry: exit %d %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, nil, "--state-dir", dir, "serve", "--webhook-timeout", "5s", "--webhook-lease", "2s"); code != 2 || !strings.Contains(errOut, "lease") {
		t.Errorf("webhook lease below the timeout: exit %d %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, nil, "--state-dir", dir, "publish", "--to", dir, "--base-url", "ftp://x"); code != 2 {
		t.Errorf("bad --base-url: exit %d %s", code, errOut)
	}
}

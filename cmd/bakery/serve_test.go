package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

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
func startServe(t *testing.T, state string) (*url.URL, func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	g := &globals{stdout: &out, stderr: &errb, getenv: func(string) (string, bool) { return "", false }}
	done := make(chan int, 1)
	go func() { done <- runWith(ctx, g, []string{"--state-dir", state, "serve", "--listen", "127.0.0.1:0"}) }()
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

func TestServeSyntheticCatalog(t *testing.T) {
	s := newSyntheticState(t, 8192)
	if err := s.fill.Fill(context.Background(), []string{"alpha", "beta"}, 3); err != nil {
		t.Fatal(err)
	}
	base, stop := startServe(t, s.dir)
	// 2 products × 5 files × (3 images on daily, the first on released,
	// the second on rolling).
	if n := verifyServed(t, base, s.ring); n != 2*5*(3+1+1) {
		t.Errorf("verified %d items", n)
	}
	checkWebCatalog(t, base)
	if code := stop(); code != 0 {
		t.Errorf("serve exit %d after Ctrl-C, want 0", code)
	}
}

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
}

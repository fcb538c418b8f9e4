package web

import (
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/release"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func get(t *testing.T, h http.Handler, target string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	resp := rec.Result()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func TestPages(t *testing.T) {
	f, imgs := standardFixture(t)
	h := f.handler(t)
	deb := "/products/debian-bookworm"
	tests := []struct {
		name, target string
		code         int
		want, not    []string
	}{
		{"list", "/", 200, []string{`<html lang="en">`, `href="/products/debian-bookworm"`, `href="/products/ubuntu-noble"`, "2 of 2 products",
			`<label for="f-distro">`, `<th scope="col">Product</th>`, `href="/static/site.css"`}, nil},
		{"filter distro", "/?distro=ubuntu", 200, []string{"1 of 2 products", "ubuntu-noble", `<option selected>ubuntu</option>`}, []string{`href="/products/debian-bookworm"`}},
		{"filter arch", "/?arch=amd64", 200, []string{`href="/products/debian-bookworm"`}, []string{`href="/products/ubuntu-noble"`}},
		{"filter channel", "/?channel=devel&release=bookworm", 200, []string{`href="/products/debian-bookworm"`}, []string{`href="/products/ubuntu-noble"`}},
		{"search version", "/?q=1.3", 200, []string{"1 of 2 products", "matching: 1.3.0"}, []string{`href="/products/ubuntu-noble"`}},
		{"search none", "/?q=nothing-like-this", 200, []string{"No product matches"}, nil},
		{"product", deb, 200, []string{
			"<h1>debian-bookworm</h1>", imgs["1.3.0"].Name, "a security release supersedes this", "DSA-5801-1",
			"breaks cloud-init networking", `class="is-revoked"`, `<span class="qa qa-passed">passed</span>`,
			"curl -fO http://example.com/download/" + imgs["1.1.0"].Name + "/" + imgs["1.1.0"].Name + ".qcow2 &amp;&amp; echo",
			"| sha256sum -c &amp;&amp; qemu-img info", "Support policy", "3 newer minor lines", `<svg xmlns="http://www.w3.org/2000/svg"`,
			"Upgrade paths to stable", "1.0.1</th><td>1.1.0</td>"}, nil},
		{"version", deb + "/" + imgs["1.1.0"].Name, 200, []string{
			"<h1>" + imgs["1.1.0"].Name + "</h1>", "openssh-server", "no-ssh-host-keys", "cloud-init-done",
			imgs["1.1.0"].Name + ".sbom.spdx.json", imgs["1.1.0"].Name + ".provenance.json", "qa-report.json",
			`<code class="commit">`, `<label for="against">Compare with</label>`}, []string{`id="changelog"`}},
		{"version by version number", deb + "/1.0.0", 200, []string{"<h1>" + imgs["1.0.0"].Name + "</h1>", "a security release supersedes this"}, nil},
		{"changelog locks", deb + "/" + imgs["1.1.0"].Name + "?against=" + imgs["1.0.0"].Name, 200, []string{
			`id="changelog"`, "From 1.0.0 to 1.1.0", "images' locks",
			`<tr class="upgraded"><td>upgraded</td><th scope="row">openssl</th><td>amd64</td><td>3.0.11-1~deb12u1</td><td>3.0.15-1~deb12u1</td></tr>`,
			`<tr class="added"><td>added</td><th scope="row">curl</th>`, `<tr class="removed"><td>removed</td><th scope="row">bash</th>`,
			"git log --oneline"}, nil},
		{"changelog package lists", deb + "/" + imgs["1.2.0"].Name + "?against=1.3.0", 200, []string{
			"From 1.2.0 to 1.3.0", "package lists", `<th scope="row">base-files</th><td>amd64</td><td>12.4&#43;deb12u8</td><td>12.4&#43;deb12u9</td>`}, nil},
		{"history svg", deb + "/history.svg", 200, []string{"<?xml", "<title id=\"history-title\">Release history of debian-bookworm</title>", "revoked 1.2.0"}, nil},
		{"unknown product", "/products/nope", 404, []string{"404"}, nil},
		{"unknown version", deb + "/9.9.9", 404, nil, nil},
		{"unknown against", deb + "/1.0.0?against=9.9.9", 404, nil, nil},
		{"unknown page", "/nope", 404, nil, nil},
		{"static css", "/static/site.css", 200, []string{"--focus"}, nil},
		{"static js", "/static/site.js", 200, []string{"clipboard"}, nil},
		{"unknown static", "/static/x.css", 404, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, h, tt.target)
			if resp.StatusCode != tt.code {
				t.Fatalf("GET %s: %d, want %d\n%.2000s", tt.target, resp.StatusCode, tt.code, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("GET %s: no %q in\n%.3000s", tt.target, w, body)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(body, n) {
					t.Errorf("GET %s: unexpected %q", tt.target, n)
				}
			}
		})
	}
}

// TestStrictCSP checks every page for what a strict Content-Security-Policy
// (script-src 'self'; style-src 'self') refuses: inline scripts, style
// elements and attributes, event handler attributes.
func TestStrictCSP(t *testing.T) {
	f, imgs := standardFixture(t)
	h := f.handler(t)
	inline := regexp.MustCompile(`(?i)<script>|<script [^>]*>[^<]|<style|\sstyle=|\son[a-z]+=|javascript:`)
	for _, target := range []string{"/", "/products/debian-bookworm", "/products/debian-bookworm/" + imgs["1.1.0"].Name + "?against=1.0.0", "/nope"} {
		_, body := get(t, h, target)
		if m := inline.FindString(body); m != "" {
			t.Errorf("%s: %q breaks a strict CSP", target, m)
		}
	}
}

func TestDownload(t *testing.T) {
	f, imgs := standardFixture(t)
	h := f.handler(t)
	img := imgs["1.1.0"]
	resp, body := get(t, h, "/download/"+img.Name+"/"+img.Name+".qcow2")
	if resp.StatusCode != 200 || body != "QFI\xfb qcow2 of "+img.Name {
		t.Fatalf("download: %d %q", resp.StatusCode, body)
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, "attachment") {
		t.Errorf("Content-Disposition %q", cd)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/download/"+img.Name+"/"+img.Name+".qcow2", nil)
	req.Header.Set("Range", "bytes=0-2")
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusPartialContent || rec.Body.String() != "QFI" {
		t.Errorf("range: %d %q", rec.Code, rec.Body.String())
	}
	if resp, _ := get(t, h, "/download/"+img.Name+"/qa-report.json"); resp.StatusCode != 200 {
		t.Errorf("QA report: %d", resp.StatusCode)
	}
	for _, p := range []string{"/download/" + img.Name + "/nope", "/download/nope/x.qcow2", "/download/" + img.Name, "/download/" + url.PathEscape(img.Name) + "/a/b"} {
		if resp, _ := get(t, h, p); resp.StatusCode != 404 {
			t.Errorf("%s: %d, want 404", p, resp.StatusCode)
		}
	}
}

func TestCacheFollowsGeneration(t *testing.T) {
	f, imgs := standardFixture(t)
	h := f.handler(t)
	_, before := get(t, h, "/products/debian-bookworm")
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/products/debian-bookworm", nil)
	h.ServeHTTP(rec, req)
	etag := rec.Header().Get("ETag")
	req.Header.Set("If-None-Match", etag)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified {
		t.Errorf("If-None-Match: %d, want 304", rec.Code)
	}
	f.apply(t, "debian-bookworm", func(s release.State) (catalog.Change, error) {
		return s.Revoke(imgs["1.3.0"], release.Request{Actor: "test", At: fixtureNow, Reason: "kernel panic on boot"})
	})
	_, after := get(t, h, "/products/debian-bookworm")
	if after == before || !strings.Contains(after, "kernel panic on boot") {
		t.Error("the product page did not change with the catalog")
	}
}

// TestServeStale: with ServeStale a changed catalog's page is answered
// from the cache once more, then rendered again in the background.
func TestServeStale(t *testing.T) {
	f, imgs := standardFixture(t)
	h := f.handler(t)
	h.opt.ServeStale = true
	_, before := get(t, h, "/products/debian-bookworm")
	f.apply(t, "debian-bookworm", func(s release.State) (catalog.Change, error) {
		return s.Revoke(imgs["1.3.0"], release.Request{Actor: "test", At: fixtureNow, Reason: "kernel panic on boot"})
	})
	if _, stale := get(t, h, "/products/debian-bookworm"); stale != before {
		t.Fatal("the first request after the change was not answered from the cache")
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, body := get(t, h, "/products/debian-bookworm"); strings.Contains(body, "kernel panic on boot") {
			return
		}
	}
	t.Fatal("the page was not rendered again after the change")
}

func TestMethodNotAllowed(t *testing.T) {
	f, _ := standardFixture(t)
	rec := httptest.NewRecorder()
	f.handler(t).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /: %d", rec.Code)
	}
}

func TestHistorySVGGolden(t *testing.T) {
	f, _ := standardFixture(t)
	s, err := release.Load(t.Context(), f.cat, "debian-bookworm")
	if err != nil {
		t.Fatal(err)
	}
	got := HistorySVG(s, fixtureNow)
	golden := filepath.Join("testdata", "history.golden.svg")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("history SVG differs from %s (go test -run TestHistorySVGGolden -update to accept):\n%s", golden, got)
	}
	if err := xmlWellFormed(got); err != nil {
		t.Error(err)
	}
}

func TestHistorySVGEmpty(t *testing.T) {
	s := release.State{Product: "p<&>"}
	got := string(HistorySVG(s, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)))
	if !strings.Contains(got, "p&lt;&amp;&gt;") {
		t.Errorf("product name not escaped: %s", got)
	}
	if err := xmlWellFormed([]byte(got)); err != nil {
		t.Error(err)
	}
}

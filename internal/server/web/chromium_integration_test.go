package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// screenshotDir is where the integration test leaves its screenshots,
// from this package's directory.
var screenshotDir = filepath.Join("..", "..", "..", "bench", "results", "screenshots")

// strictCSP is what the pages must run under: no inline script or style.
const strictCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'"

// TestIntegrationChromium drives the web catalog in real headless
// Chromium (Debian's chromium package, through the DevTools protocol):
// filter the product list, open a product and its release history, open a
// version and a changelog between two versions, and move by keyboard;
// every page under a strict Content-Security-Policy. Screenshots go to
// bench/results/screenshots/.
func TestIntegrationChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("drives headless Chromium")
	}
	f, imgs := standardFixture(t)
	site := f.handler(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", strictCSP)
		site.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	ctx := browser(t)
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	b := &tab{t: t, ctx: ctx}
	b.do("product list", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("table.products")), b.shot("catalog.png"))
	if text := b.text("#count"); text != "2 of 2 products" {
		t.Errorf("product list count %q", text)
	}
	b.do("filter by distribution",
		chromedp.SetValue(chromedp.CSS("#f-distro"), "debian"),
		chromedp.Click(chromedp.CSS("form.filters button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("table.products")))
	if text, n := b.text("#count"), eval[int](b, `document.querySelectorAll('table.products tbody tr').length`); text != "1 of 2 products" || n != 1 {
		t.Errorf("after filtering: count %q, %d rows", text, n)
	}
	b.do("open the product",
		chromedp.Click(chromedp.CSS(`a[href="/products/debian-bookworm"]`)),
		chromedp.WaitVisible(chromedp.CSS("svg.history")),
		b.shot("product.png"),
		chromedp.ScrollIntoView(chromedp.CSS("#h-history")),
		b.shot("product-history.png"))
	if n := eval[int](b, `document.querySelectorAll('svg.history rect').length`); n == 0 {
		t.Error("the release history picture has no channel bars")
	}
	versions := b.text("table.versions")
	for _, want := range []string{"a security release supersedes this", "breaks cloud-init networking"} {
		if !strings.Contains(versions, want) {
			t.Errorf("versions table lacks %q", want)
		}
	}
	styled := eval[bool](b, `getComputedStyle(document.querySelector('header.top')).backgroundColor === 'rgb(44, 82, 130)'`)
	scripted := eval[bool](b, `document.querySelectorAll('.cmd button').length > 0`)
	if !styled || !scripted {
		t.Errorf("under the strict CSP: stylesheet applied %v, script ran %v", styled, scripted)
	}
	b.do("the history picture on its own",
		chromedp.Navigate(srv.URL+"/products/debian-bookworm/history.svg"),
		chromedp.WaitReady(chromedp.CSS("svg")),
		b.shot("history.png"))
	b.do("back to the product", chromedp.Navigate(srv.URL+"/products/debian-bookworm"), chromedp.WaitVisible(chromedp.CSS("table.versions")))

	v110 := imgs["1.1.0"].Name
	b.do("open a version",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`table.versions a[href="/products/debian-bookworm/%s"]`, v110))),
		chromedp.WaitVisible(chromedp.CSS("#against")))
	if text := b.text("h1"); text != v110 {
		t.Errorf("version page heading %q, want %q", text, v110)
	}
	b.do("open a changelog",
		chromedp.SetValue(chromedp.CSS("#against"), imgs["1.0.0"].Name),
		chromedp.Click(chromedp.CSS("form.against button")),
		chromedp.WaitVisible(chromedp.CSS("#changelog")),
		chromedp.ScrollIntoView(chromedp.CSS("#h-changelog")),
		b.shot("changelog.png"))
	changelog := b.text("#changelog")
	for _, want := range []string{"From 1.0.0 to 1.1.0", "openssl", "3.0.15-1~deb12u1", "curl", "bash"} {
		if !strings.Contains(changelog, want) {
			t.Errorf("changelog lacks %q:\n%s", want, changelog)
		}
	}
	b.do("keyboard", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("table.products")), chromedp.KeyEvent("\t"))
	if focused := eval[string](b, `document.activeElement.className`); focused != "skip" {
		t.Errorf("first Tab focused %q, want the skip link", focused)
	}
	checkScreenshots(t)
}

// tab runs steps in the browser, failing the test on an error.
type tab struct {
	t   *testing.T
	ctx context.Context
}

func (b *tab) do(name string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", name, err)
	}
}

func (b *tab) text(sel string) string {
	b.t.Helper()
	return run(b, chromedp.Text(chromedp.CSS(sel)))
}

func eval[T any](b *tab, expr string) T {
	b.t.Helper()
	return run(b, chromedp.Evaluate[T](expr))
}

func run[T any](b *tab, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatal(err)
	}
	return v
}

// shot saves a PNG screenshot of the viewport.
func (b *tab) shot(name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		png, err := chromedp.CaptureScreenshot()(ctx, t)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(screenshotDir, name), png, 0o644)
	})
}

// browser starts headless Chromium, or skips the test when it cannot
// start.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := ""
	for _, p := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if found, err := findExecutable(p); err == nil {
			path = found
			break
		}
	}
	if path == "" {
		t.Skip("no Chromium found (Debian: apt-get install chromium; make deps installs it)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.WindowSize(1100, 760), chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first run starts the browser and lives as long as its context:
	// no timeout on it.
	if err := chromedp.Do(ctx); err != nil {
		t.Skipf("Chromium (%s) could not start: %v", path, err)
	}
	return ctx
}

// findExecutable looks name up in PATH.
func findExecutable(name string) (string, error) {
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", errors.New(name + " not in PATH")
}

// checkScreenshots keeps the committed screenshots small.
func checkScreenshots(t *testing.T) {
	entries, err := os.ReadDir(screenshotDir)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && strings.HasSuffix(e.Name(), ".png") {
			total += fi.Size()
		}
	}
	if total > 1<<20 {
		t.Errorf("screenshots take %d bytes, more than 1 MiB", total)
	}
	t.Logf("screenshots in %s: %d bytes", screenshotDir, total)
}

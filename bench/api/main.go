// Command api measures bakery's JSON API: it fills a catalog with 1,000
// synthetic versions across 10 products (written straight through the
// catalog API: images with 120 packages each, QA verdicts, channel moves),
// starts `bakery serve` on it as its own process and loads API routes with
// the Go load generator of bench/loadgen (fixed concurrency and duration,
// gzip accepted as API clients do). It prints requests/s and p99 per route
// (target: p99 ≤ 20 ms), the time of the first answer after a catalog
// change (when the API's kept answers are rebuilt) and writes
// bench/results/api.json.
//
// The web catalog's product page is not loaded: that package is not on
// this branch.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/bakery-dev/bakery/bench/loadgen"
	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/catalog/sqlite"
	"github.com/bakery-dev/bakery/internal/runner"
	"github.com/bakery-dev/bakery/internal/server/api"
)

const (
	targetP99     = 20.0 // milliseconds, API routes
	targetPageP99 = 50.0 // milliseconds, web catalog pages
)

type result struct {
	Date           time.Time             `json:"date"`
	CPUs           int                   `json:"cpus"`
	Concurrency    int                   `json:"concurrency"`
	Products       int                   `json:"products"`
	VersionsEach   int                   `json:"versions_per_product"`
	PackagesEach   int                   `json:"packages_per_image"`
	FillSeconds    float64               `json:"fill_seconds"`
	FirstAnswerMs  float64               `json:"first_answer_after_change_ms"` // GET images right after a promotion
	LoadAverage    string                `json:"load_average_at_start"`
	LoadAverageEnd string                `json:"load_average_at_end"`
	Routes         []loadgen.Measurement `json:"routes"`
	// ServerP99Ms is each route's p99 as the server measured it (its
	// /metrics latency histogram: the upper bound of the bucket holding
	// the 99th percentile), without the load generator's own share of the
	// two cores.
	ServerP99Ms     map[string]float64 `json:"server_p99_ms_bucket"`
	TargetP99Ms     float64            `json:"target_p99_ms"`
	TargetPageP99Ms float64            `json:"target_page_p99_ms"`
	MeetsTarget     bool               `json:"meets_target"`
	Note            string             `json:"note"`
}

type config struct {
	bin, out              string
	concurrency, products int
	versions, packages    int
	duration              time.Duration
}

func main() {
	var c config
	flag.StringVar(&c.bin, "bakery", "bin/bakery", "the bakery binary")
	flag.StringVar(&c.out, "out", "bench/results/api.json", "where to write the results")
	flag.IntVar(&c.concurrency, "concurrency", 8, "concurrent clients")
	flag.DurationVar(&c.duration, "duration", 8*time.Second, "load time per route")
	flag.IntVar(&c.products, "products", 10, "synthetic products")
	flag.IntVar(&c.versions, "versions", 100, "versions per product")
	flag.IntVar(&c.packages, "packages", 120, "packages per image")
	flag.Parse()
	if err := run(context.Background(), c); err != nil {
		fmt.Fprintln(os.Stderr, "bench-api:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c config) error {
	work, err := os.MkdirTemp("", "bench-api-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	state := filepath.Join(work, "state")
	t0 := time.Now()
	names, err := fill(ctx, state, c)
	if err != nil {
		return err
	}
	res := result{Date: time.Now().UTC(), CPUs: runtime.NumCPU(), Concurrency: c.concurrency, Products: c.products,
		VersionsEach: c.versions, PackagesEach: c.packages, FillSeconds: time.Since(t0).Seconds(),
		LoadAverage: loadgen.LoadAverage(), TargetP99Ms: targetP99, MeetsTarget: true,
		TargetPageP99Ms: targetPageP99,
		Note:            "API routes against the API target, web catalog pages (/ and a product page) against the page target"}
	fmt.Printf("filled %d versions of %d products in %.1fs\n", c.products*c.versions, c.products, res.FillSeconds)
	if _, err := (runner.Exec{}).Run(ctx, runner.Cmd{Args: []string{c.bin, "--state-dir", state, "keygen"}}); err != nil {
		return err
	}
	base, stop, err := loadgen.Start(ctx, c.bin, "--state-dir", state, "serve", "--listen", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer stop()
	if res.FirstAnswerMs, err = firstAnswer(ctx, base, state); err != nil {
		return err
	}
	fmt.Printf("first GET /api/v1/images after a promotion: %.1f ms\n", res.FirstAnswerMs)
	for _, r := range []struct {
		path   string
		target float64
	}{
		{"/api/v1/images", targetP99},
		{"/api/v1/images?product=product3&channel=stable", targetP99},
		{"/api/v1/images/" + names[len(names)/2], targetP99},
		{"/api/v1/products", targetP99},
		{"/api/v1/products/product3/support", targetP99},
		{"/api/v1/products/product3/changelog?from=1.0.0&to=1.9.9", targetP99},
		{"/", targetPageP99},
		{"/products/product3", targetPageP99},
	} {
		m, err := loadgen.Load(ctx, "bakery", base, r.path, loadgen.Options{Concurrency: c.concurrency, Duration: c.duration, Gzip: true})
		if err != nil {
			return err
		}
		res.MeetsTarget = res.MeetsTarget && m.P99Millis <= r.target && m.Errors == 0
		res.Routes = append(res.Routes, m)
		fmt.Printf("%-60s %8d B  %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms (target %g ms, %d errors)\n", r.path, m.Bytes, m.RPS, m.P50Millis, m.P99Millis, r.target, m.Errors)
	}
	res.LoadAverageEnd = loadgen.LoadAverage()
	if res.ServerP99Ms, err = serverP99(ctx, base); err != nil {
		return err
	}
	for route, p99 := range res.ServerP99Ms {
		fmt.Printf("server-side p99 %-40s ≤ %g ms\n", route, p99)
	}
	verdict := "meets"
	if !res.MeetsTarget {
		verdict = "MISSES"
	}
	fmt.Printf("%s the targets p99 ≤ %.0f ms (API) and ≤ %.0f ms (pages) (%d cores, %d clients, load %s → %s)\n", verdict, targetP99, targetPageP99, res.CPUs, c.concurrency, res.LoadAverage, res.LoadAverageEnd)
	return loadgen.WriteJSON(c.out, res)
}

var bucketLine = regexp.MustCompile(`^bakery_http_request_duration_seconds_bucket\{route="(GET /api/v1/[^"]*)",le="([^"]+)"\} (\d+)$`)

// serverP99 reads the server's latency histograms of the API's GET routes
// and returns, per route, the upper bound of the bucket that holds the
// 99th percentile.
func serverP99(ctx context.Context, base string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	type bucket struct {
		le    float64
		count float64
	}
	byRoute := map[string][]bucket{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		m := bucketLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		le, _ := strconv.ParseFloat(m[2], 64) // "+Inf" parses as +Inf
		n, _ := strconv.ParseFloat(m[3], 64)
		byRoute[m[1]] = append(byRoute[m[1]], bucket{le, n})
	}
	out := map[string]float64{}
	for route, bs := range byRoute {
		total := bs[len(bs)-1].count
		for _, b := range bs {
			if b.count >= 0.99*total {
				out[route] = b.le * 1000
				break
			}
		}
	}
	return out, sc.Err()
}

// firstAnswer promotes a version through the catalog (as another bakery
// process would) and times the API's first answer, which rebuilds what it
// keeps.
func firstAnswer(ctx context.Context, base, state string) (float64, error) {
	if _, err := loadgen.Fetch(ctx, base+"/api/v1/images"); err != nil {
		return 0, err
	}
	cat, err := sqlite.Open(ctx, filepath.Join(state, "catalog.db"))
	if err != nil {
		return 0, err
	}
	defer cat.Close()
	local := &api.Local{Catalog: cat}
	if _, err := local.Promote(ctx, "product0", api.PromoteRequest{Version: "1.9.8", To: "devel", Force: true, Reason: "bench", Actor: "bench"}); err != nil {
		return 0, err
	}
	t0 := time.Now()
	if _, err := loadgen.Fetch(ctx, base+"/api/v1/images"); err != nil {
		return 0, err
	}
	return float64(time.Since(t0).Microseconds()) / 1000, nil
}

// fill writes the synthetic catalog: per product, versions 1.0.0 … in
// order, one hour apart, each boot-tested (one in ten failing), every
// passing version promoted to devel, every fifth to rolling and every
// tenth to stable and its line (past the soak: the bench has no week to
// wait).
func fill(ctx context.Context, state string, c config) ([]string, error) {
	cat, err := sqlite.Open(ctx, filepath.Join(state, "catalog.db"))
	if err != nil {
		return nil, err
	}
	defer cat.Close()
	start := time.Now().Add(-time.Duration(c.versions+1) * time.Hour).Truncate(time.Hour)
	var names []string
	for p := range c.products {
		product := fmt.Sprintf("product%d", p)
		h := heads{}
		for v := range c.versions {
			img := image(product, v, c.packages, start.Add(time.Duration(v)*time.Hour).Add(time.Duration(p)*time.Minute))
			if err := cat.AddImage(ctx, img); err != nil {
				return nil, err
			}
			qa := catalog.QAResult{Passed: v%10 != 7, Accel: "tcg", Firmwares: []string{"bios", "uefi"}, BootToSSH: 40 * time.Second,
				TestedAt: img.CreatedAt.Add(10 * time.Minute), Duration: 95 * time.Second,
				Checks: []catalog.QACheck{{Name: "system-running", Passed: v%10 != 7, Evidence: "running"}}}
			if err := cat.RecordQA(ctx, img.Name, qa); err != nil {
				return nil, err
			}
			if err := promote(ctx, cat, h, img, v, qa.Passed); err != nil {
				return nil, err
			}
			names = append(names, img.Name)
		}
	}
	return names, nil
}

// heads are the channel heads of one product while filling.
type heads map[string]string

// promote moves channels to a passing version straight through the
// catalog (a forced promotion's change, without reloading the product's
// release state for each of 1,000 versions).
func promote(ctx context.Context, cat *sqlite.DB, h heads, img catalog.Image, n int, passed bool) error {
	if !passed {
		return nil
	}
	channels := []string{"devel"}
	if n%5 == 0 {
		channels = append(channels, "rolling")
	}
	if n%10 == 0 {
		channels = append(channels, "stable", "stable-"+img.Version[:strings.LastIndex(img.Version, ".")])
	}
	for _, ch := range channels {
		e := catalog.Event{Product: img.Product, Action: catalog.ActionPromote, Image: img.Name, Version: img.Version, Channel: ch,
			Actor: "bench", At: img.CreatedAt.Add(time.Duration(len(h)+1) * time.Minute), Reason: "bench fill", Forced: []string{"soak"}}
		if _, err := cat.ApplyChange(ctx, catalog.Change{Event: e, Moves: []catalog.Move{{Channel: ch, From: h[ch], To: img.Name}}}); err != nil {
			return fmt.Errorf("promoting %s to %s: %w", img.Name, ch, err)
		}
		h[ch] = img.Name
	}
	return nil
}

func image(product string, n, packages int, created time.Time) catalog.Image {
	version := fmt.Sprintf("1.%d.%d", n/10, n%10)
	serial := created.UTC().Format(catalog.SerialLayout)
	img := catalog.Image{
		Name: fmt.Sprintf("%s.amd64-%s-%s", product, version, serial), Product: product, Version: version, Serial: serial,
		Distro: "debian", Release: "bookworm", Arch: "amd64",
		BuildID: fmt.Sprintf("sha256:%064x", n+1), RecipeDigest: fmt.Sprintf("sha256:%064x", n+7),
		Recipe:    []byte("name: " + product + "\nversion: " + version + "\nversion_scheme: semver-security\n"),
		CreatedAt: created.UTC(), BuildDuration: 6 * time.Minute,
		Artifacts: []catalog.Artifact{
			{Kind: catalog.KindQcow2, Filename: "disk.qcow2", Digest: fmt.Sprintf("sha256:%064x", 1000+n), Size: 400 << 20},
			{Kind: catalog.KindManifest, Filename: "manifest.json", Digest: fmt.Sprintf("sha256:%064x", 2000+n), Size: 4096},
		},
		Hygiene: []catalog.Check{{Name: "ssh-host-keys", Passed: true}, {Name: "machine-id", Passed: true}},
		Tools:   map[string]string{"mmdebstrap": "1.3.5"},
	}
	for i := range packages {
		img.Packages = append(img.Packages, catalog.Package{Name: fmt.Sprintf("pkg%03d", i), Version: fmt.Sprintf("1.%d-%d", i, n/3), Arch: "amd64"})
	}
	return img
}

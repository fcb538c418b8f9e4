// Command serve measures `bakery serve` against a plain static file server
// (Go's http.FileServer) serving the same published files: it fills a
// catalog with synthetic images, publishes it with `bakery publish`, starts
// `bakery serve` and the static server (each its own process), and loads
// the index and a products file on each with a Go load generator (fixed
// concurrency and duration, identity encoding on both so the same bytes
// travel). It prints requests/s and p99 latency for both and their ratio
// (target: bakery ≥ 0.8 × static) and writes bench/results/serve.json.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/bakery-dev/bakery/bench/loadgen"
	"github.com/bakery-dev/bakery/internal/artifact/fsstore"
	"github.com/bakery-dev/bakery/internal/catalog/sqlite"
	"github.com/bakery-dev/bakery/internal/publish/publishtest"
	"github.com/bakery-dev/bakery/internal/runner"
	"github.com/bakery-dev/bakery/internal/simplestreams"
)

const targetRatio = 0.8

type measurement = loadgen.Measurement

type comparison struct {
	Path   string      `json:"path"`
	Bakery measurement `json:"bakery"`
	Static measurement `json:"static"`
	Ratio  float64     `json:"rps_ratio"` // bakery / static
}

type result struct {
	Date           time.Time    `json:"date"`
	CPUs           int          `json:"cpus"`
	Concurrency    int          `json:"concurrency"`
	Products       int          `json:"products"`
	ImagesEach     int          `json:"images_per_product"`
	LoadAverage    string       `json:"load_average_at_start"`
	LoadAverageEnd string       `json:"load_average_at_end"`
	Comparisons    []comparison `json:"comparisons"`
	TargetRatio    float64      `json:"target_ratio"`
	MeetsTarget    bool         `json:"meets_target"`
}

type config struct {
	bin, out, staticDir, listen string
	concurrency, products, imgs int
	duration                    time.Duration
}

func (c config) load() loadgen.Options {
	return loadgen.Options{Concurrency: c.concurrency, Duration: c.duration}
}

func main() {
	var c config
	flag.StringVar(&c.bin, "bakery", "bin/bakery", "the bakery binary")
	flag.StringVar(&c.out, "out", "bench/results/serve.json", "where to write the results")
	flag.IntVar(&c.concurrency, "concurrency", 32, "concurrent clients")
	flag.DurationVar(&c.duration, "duration", 10*time.Second, "load time per server and path")
	flag.IntVar(&c.products, "products", 4, "synthetic products")
	flag.IntVar(&c.imgs, "images", 10, "synthetic images per product")
	flag.StringVar(&c.staticDir, "static", "", "internal: serve this directory with http.FileServer (the comparison server)")
	flag.StringVar(&c.listen, "listen", "127.0.0.1:0", "internal: the static server's address")
	flag.Parse()
	var err error
	if c.staticDir != "" {
		err = serveStatic(c.staticDir, c.listen)
	} else {
		err = run(context.Background(), c)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-serve:", err)
		os.Exit(1)
	}
}

// serveStatic is the comparison server: Go's static file server.
func serveStatic(dir, listen string) error {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	fmt.Printf("serving the catalog at http://%s\n", ln.Addr())
	return http.Serve(ln, http.FileServer(http.Dir(dir)))
}

func run(ctx context.Context, c config) error {
	work, err := os.MkdirTemp("", "bench-serve-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	state, www := filepath.Join(work, "state"), filepath.Join(work, "www")
	if err := fill(ctx, state, c.products, c.imgs); err != nil {
		return err
	}
	for _, args := range [][]string{{"keygen"}, {"publish", "--to", www}} {
		if _, err := (runner.Exec{}).Run(ctx, runner.Cmd{Args: append([]string{c.bin, "--state-dir", state}, args...)}); err != nil {
			return err
		}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	bakeryURL, stopBakery, err := loadgen.Start(ctx, c.bin, "--state-dir", state, "serve", "--listen", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer stopBakery()
	staticURL, stopStatic, err := loadgen.Start(ctx, self, "-static", www)
	if err != nil {
		return err
	}
	defer stopStatic()
	res := result{Date: time.Now().UTC(), CPUs: runtime.NumCPU(), Concurrency: c.concurrency, Products: c.products,
		ImagesEach: c.imgs, LoadAverage: loadgen.LoadAverage(), TargetRatio: targetRatio, MeetsTarget: true}
	// The index, and the daily products file: at a fixed path on bakery
	// serve, at a content-addressed one in the published tree.
	for _, contentID := range []string{"", "org.example.bakery:daily:download"} {
		bp, err := docPath(ctx, bakeryURL, contentID)
		if err != nil {
			return err
		}
		sp, err := docPath(ctx, staticURL, contentID)
		if err != nil {
			return err
		}
		cmp := comparison{Path: bp}
		if cmp.Bakery, err = loadgen.Load(ctx, "bakery", bakeryURL, bp, c.load()); err != nil {
			return err
		}
		if cmp.Static, err = loadgen.Load(ctx, "static", staticURL, sp, c.load()); err != nil {
			return err
		}
		cmp.Ratio = cmp.Bakery.RPS / cmp.Static.RPS
		res.MeetsTarget = res.MeetsTarget && cmp.Ratio >= targetRatio
		res.Comparisons = append(res.Comparisons, cmp)
		printComparison(cmp)
	}
	res.LoadAverageEnd = loadgen.LoadAverage()
	return write(c.out, res)
}

// docPath returns the URL path of the index (contentID "") or of the
// products file the index at base names for contentID.
func docPath(ctx context.Context, base, contentID string) (string, error) {
	if contentID == "" {
		return "/" + simplestreams.IndexPath, nil
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	idx, err := (&simplestreams.Client{Source: simplestreams.HTTP{Base: u}}).Index(ctx)
	if err != nil {
		return "", fmt.Errorf("reading the index at %s: %w", base, err)
	}
	e, ok := idx.Index[contentID]
	if !ok {
		return "", fmt.Errorf("the index at %s has no %s", base, contentID)
	}
	return "/" + e.Path, nil
}

// fill makes a catalog of synthetic images (small random blobs).
func fill(ctx context.Context, state string, products, imgs int) error {
	cat, err := sqlite.Open(ctx, filepath.Join(state, "catalog.db"))
	if err != nil {
		return err
	}
	defer cat.Close()
	store, err := fsstore.New(filepath.Join(state, "artifacts"))
	if err != nil {
		return err
	}
	var names []string
	for i := range products {
		names = append(names, fmt.Sprintf("product%d", i))
	}
	return publishtest.New(cat, store, 1, 16<<10).Fill(ctx, names, imgs)
}

func printComparison(c comparison) {
	for _, m := range []measurement{c.Bakery, c.Static} {
		fmt.Printf("%-6s %-52s %6d B  %9.0f req/s  p50 %6.2f ms  p99 %6.2f ms  (%d errors)\n",
			m.Server, m.Path, m.Bytes, m.RPS, m.P50Millis, m.P99Millis, m.Errors)
	}
	verdict := "meets"
	if c.Ratio < targetRatio {
		verdict = "MISSES"
	}
	fmt.Printf("ratio  bakery/static = %.2f (%s the target %.1f)\n", c.Ratio, verdict, targetRatio)
}

func write(path string, res result) error { return loadgen.WriteJSON(path, res) }

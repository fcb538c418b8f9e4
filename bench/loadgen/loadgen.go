// Package loadgen is the benchmarks' HTTP load generator: it starts server
// processes, runs a fixed number of concurrent clients for a fixed time
// against one URL and reports requests/s and latency percentiles.
package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bakery-dev/bakery/internal/runner"
)

// Measurement is the outcome of loading one URL.
type Measurement struct {
	Server      string  `json:"server"`
	Path        string  `json:"path"`
	Bytes       int     `json:"body_bytes"`
	Requests    int     `json:"requests"`
	Errors      int     `json:"errors"`
	RPS         float64 `json:"requests_per_second"`
	P50Millis   float64 `json:"p50_ms"`
	P99Millis   float64 `json:"p99_ms"`
	DurationSec float64 `json:"duration_seconds"`
}

// Options say how hard and how long to load.
type Options struct {
	Concurrency int
	Duration    time.Duration
	// Gzip asks for gzipped answers (as browsers and API clients do);
	// false sends identity encoding.
	Gzip bool
}

var servingURL = regexp.MustCompile(`serving the catalog at (http://\S+)`)

// Start runs a server process and waits for the URL it prints ("serving
// the catalog at URL"); stop kills it.
func Start(ctx context.Context, argv ...string) (url string, stop func(), err error) {
	out := &syncBuffer{}
	p, err := runner.Start(ctx, runner.Cmd{Args: argv, Stdout: out})
	if err != nil {
		return "", nil, err
	}
	stop = func() { _ = p.Kill() }
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := servingURL.FindStringSubmatch(out.String()); m != nil {
			return m[1], stop, nil
		}
		select {
		case <-p.Done():
			return "", nil, fmt.Errorf("%s exited: %v", argv[0], p.Wait())
		default:
		}
	}
	stop()
	return "", nil, errors.New("server printed no URL: " + p.Output())
}

// Load runs o.Concurrency clients for o.Duration (after a one-second
// warm-up) against base+path.
func Load(ctx context.Context, name, base, path string, o Options) (Measurement, error) {
	tr := &http.Transport{DisableCompression: !o.Gzip, MaxIdleConns: 2 * o.Concurrency, MaxIdleConnsPerHost: 2 * o.Concurrency}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	u := base + path
	size, err := fetch(ctx, client, u)
	if err != nil {
		return Measurement{}, fmt.Errorf("%s %s: %w", name, u, err)
	}
	hammer(ctx, client, u, o.Concurrency, time.Second) // warm-up: connections, caches
	lat, errs, took := hammer(ctx, client, u, o.Concurrency, o.Duration)
	slices.Sort(lat)
	m := Measurement{Server: name, Path: path, Bytes: size, Requests: len(lat), Errors: errs,
		RPS: float64(len(lat)) / took.Seconds(), DurationSec: took.Seconds()}
	if len(lat) > 0 {
		m.P50Millis = millis(lat[len(lat)/2])
		m.P99Millis = millis(lat[len(lat)*99/100])
	}
	return m, nil
}

func hammer(ctx context.Context, client *http.Client, u string, n int, d time.Duration) ([]time.Duration, int, time.Duration) {
	var mu sync.Mutex
	var all []time.Duration
	errs := 0
	start := time.Now()
	stop := start.Add(d)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			e := 0
			for time.Now().Before(stop) {
				t0 := time.Now()
				if _, err := fetch(ctx, client, u); err != nil {
					e++
					continue
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			all, errs = append(all, lat...), errs+e
			mu.Unlock()
		}()
	}
	wg.Wait()
	return all, errs, time.Since(start)
}

// Fetch GETs u once and returns the body's size; a status other than 200
// is an error.
func Fetch(ctx context.Context, u string) (int, error) {
	return fetch(ctx, http.DefaultClient, u)
}

func fetch(ctx context.Context, client *http.Client, u string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("HTTP %s", resp.Status)
	}
	return int(n), err
}

func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// LoadAverage is the machine's load average, for the record.
func LoadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	return strings.Join(strings.Fields(string(data))[:3], " ")
}

// WriteJSON writes v, indented, to path.
func WriteJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
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

// Package metrics exposes the server's metrics at /metrics in the
// Prometheus text exposition format (version 0.0.4): request counts and
// latency histograms by route, and gauges that collectors compute at each
// scrape (catalog sizes, QA verdicts).
package metrics

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Buckets are the latency histogram's upper bounds, in seconds.
var Buckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}

// Family is one metric family a collector reports.
type Family struct {
	Name, Help string
	Type       string // "gauge" or "counter"
	Samples    []Sample
}

// Sample is one value of a family, with its labels (name, value pairs).
type Sample struct {
	Labels [][2]string
	Value  float64
}

// Collector computes families at scrape time.
type Collector func(ctx context.Context) ([]Family, error)

type reqKey struct{ route, method, code string }

type histogram struct {
	counts []uint64 // per bucket, not cumulative
	sum    float64
	count  uint64
}

// Registry records requests and serves the metrics.
type Registry struct {
	mu         sync.Mutex
	requests   map[reqKey]uint64
	latency    map[string]*histogram // by route
	collectors []Collector
	Logger     *slog.Logger
}

// New returns an empty registry.
func New() *Registry {
	return &Registry{requests: map[reqKey]uint64{}, latency: map[string]*histogram{}}
}

// Register adds a collector.
func (m *Registry) Register(c Collector) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.collectors = append(m.collectors, c)
}

// Observe records one request.
func (m *Registry) Observe(route, method string, code int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[reqKey{route, method, strconv.Itoa(code)}]++
	h := m.latency[route]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(Buckets))}
		m.latency[route] = h
	}
	s := d.Seconds()
	if i, _ := slices.BinarySearch(Buckets, s); i < len(Buckets) {
		h.counts[i]++
	}
	h.sum += s
	h.count++
}

// Middleware records every request of next under the route route names
// (called after next served it, so a ServeMux's r.Pattern is set).
func (m *Registry) Middleware(next http.Handler, route func(*http.Request) string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(sw, r)
		m.Observe(route(r), r.Method, sw.code, time.Since(start))
	})
}

type statusWriter struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (s *statusWriter) WriteHeader(code int) {
	if !s.wrote {
		s.code, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// ServeHTTP writes the metrics.
func (m *Registry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	bw := bufio.NewWriter(w)
	m.writeRequests(bw)
	m.mu.Lock()
	collectors := slices.Clone(m.collectors)
	m.mu.Unlock()
	for _, c := range collectors {
		fams, err := c(r.Context())
		if err != nil && m.Logger != nil {
			m.Logger.Warn("collecting metrics", "err", err)
		}
		for _, f := range fams {
			writeFamily(bw, f)
		}
	}
	_ = bw.Flush()
}

func (m *Registry) writeRequests(w io.Writer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	keys := make([]reqKey, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b reqKey) int {
		return strings.Compare(a.route+a.method+a.code, b.route+b.method+b.code)
	})
	fmt.Fprintf(w, "# HELP bakery_http_requests_total HTTP requests served, by route, method and status code.\n# TYPE bakery_http_requests_total counter\n")
	for _, k := range keys {
		fmt.Fprintf(w, "bakery_http_requests_total{route=%s,method=%s,code=%s} %d\n", quote(k.route), quote(k.method), quote(k.code), m.requests[k])
	}
	routes := make([]string, 0, len(m.latency))
	for r := range m.latency {
		routes = append(routes, r)
	}
	slices.Sort(routes)
	fmt.Fprintf(w, "# HELP bakery_http_request_duration_seconds Time to serve a request, by route.\n# TYPE bakery_http_request_duration_seconds histogram\n")
	for _, r := range routes {
		h := m.latency[r]
		var cum uint64
		for i, b := range Buckets {
			cum += h.counts[i]
			fmt.Fprintf(w, "bakery_http_request_duration_seconds_bucket{route=%s,le=%s} %d\n", quote(r), quote(formatFloat(b)), cum)
		}
		fmt.Fprintf(w, "bakery_http_request_duration_seconds_bucket{route=%s,le=\"+Inf\"} %d\n", quote(r), h.count)
		fmt.Fprintf(w, "bakery_http_request_duration_seconds_sum{route=%s} %s\n", quote(r), formatFloat(h.sum))
		fmt.Fprintf(w, "bakery_http_request_duration_seconds_count{route=%s} %d\n", quote(r), h.count)
	}
}

func writeFamily(w io.Writer, f Family) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", f.Name, escapeHelp(f.Help), f.Name, f.Type)
	for _, s := range f.Samples {
		fmt.Fprint(w, f.Name)
		if len(s.Labels) > 0 {
			parts := make([]string, len(s.Labels))
			for i, l := range s.Labels {
				parts[i] = l[0] + "=" + quote(l[1])
			}
			fmt.Fprintf(w, "{%s}", strings.Join(parts, ","))
		}
		fmt.Fprintf(w, " %s\n", formatFloat(s.Value))
	}
}

func formatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// quote quotes a label value: backslash, double quote and newline escaped.
func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

func escapeHelp(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(s)
}

// Route is the label of a request for Middleware: the ServeMux pattern
// that served it if any (the API's routes), else the first element of its
// path when it is one of known ("/streams/"), else "other", so that
// clients cannot grow the label set.
func Route(known ...string) func(*http.Request) string {
	return func(r *http.Request) string {
		if r.Pattern != "" {
			return r.Pattern
		}
		best := ""
		for _, k := range known {
			if (r.URL.Path == k || strings.HasPrefix(r.URL.Path, k) && strings.HasSuffix(k, "/")) && len(k) > len(best) {
				best = k
			}
		}
		if best == "" {
			return "other"
		}
		return best
	}
}

// Package server serves the catalog over HTTP as a simplestreams mirror,
// from the live catalog and artifact store: the signed index and products
// files, the artifacts they name, the public key and /healthz. Documents
// are generated once per catalog change (see Options.CheckInterval) and
// served from memory, gzipped for clients that accept it; everything
// answers Range and If-None-Match requests (ETags are content digests).
// Other handlers (Atom feeds, say) are mounted by path prefix.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/bakery-dev/bakery/internal/artifact"
	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/publish"
	"github.com/bakery-dev/bakery/internal/server/metrics"
)

// ErrOptions is wrapped by Options.Validate errors.
var ErrOptions = errors.New("invalid server options")

// Generationer is implemented by catalogs that can tell cheaply whether
// they changed (catalog/sqlite does). For other catalogs the server
// derives a generation from the image list and the audit log.
type Generationer interface {
	Generation(ctx context.Context) (string, error)
}

// Options configures a Server.
type Options struct {
	Catalog catalog.Catalog
	Store   artifact.Store
	Key     publish.Key
	Publish publish.Options
	// Mounts are extra handlers by path prefix ("/feeds/"); a request
	// whose path starts with a prefix goes to its handler, the longest
	// prefix winning. A handler mounted at "/" is the fallback: it gets
	// the requests the streams, artifacts and /healthz do not answer.
	Mounts map[string]http.Handler
	// CheckInterval is how often, at most, the catalog is asked whether
	// it changed; a change is served at most this much later.
	CheckInterval time.Duration
	// Resign is the age after which documents are signed again although
	// the catalog did not change, so the index never expires while the
	// server runs.
	Resign time.Duration
	Logger *slog.Logger
	Now    func() time.Time // nil: time.Now
}

// DefaultOptions returns the defaults; Catalog, Store and Key must be set.
func DefaultOptions() Options {
	return Options{Publish: publish.DefaultOptions(), CheckInterval: 250 * time.Millisecond, Resign: 24 * time.Hour}
}

// Validate checks the options at start-up.
func (o Options) Validate() error {
	switch {
	case o.Catalog == nil || o.Store == nil || o.Key == nil:
		return fmt.Errorf("%w: catalog, artifact store and signing key are required", ErrOptions)
	case o.CheckInterval < 0 || o.Resign <= 0 || o.Resign >= o.Publish.Expiry:
		return fmt.Errorf("%w: check interval %s must not be negative and re-sign age %s must be positive and shorter than the expiry %s",
			ErrOptions, o.CheckInterval, o.Resign, o.Publish.Expiry)
	}
	for prefix := range o.Mounts {
		if !strings.HasPrefix(prefix, "/") || strings.HasPrefix(prefix, "/streams/") || strings.HasPrefix(prefix, "/"+o.Publish.Streams.ImagesDir+"/") {
			return fmt.Errorf("%w: mount %q must start with / and not shadow the streams or images", ErrOptions, prefix)
		}
	}
	return o.Publish.Validate()
}

// Server serves one catalog.
type Server struct {
	opt   Options
	log   *slog.Logger
	cache *cache
}

// New returns a server; it generates nothing until the first request.
func New(opt Options) (*Server, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{opt: opt, log: log}
	s.cache = &cache{build: s.build, generation: s.generation, interval: opt.CheckInterval, resign: opt.Resign, now: opt.Now}
	return s, nil
}

func (s *Server) build(ctx context.Context) (publish.Snapshot, error) {
	return publish.Build(ctx, s.opt.Catalog, s.opt.Key, s.opt.Publish, s.opt.Now())
}

func (s *Server) generation(ctx context.Context) (string, error) {
	if g, ok := s.opt.Catalog.(Generationer); ok {
		return g.Generation(ctx)
	}
	return derivedGeneration(ctx, s.opt.Catalog)
}

// derivedGeneration summarises the image list and the audit log.
func derivedGeneration(ctx context.Context, c catalog.Catalog) (string, error) {
	imgs, err := c.ListImages(ctx, catalog.ListOptions{})
	if err != nil {
		return "", err
	}
	evs, err := c.Events(ctx, "")
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, img := range imgs {
		b.WriteString(img.Name + "\n")
	}
	fmt.Fprintf(&b, "events %d", len(evs))
	if len(evs) > 0 {
		fmt.Fprintf(&b, " %d", evs[len(evs)-1].ID)
	}
	return b.String(), nil
}

// LastPublished is when the streams being served were generated and
// signed: the server publishes the catalog anew when it changes. Zero
// before the first request made them.
func (s *Server) LastPublished() time.Time {
	if v := s.cache.cur.Load(); v != nil {
		return v.made
	}
	return time.Time{}
}

// PublishedMetrics reports LastPublished as a gauge (Unix seconds; 0 before
// the first publication), for /metrics.
func (s *Server) PublishedMetrics(context.Context) ([]metrics.Family, error) {
	t := s.LastPublished()
	v := 0.0
	if !t.IsZero() {
		v = float64(t.UnixNano()) / 1e9
	}
	return []metrics.Family{{Name: "bakery_streams_last_publish_timestamp_seconds", Type: "gauge",
		Help:    "When the served simplestreams were last generated and signed (Unix time; 0: not yet).",
		Samples: []metrics.Sample{{Value: v}}}}, nil
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := s.mount(r.URL.Path); h != nil {
			h.ServeHTTP(w, r)
			return
		}
		err := s.serve(w, r)
		if root := s.opt.Mounts["/"]; root != nil && (errors.Is(err, errNotFound) || errors.Is(err, errMethod)) {
			root.ServeHTTP(w, r)
			return
		}
		if err != nil {
			s.writeError(w, r, err)
		}
	})
}

func (s *Server) mount(p string) http.Handler {
	best := ""
	for prefix := range s.opt.Mounts {
		if prefix != "/" && strings.HasPrefix(p, prefix) && len(prefix) > len(best) {
			best = prefix
		}
	}
	if best == "" {
		return nil
	}
	return s.opt.Mounts[best]
}

var (
	errNotFound = errors.New("not found")
	errMethod   = errors.New("method not allowed")
)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		return errMethod
	}
	if r.URL.Path == "/healthz" {
		return s.healthz(w, r)
	}
	v, err := s.cache.current(r.Context())
	if err != nil {
		return err
	}
	p := strings.TrimPrefix(r.URL.Path, "/")
	if d, ok := v.docs[p]; ok {
		serveDoc(w, r, p, d, v.snap.Made)
		return nil
	}
	if b, ok := v.snap.Blobs[p]; ok {
		return s.serveBlob(w, r, p, b)
	}
	return fmt.Errorf("%w: %s", errNotFound, r.URL.Path)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.cache.current(r.Context()); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ok\n"))
	return nil
}

// writeError is the one place errors become status codes.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := http.StatusInternalServerError
	switch {
	case errors.Is(err, errNotFound), errors.Is(err, artifact.ErrNotFound):
		code = http.StatusNotFound
	case errors.Is(err, errMethod):
		code = http.StatusMethodNotAllowed
	case errors.Is(err, context.Canceled):
		return // the client went away
	}
	switch {
	case code == http.StatusInternalServerError:
		s.log.Error("serving", "path", r.URL.Path, "err", err)
	case errors.Is(err, artifact.ErrNotFound):
		s.log.Warn("the catalog names an artifact the store does not have", "path", r.URL.Path, "err", err)
	}
	http.Error(w, http.StatusText(code)+": "+err.Error(), code)
}

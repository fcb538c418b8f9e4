// Package web serves the catalog to people: a server-rendered HTML site
// (html/template, embedded CSS and JavaScript, no front-end build step)
// with the product list and its filters, a page per product (channel
// heads, versions with their QA verdict, security status, end of life and
// revocation, downloads, support policy, upgrade paths and a picture of
// the release history) and a page per version (packages, hygiene and QA
// reports, SBOM and provenance, config tree commit and the changelog
// against any other version). It works without JavaScript; site.js only
// adds copy buttons. Pages carry no inline script or style, so they run
// under a strict Content-Security-Policy.
//
// Rendered pages are cached by the catalog's generation (see
// server.Generationer): a page is rendered once per catalog change.
package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/bakery-dev/bakery/internal/artifact"
	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/release"
)

var (
	//go:embed templates/*.html
	templateFS embed.FS
	//go:embed static
	staticFS embed.FS
)

// ErrOptions is wrapped by Options.Validate errors.
var ErrOptions = errors.New("invalid web options")

var errNotFound = errors.New("not found")

// Generationer is implemented by catalogs that tell cheaply whether they
// changed (catalog/sqlite does); pages of other catalogs are not cached.
type Generationer interface {
	Generation(ctx context.Context) (string, error)
}

// Options configures a Handler.
type Options struct {
	Catalog catalog.Catalog
	Store   artifact.Store
	Logger  *slog.Logger
	Now     func() time.Time // nil: time.Now
	// MaxAge is how long a cached page is served although the catalog did
	// not change (end-of-life states move with the clock).
	MaxAge time.Duration
	// ServeStale answers a page the catalog changed under (or older than
	// MaxAge) from the cache once more while it is rendered again in the
	// background, so that after a page's first render no request waits
	// for the catalog: a change shows a render's time later (about a
	// second with 1,000 versions). Off, every such request renders.
	ServeStale bool
}

// DefaultOptions returns the defaults; Catalog and Store must be set.
func DefaultOptions() Options { return Options{MaxAge: time.Minute} }

// Validate checks the options at start-up.
func (o Options) Validate() error {
	if o.Catalog == nil || o.Store == nil {
		return fmt.Errorf("%w: catalog and artifact store are required", ErrOptions)
	}
	if o.MaxAge < 0 {
		return fmt.Errorf("%w: negative cache age %s", ErrOptions, o.MaxAge)
	}
	return nil
}

// Handler serves the web catalog; mount it at "/".
type Handler struct {
	opt        Options
	log        *slog.Logger
	tmpl       *template.Template
	cache      *pageCache
	states     *stateCache
	refreshing sync.Map // page keys being rendered in the background
}

// New returns a web catalog handler.
func New(opt Options) (*Handler, error) {
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
	tmpl, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("parsing templates: %w", err)
	}
	return &Handler{opt: opt, log: log, tmpl: tmpl, cache: newPageCache(opt.MaxAge, 2048), states: &stateCache{}}, nil
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		h.fail(w, r, http.StatusMethodNotAllowed, errors.New("method not allowed"))
		return
	}
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/static/"):
		h.static(w, r)
	case strings.HasPrefix(p, "/download/"):
		if err := h.download(w, r); err != nil {
			h.failErr(w, r, err)
		}
	default:
		h.page(w, r)
	}
}

// page answers the rendered pages, from the cache when the catalog did not
// change since they were rendered.
func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	gen := h.generation(r.Context())
	key := r.Host + " " + r.URL.RequestURI()
	pg, fresh, found := h.cache.get(gen, key, h.opt.Now())
	switch {
	case fresh:
	case found && h.opt.ServeStale:
		h.refresh(gen, key, r)
	default:
		var err error
		if pg, err = h.render(r); err != nil {
			h.failErr(w, r, err)
			return
		}
		h.cache.put(gen, key, pg, h.opt.Now())
	}
	writePage(w, r, pg)
}

// refresh renders the page under key again in the background, once at a
// time per key.
func (h *Handler) refresh(gen, key string, r *http.Request) {
	if _, busy := h.refreshing.LoadOrStore(key, true); busy {
		return
	}
	bg := r.Clone(context.WithoutCancel(r.Context()))
	go func() {
		defer h.refreshing.Delete(key)
		pg, err := h.render(bg)
		if err != nil {
			h.log.Warn("rendering a page again", "page", bg.URL.RequestURI(), "err", err)
			return
		}
		h.cache.put(gen, key, pg, h.opt.Now())
	}()
}

func (h *Handler) generation(ctx context.Context) string {
	g, ok := h.opt.Catalog.(Generationer)
	if !ok {
		return ""
	}
	gen, err := g.Generation(ctx)
	if err != nil {
		h.log.Warn("reading the catalog generation; not caching", "err", err)
		return ""
	}
	return gen
}

// render routes a page request.
func (h *Handler) render(r *http.Request) (page, error) {
	p := r.URL.Path
	if p == "/" {
		return h.renderList(r)
	}
	rest, ok := strings.CutPrefix(p, "/products/")
	if !ok {
		return page{}, fmt.Errorf("%w: %s", errNotFound, p)
	}
	parts := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	switch {
	case len(parts) == 1 && parts[0] != "":
		return h.renderProduct(r, parts[0])
	case len(parts) == 2 && parts[1] == "history.svg":
		return h.renderHistory(r, parts[0])
	case len(parts) == 2 && parts[1] != "":
		return h.renderVersion(r, parts[0], parts[1])
	}
	return page{}, fmt.Errorf("%w: %s", errNotFound, p)
}

func (h *Handler) failErr(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, errNotFound), errors.Is(err, catalog.ErrNotFound),
		errors.Is(err, release.ErrUnknown), errors.Is(err, artifact.ErrNotFound):
		h.fail(w, r, http.StatusNotFound, err)
	case errors.Is(err, context.Canceled):
	default:
		h.log.Error("serving the web catalog", "path", r.URL.Path, "err", err)
		h.fail(w, r, http.StatusInternalServerError, err)
	}
}

// fail answers an error page.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, code int, err error) {
	var b strings.Builder
	data := errorPage{base: base{Title: http.StatusText(code)}, Code: code, Message: err.Error()}
	if terr := h.tmpl.ExecuteTemplate(&b, "error.html", data); terr != nil {
		http.Error(w, http.StatusText(code), code)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		_, _ = w.Write([]byte(b.String()))
	}
}

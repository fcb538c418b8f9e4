package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/bakery-dev/bakery/internal/release"
)

// page is one rendered response.
type page struct {
	body  []byte
	ctype string
	etag  string
}

func newPage(body []byte, ctype string) page {
	sum := sha256.Sum256(body)
	return page{body: body, ctype: ctype, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
}

// pageCache keeps rendered pages with the catalog generation they were
// rendered from. A page of an older generation, or older than maxAge, is
// stale: get still returns it, for serving while it is rendered again.
// The cache empties itself when it holds max pages (changelog queries
// make many keys).
type pageCache struct {
	maxAge time.Duration
	max    int

	mu    sync.Mutex
	pages map[string]cached
}

type cached struct {
	page
	gen  string
	made time.Time
}

func newPageCache(maxAge time.Duration, max int) *pageCache {
	return &pageCache{maxAge: maxAge, max: max, pages: map[string]cached{}}
}

// get returns the page under key, and whether it is fresh.
func (c *pageCache) get(gen, key string, now time.Time) (p page, fresh, found bool) {
	if gen == "" {
		return page{}, false, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.pages[key]
	if !ok {
		return page{}, false, false
	}
	return e.page, e.gen == gen && now.Sub(e.made) < c.maxAge, true
}

func (c *pageCache) put(gen, key string, p page, now time.Time) {
	if gen == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.pages[key]; !ok && len(c.pages) >= c.max {
		c.pages = map[string]cached{}
	}
	c.pages[key] = cached{page: p, gen: gen, made: now}
}

// writePage answers a page, or 304 when the client has it.
func writePage(w http.ResponseWriter, r *http.Request, p page) {
	hdr := w.Header()
	hdr.Set("Content-Type", p.ctype)
	hdr.Set("ETag", p.etag)
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("X-Content-Type-Options", "nosniff")
	if etagMatch(r.Header.Get("If-None-Match"), p.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hdr.Set("Content-Length", itoa(len(p.body)))
	if r.Method != http.MethodHead {
		_, _ = w.Write(p.body)
	}
}

func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		if t = strings.TrimSpace(t); t == etag || t == "*" {
			return true
		}
	}
	return false
}

// static answers the embedded CSS and JavaScript.
func (h *Handler) static(w http.ResponseWriter, r *http.Request) {
	p, ok := staticPages[strings.TrimPrefix(r.URL.Path, "/")]
	if !ok {
		h.fail(w, r, http.StatusNotFound, errNotFound)
		return
	}
	writePage(w, r, p)
}

var staticPages = loadStatic()

func loadStatic() map[string]page {
	types := map[string]string{".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
	out := map[string]page{}
	entries, _ := staticFS.ReadDir("static") // embedded: cannot fail
	for _, e := range entries {
		data, _ := staticFS.ReadFile("static/" + e.Name())
		ext := e.Name()[strings.LastIndex(e.Name(), "."):]
		out["static/"+e.Name()] = newPage(data, types[ext])
	}
	return out
}

// stateCache keeps each product's release state of one catalog
// generation, so that the pages of a product (its versions, changelogs,
// history) read the catalog once per change.
type stateCache struct {
	mu     sync.Mutex
	gen    string
	states map[string]release.State
}

func (c *stateCache) get(gen, product string) (release.State, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.states[product]
	return s, ok && gen != "" && c.gen == gen
}

func (c *stateCache) put(gen, product string, s release.State) {
	if gen == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen || c.states == nil {
		c.gen, c.states = gen, map[string]release.State{}
	}
	c.states[product] = s
}

// state returns product's release state, read once per catalog
// generation. The state is shared: callers must not modify it.
func (h *Handler) state(ctx context.Context, product string) (release.State, error) {
	gen := h.generation(ctx)
	if s, ok := h.states.get(gen, product); ok {
		return s, nil
	}
	s, err := release.Load(ctx, h.opt.Catalog, product)
	if err != nil {
		return release.State{}, err
	}
	h.states.put(gen, product, s)
	return s, nil
}

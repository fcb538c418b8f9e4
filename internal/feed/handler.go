package feed

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"

	"github.com/bakery-dev/bakery/internal/catalog"
)

// NewHandler returns a handler serving the four feed paths (see the
// package documentation) from cat; mount it at "/feeds/" without stripping
// the prefix. It fails if o does not validate.
func NewHandler(cat catalog.Catalog, o Options) (http.Handler, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	h := &handler{cat: cat, opt: o}
	mux := http.NewServeMux()
	mux.Handle("GET /feeds/releases.atom", h.serve(Releases, false))
	mux.Handle("GET /feeds/security.atom", h.serve(Security, false))
	mux.Handle("GET /feeds/{product}/releases.atom", h.serve(Releases, true))
	mux.Handle("GET /feeds/{product}/security.atom", h.serve(Security, true))
	return mux, nil
}

// Handler is NewHandler for options checked at start-up; it panics if o
// does not validate.
func Handler(cat catalog.Catalog, o Options) http.Handler {
	h, err := NewHandler(cat, o)
	if err != nil {
		panic(err)
	}
	return h
}

type handler struct {
	cat catalog.Catalog
	opt Options
}

func (h *handler) serve(kind Kind, perProduct bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		product := ""
		if perProduct {
			product = r.PathValue("product")
		}
		body, err := Build(r.Context(), h.cat, kind, product, h.opt)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		writeFeed(w, r, body)
	})
}

// fail maps an error to its status: 404 for an unknown product, 500 (the
// details logged, not shown) otherwise.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, ErrNoProduct) {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	h.opt.logger().Error("serving feed", "path", r.URL.Path, "err", err)
	http.Error(w, "reading the catalog failed", http.StatusInternalServerError)
}

// writeFeed answers with body, or 304 when the client has it (ETag).
func writeFeed(w http.ResponseWriter, r *http.Request, body []byte) {
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "public, max-age=60")
	if matches(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", ContentType)
	_, _ = w.Write(body)
}

func matches(ifNoneMatch, etag string) bool {
	for _, t := range strings.Split(ifNoneMatch, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

package api

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/recipe"
	"github.com/bakery-dev/bakery/internal/server/auth"
)

// Prefix is where the API is mounted.
const Prefix = "/api/v1/"

//go:embed openapi.json
var openapi []byte

// OpenAPI returns the API's OpenAPI 3 document.
func OpenAPI() []byte { return bytes.Clone(openapi) }

// Options configures a Handler.
type Options struct {
	Service Service
	Auth    *auth.Authenticator
	Tokens  catalog.Tokens // token management; nil: those routes answer 501
	// Generation tells when the catalog changed; GET answers are kept
	// until it does (nil: nothing is kept). It is asked at most once per
	// CheckInterval; a write through this handler drops every kept answer
	// at once.
	Generation    func(context.Context) (string, error)
	CheckInterval time.Duration
	Logger        *slog.Logger
	Now           func() time.Time
}

// Handler serves the API.
type Handler struct {
	opt Options
	mux *http.ServeMux
	log *slog.Logger

	mu      sync.Mutex
	gen     string
	at      time.Time // when the kept answers' generation was read
	checked time.Time // when the generation was last compared
	memo    *memo
}

// memo is the answers kept for one catalog generation.
type memo struct{ answers map[string][]byte }

// Route is one route of the API and the role it needs.
type Route struct {
	Method string
	Path   string // with {wildcards}, under Prefix
	Role   auth.Role
	handle func(h *Handler, r *http.Request, p auth.Principal) (any, error)
}

// Routes returns the API's routes.
func Routes() []Route {
	v, rel, adm := auth.Viewer, auth.Releaser, auth.Admin
	return []Route{
		{"GET", "openapi.json", auth.None, nil},
		{"GET", "images", v, (*Handler).images},
		{"GET", "images/{name}", v, (*Handler).image},
		{"GET", "products", v, (*Handler).products},
		{"GET", "products/{product}/changelog", v, (*Handler).changelog},
		{"GET", "products/{product}/pins", v, (*Handler).pins},
		{"GET", "products/{product}/support", v, (*Handler).support},
		{"GET", "products/{product}/upgrade-path", v, (*Handler).upgradePath},
		{"GET", "events", v, (*Handler).events},
		{"POST", "products/{product}/promote", rel, (*Handler).promote},
		{"POST", "products/{product}/revoke", rel, (*Handler).revoke},
		{"POST", "products/{product}/unrevoke", rel, (*Handler).unrevoke},
		{"POST", "products/{product}/security-release", rel, (*Handler).securityRelease},
		{"POST", "products/{product}/hotfix", rel, (*Handler).hotfix},
		{"GET", "tokens", adm, (*Handler).listTokens},
		{"POST", "tokens", adm, (*Handler).createToken},
		{"DELETE", "tokens/{name}", adm, (*Handler).revokeToken},
	}
}

// New returns the API handler.
func New(opt Options) (*Handler, error) {
	if opt.Service == nil || opt.Auth == nil {
		return nil, fmt.Errorf("api: a service and an authenticator are required")
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	h := &Handler{opt: opt, mux: http.NewServeMux(), log: opt.Logger}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	for _, rt := range Routes() {
		h.mux.HandleFunc(rt.Method+" "+Prefix+rt.Path, h.serve(rt))
	}
	h.mux.HandleFunc(Prefix, func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, problemOf(fmt.Errorf("%w: no API route %s %s", catalog.ErrNotFound, r.Method, r.URL.Path)))
	})
	return h, nil
}

// ServeHTTP serves the API.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	auth.SecurityHeaders(h.mux).ServeHTTP(w, r)
}

func (h *Handler) serve(rt Route) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if rt.handle == nil { // the OpenAPI document
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "public, max-age=300")
			_, _ = w.Write(openapi)
			return
		}
		p, err := h.opt.Auth.Authorize(r, rt.Role)
		if err == nil {
			err = h.answer(w, r, rt, p)
		}
		if err != nil && !isGone(err) {
			prob := problemOf(err)
			if prob.Status >= 500 && prob.Status != http.StatusNotImplemented {
				h.log.Error("api", "method", r.Method, "path", r.URL.Path, "err", err)
			}
			writeProblem(w, prob)
		}
	}
}

// answer runs the route and writes its JSON; GET answers are kept per
// catalog generation.
func (h *Handler) answer(w http.ResponseWriter, r *http.Request, rt Route, p auth.Principal) error {
	key := r.URL.RequestURI()
	cacheable := r.Method == http.MethodGet && rt.Role == auth.Viewer && h.opt.Generation != nil
	var m *memo
	if cacheable {
		var body []byte
		if body, m = h.cached(r.Context(), key); body != nil {
			writeJSON(w, http.StatusOK, body)
			return nil
		}
	}
	v, err := rt.handle(h, r, p)
	if err != nil {
		return err
	}
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	body = append(body, '\n')
	status := http.StatusOK
	if r.Method != http.MethodGet {
		h.forget()
	}
	if r.Method == http.MethodPost {
		status = http.StatusCreated
	}
	if m != nil {
		h.keep(m, key, body)
	}
	writeJSON(w, status, body)
	return nil
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// memoTTL bounds how long an answer is kept although the catalog did not
// change (end of life moves with the clock).
const memoTTL = time.Minute

// cached returns the kept answer for key, if any, and the memo it belongs
// in; every kept answer is dropped when the catalog's generation moved
// (asked at most once per CheckInterval).
func (h *Handler) cached(ctx context.Context, key string) ([]byte, *memo) {
	h.mu.Lock()
	if m := h.memo; m != nil && time.Since(h.checked) < h.opt.CheckInterval && h.opt.Now().Sub(h.at) <= memoTTL {
		body := m.answers[key]
		h.mu.Unlock()
		return body, m
	}
	h.mu.Unlock()
	gen, err := h.opt.Generation(ctx)
	if err != nil {
		return nil, nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.checked = time.Now()
	if h.memo == nil || gen != h.gen || h.opt.Now().Sub(h.at) > memoTTL {
		h.gen, h.at, h.memo = gen, h.opt.Now(), &memo{answers: map[string][]byte{}}
	}
	return h.memo.answers[key], h.memo
}

// forget drops every kept answer (after a write).
func (h *Handler) forget() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.memo = nil
}

// maxMemo bounds the number of kept answers (query strings are the
// client's choice).
const maxMemo = 4096

// keep keeps an answer computed while m was current, unless the catalog
// moved on meanwhile.
func (h *Handler) keep(m *memo, key string, body []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.memo == m && len(m.answers) < maxMemo {
		m.answers[key] = body
	}
}

// maxBody bounds a request body.
const maxBody = 1 << 20

// decode reads a JSON request body strictly into v.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: request body: %w", ErrInvalid, err)
	}
	return nil
}

// DefaultLimit is how many images GET images answers without a limit
// (limit=0 asks for all).
const DefaultLimit = 100

func (h *Handler) images(r *http.Request, _ auth.Principal) (any, error) {
	q := r.URL.Query()
	packages, err := optBool(q.Get("packages"))
	if err != nil {
		return nil, err
	}
	opt := ListOptions{Product: q.Get("product"), Channel: q.Get("channel"), Limit: DefaultLimit, Packages: packages}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%w: limit %q: want a number ≥ 0", ErrInvalid, s)
		}
		opt.Limit = n
	}
	return h.opt.Service.Images(r.Context(), opt)
}

func (h *Handler) image(r *http.Request, _ auth.Principal) (any, error) {
	return h.opt.Service.Image(r.Context(), r.PathValue("name"))
}

func (h *Handler) products(r *http.Request, _ auth.Principal) (any, error) {
	return h.opt.Service.Products(r.Context())
}

func (h *Handler) changelog(r *http.Request, _ auth.Principal) (any, error) {
	q := r.URL.Query()
	return h.opt.Service.Changelog(r.Context(), r.PathValue("product"), q.Get("from"), q.Get("to"))
}

func (h *Handler) pins(r *http.Request, _ auth.Principal) (any, error) {
	q := r.URL.Query()
	channel := q.Get("channel")
	if channel == "" {
		channel = "stable"
	}
	return h.opt.Service.Pin(r.Context(), r.PathValue("product"), channel, q.Get("override"))
}

func (h *Handler) support(r *http.Request, _ auth.Principal) (any, error) {
	return h.opt.Service.Support(r.Context(), r.PathValue("product"))
}

func (h *Handler) upgradePath(r *http.Request, _ auth.Principal) (any, error) {
	q := r.URL.Query()
	major, err := optBool(q.Get("allow_major"))
	if err != nil {
		return nil, err
	}
	return h.opt.Service.UpgradePath(r.Context(), r.PathValue("product"), q.Get("from"), q.Get("to"), major)
}

func optBool(s string) (bool, error) {
	if s == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, fmt.Errorf("%w: %q is not a boolean", ErrInvalid, s)
	}
	return b, nil
}

func (h *Handler) events(r *http.Request, _ auth.Principal) (any, error) {
	return h.opt.Service.Events(r.Context(), r.URL.Query().Get("product"))
}

func (h *Handler) promote(r *http.Request, p auth.Principal) (any, error) {
	var req PromoteRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	req.Actor = p.Actor()
	return h.opt.Service.Promote(r.Context(), r.PathValue("product"), req)
}

func (h *Handler) revoke(r *http.Request, p auth.Principal) (any, error) {
	var req MarkRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	req.Actor = p.Actor()
	return h.opt.Service.Revoke(r.Context(), r.PathValue("product"), req)
}

func (h *Handler) unrevoke(r *http.Request, p auth.Principal) (any, error) {
	var req MarkRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	req.Actor = p.Actor()
	return h.opt.Service.Unrevoke(r.Context(), r.PathValue("product"), req)
}

func (h *Handler) securityRelease(r *http.Request, p auth.Principal) (any, error) {
	var req SecurityRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	req.Actor = p.Actor()
	return h.opt.Service.SecurityRelease(r.Context(), r.PathValue("product"), req)
}

func (h *Handler) hotfix(*http.Request, auth.Principal) (any, error) {
	return nil, fmt.Errorf("%w: a hotfix builds an image; run 'bakery hotfix' on a build machine", ErrNotImplemented)
}

// TokenRequest is the body of POST tokens.
type TokenRequest struct {
	Name    string `json:"name"`
	Role    string `json:"role"`
	Expires string `json:"expires,omitempty"` // 90m, 36h, 30d, 2w; empty: never
}

// NewToken is the answer to POST tokens: the token, shown once.
type NewToken struct {
	Token string        `json:"token"`
	Info  catalog.Token `json:"info"`
}

func (h *Handler) tokens() (catalog.Tokens, error) {
	if h.opt.Tokens == nil {
		return nil, fmt.Errorf("%w: this server keeps no tokens", ErrNotImplemented)
	}
	return h.opt.Tokens, nil
}

func (h *Handler) listTokens(r *http.Request, _ auth.Principal) (any, error) {
	ts, err := h.tokens()
	if err != nil {
		return nil, err
	}
	list, err := ts.ListTokens(r.Context())
	if list == nil {
		list = []catalog.Token{}
	}
	return list, err
}

func (h *Handler) createToken(r *http.Request, _ auth.Principal) (any, error) {
	ts, err := h.tokens()
	if err != nil {
		return nil, err
	}
	var req TokenRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	var ttl time.Duration
	if req.Expires != "" {
		d, err := recipe.ParseDuration(req.Expires)
		if err != nil {
			return nil, fmt.Errorf("%w: expires: %w", ErrInvalid, err)
		}
		ttl = time.Duration(d)
	}
	plain, t, err := auth.Create(r.Context(), ts, req.Name, req.Role, ttl, h.opt.Now())
	if err != nil {
		return nil, err
	}
	return NewToken{Token: plain, Info: t}, nil
}

func (h *Handler) revokeToken(r *http.Request, _ auth.Principal) (any, error) {
	ts, err := h.tokens()
	if err != nil {
		return nil, err
	}
	name := r.PathValue("name")
	if err := ts.RevokeToken(r.Context(), name, h.opt.Now()); err != nil {
		return nil, err
	}
	return map[string]string{"revoked": name}, nil
}

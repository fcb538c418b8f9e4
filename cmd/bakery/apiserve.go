package main

import (
	"log/slog"
	"net/http"

	"github.com/bakery-dev/bakery/internal/server"
	"github.com/bakery-dev/bakery/internal/server/api"
	"github.com/bakery-dev/bakery/internal/server/auth"
	"github.com/bakery-dev/bakery/internal/server/metrics"
)

// apiServe is what bakery serve adds to the streams server: the JSON API
// at /api/v1/, the metrics at /metrics, request metrics and security
// headers on every response.
type apiServe struct {
	mounts map[string]http.Handler
	reg    *metrics.Registry
	auth   *auth.Authenticator
}

func newAPIServe(st *stateHandles, privateReads bool, log *slog.Logger) (*apiServe, error) {
	local := &api.Local{Catalog: st.catalog, Store: st.store}
	a := &auth.Authenticator{Tokens: st.catalog, PublicReads: !privateReads}
	h, err := api.New(api.Options{Service: local, Auth: a, Tokens: st.catalog, Generation: st.catalog.Generation,
		CheckInterval: server.DefaultOptions().CheckInterval, Logger: log})
	if err != nil {
		return nil, err
	}
	reg := metrics.New()
	reg.Logger = log
	reg.Register(local.Metrics)
	return &apiServe{mounts: map[string]http.Handler{api.Prefix: h, "/metrics": reg}, reg: reg, auth: a}, nil
}

// mount adds the API's handlers to mounts (which may hold others').
func (s *apiServe) mount(mounts map[string]http.Handler) map[string]http.Handler {
	if mounts == nil {
		mounts = map[string]http.Handler{}
	}
	for p, h := range s.mounts {
		mounts[p] = h
	}
	return mounts
}

// wrap adds request metrics and security headers around the whole server.
func (s *apiServe) wrap(h http.Handler) http.Handler {
	route := metrics.Route("/streams/", "/images/", "/healthz", "/metrics", "/feeds/", "/products/", "/static/", "/")
	return s.reg.Middleware(auth.SecurityHeaders(h), route)
}

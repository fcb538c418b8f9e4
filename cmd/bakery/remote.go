package main

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/bakery-dev/bakery/internal/release"
	"github.com/bakery-dev/bakery/internal/server/api"
)

// releaseService is what the release commands talk to: the API of a
// bakery server (--server or BAKERY_SERVER, with BAKERY_TOKEN) or the
// local catalog, behind the one api.Service interface, so that both give
// the same answers and the commands render them the same way. st is nil
// for a server.
type releaseService struct {
	api.Service
	st *stateHandles
}

func (r *releaseService) Close() error {
	if r.st == nil {
		return nil
	}
	return r.st.Close()
}

func (r *releaseService) remote() bool { return r.st == nil }

// serverURL is the server the release commands talk to; "" for local.
func (g *globals) serverURL() string {
	if g.server != "" {
		return g.server
	}
	v, _ := g.getenv("BAKERY_SERVER")
	return strings.TrimSpace(v)
}

func (g *globals) releaseService(ctx context.Context) (*releaseService, error) {
	if u := g.serverURL(); u != "" {
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			return nil, usagef("--server %q: want an http:// or https:// URL", u)
		}
		tok, _ := g.getenv("BAKERY_TOKEN")
		return &releaseService{Service: &api.Client{BaseURL: u, Token: strings.TrimSpace(tok), HTTP: &http.Client{Timeout: 60 * time.Second}}}, nil
	}
	st, err := g.open(ctx)
	if err != nil {
		return nil, err
	}
	return &releaseService{Service: &api.Local{Catalog: st.catalog, Store: st.store}, st: st}, nil
}

// usageOf makes a request the service found malformed, or naming a
// product, version or channel it does not have, a usage error (exit 2).
func usageOf(err error) error {
	if errors.Is(err, release.ErrUnknown) || errors.Is(err, api.ErrInvalid) {
		return usagef("%v", err)
	}
	return err
}

// Package api is bakery's JSON API under /api/v1: what the release
// commands of the CLI do on the catalog (list and show images, changelogs,
// promote, revoke, unrevoke, security releases, pins, support, upgrade
// paths, the audit log) plus token management, with errors as RFC 9457
// problem objects and access control from internal/server/auth.
//
// Service is the one interface both sides share: Local answers from a
// catalog with the rules of internal/release, Handler serves a Service
// over HTTP, and Client is a Service that calls a Handler. The CLI talks to
// a Service, so that it gives the same answers locally and remotely.
package api

import (
	"context"
	"errors"

	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/lock"
	"github.com/bakery-dev/bakery/internal/recipe"
	"github.com/bakery-dev/bakery/internal/release"
)

var (
	// ErrInvalid is wrapped by errors about a malformed request: HTTP 400.
	ErrInvalid = errors.New("invalid request")
	// ErrRefused is wrapped by a release rule's refusal that is no gate
	// (already revoked, already the head): HTTP 409.
	ErrRefused = errors.New("refused")
	// ErrNotImplemented is returned for actions the API does not offer
	// (hotfix, which needs a build): HTTP 501.
	ErrNotImplemented = errors.New("not implemented")
)

// Service is what the API offers. Errors wrap ErrInvalid, release.ErrUnknown
// or catalog.ErrNotFound, release.ErrGate (a *release.GateError),
// catalog.ErrConflict or ErrRefused.
type Service interface {
	// Images lists images newest first with their QA and release status.
	Images(ctx context.Context, opt ListOptions) ([]ImageEntry, error)
	// Image returns one image by name.
	Image(ctx context.Context, name string) (ImageEntry, error)
	// Products lists the products with their channel heads.
	Products(ctx context.Context) ([]Product, error)
	// Changelog compares two versions (or image names) of a product.
	Changelog(ctx context.Context, product, from, to string) (Changelog, error)
	Promote(ctx context.Context, product string, r PromoteRequest) (catalog.Event, error)
	Revoke(ctx context.Context, product string, r MarkRequest) (catalog.Event, error)
	Unrevoke(ctx context.Context, product string, r MarkRequest) (catalog.Event, error)
	SecurityRelease(ctx context.Context, product string, r SecurityRequest) (catalog.Event, error)
	// Pin returns product's pin on channel, or for override (a version)
	// when it is set.
	Pin(ctx context.Context, product, channel, override string) (release.Pin, error)
	Support(ctx context.Context, product string) (Support, error)
	UpgradePath(ctx context.Context, product, from, to string, allowMajor bool) ([]Hop, error)
	// Events is the audit log of product ("" for all), oldest first.
	Events(ctx context.Context, product string) ([]catalog.Event, error)
}

// ListOptions filter Images.
type ListOptions struct {
	Product string // only this product
	Channel string // only images that head this channel
	Limit   int    // at most this many; 0: all
	// Packages keeps each image's package list (long: a listing leaves
	// it out unless asked).
	Packages bool
}

// ImageEntry is an image with its latest QA verdict (nil: never tested)
// and its release status.
type ImageEntry struct {
	Image   catalog.Image       `json:"image"`
	QA      *catalog.QAResult   `json:"qa"`
	Release release.ImageStatus `json:"release"`
}

// Product is one product with its channel heads.
type Product struct {
	Name     string                `json:"name"`
	Images   int                   `json:"images"`
	Newest   string                `json:"newest"` // image name
	Channels []catalog.ChannelHead `json:"channels"`
}

// PromoteRequest is the body of a promotion.
type PromoteRequest struct {
	Version string `json:"version"` // version or image name
	To      string `json:"to"`
	Reason  string `json:"reason,omitempty"`
	Force   bool   `json:"force,omitempty"`
	Actor   string `json:"-"` // set by the caller (the server: token:NAME)
}

// MarkRequest is the body of a revocation or unrevocation.
type MarkRequest struct {
	Version string `json:"version"`
	Reason  string `json:"reason"`
	Actor   string `json:"-"`
}

// SecurityRequest is the body of a security release.
type SecurityRequest struct {
	Version    string   `json:"version"`
	Advisories []string `json:"advisories"`
	Severity   string   `json:"severity"`
	Fixed      []string `json:"fixed_packages,omitempty"`
	Reason     string   `json:"reason,omitempty"`
	Actor      string   `json:"-"`
}

// Support is a product's support policy and its lines.
type Support struct {
	Product string                `json:"product"`
	Policy  recipe.Support        `json:"policy"`
	Lines   []release.LineSupport `json:"lines"`
}

// Hop is one step of an upgrade path.
type Hop struct {
	From       string `json:"from"`
	To         string `json:"to"`
	Major      bool   `json:"major"`
	Disruptive bool   `json:"disruptive"`
}

// Changelog is what changed between two images of a product.
type Changelog struct {
	Product  string         `json:"product"`
	From     string         `json:"from"` // image names
	To       string         `json:"to"`
	Source   string         `json:"source"` // "lock" (both stored locks) or "packages" (the images' package lists)
	Packages lock.Changelog `json:"packages"`
	Config   *ConfigChange  `json:"config,omitempty"` // when both locks record the config tree
}

// ConfigChange is the config tree's move between two images.
type ConfigChange struct {
	Repo       string `json:"repo"`
	FromCommit string `json:"from_commit"`
	ToCommit   string `json:"to_commit"`
	FromRef    string `json:"from_ref,omitempty"`
	ToRef      string `json:"to_ref,omitempty"`
}

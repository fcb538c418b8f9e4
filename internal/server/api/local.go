package api

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bakery-dev/bakery/internal/artifact"
	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/release"
)

// Generationer is implemented by catalogs that tell cheaply whether they
// changed (catalog/sqlite does); Local then keeps its answers until the
// generation moves. Without it, every read loads the catalog afresh.
type Generationer interface {
	Generation(ctx context.Context) (string, error)
}

// Local answers from a catalog, with the rules of internal/release.
type Local struct {
	Catalog catalog.Catalog
	Store   artifact.Store   // for the stored locks of changelogs; nil: package lists only
	Now     func() time.Time // nil: time.Now

	mu   sync.Mutex
	snap *snapshot
}

var _ Service = (*Local)(nil)

// snapshot is everything reads need, loaded once per catalog generation.
type snapshot struct {
	gen     string
	at      time.Time
	entries []ImageEntry // all images, newest first
	states  map[string]release.State
	memo    sync.Map // response key → encoded JSON (see Handler)
}

// statusTTL bounds how long a snapshot's time-dependent answers (end of
// life) are kept although the catalog did not change.
const statusTTL = time.Minute

func (l *Local) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// current returns the snapshot of the catalog's current generation.
func (l *Local) current(ctx context.Context) (*snapshot, error) {
	gen := ""
	if g, ok := l.Catalog.(Generationer); ok {
		var err error
		if gen, err = g.Generation(ctx); err != nil {
			return nil, err
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if s := l.snap; s != nil && gen != "" && s.gen == gen && l.now().Sub(s.at) < statusTTL {
		return s, nil
	}
	s, err := l.load(ctx, gen)
	if err != nil {
		return nil, err
	}
	l.snap = s
	return s, nil
}

func (l *Local) load(ctx context.Context, gen string) (*snapshot, error) {
	imgs, err := l.Catalog.ListImages(ctx, catalog.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing images: %w", err)
	}
	s := &snapshot{gen: gen, at: l.now(), states: map[string]release.State{}, entries: make([]ImageEntry, 0, len(imgs))}
	byProduct := map[string][]catalog.Image{}
	for _, img := range imgs {
		byProduct[img.Product] = append(byProduct[img.Product], img) // newest first still
	}
	for p, list := range byProduct {
		if s.states[p], err = release.LoadImages(ctx, l.Catalog, p, list); err != nil {
			return nil, err
		}
	}
	for _, img := range imgs {
		st := s.states[img.Product]
		e := ImageEntry{Image: img, Release: st.Status(img, s.at)}
		if qa, ok := st.QA[img.Name]; ok {
			e.QA = &qa
		}
		s.entries = append(s.entries, e)
	}
	return s, nil
}

// Images lists images. See Service.
func (l *Local) Images(ctx context.Context, opt ListOptions) ([]ImageEntry, error) {
	if opt.Limit < 0 {
		return nil, fmt.Errorf("%w: limit %d must not be negative", ErrInvalid, opt.Limit)
	}
	s, err := l.current(ctx)
	if err != nil {
		return nil, err
	}
	out := []ImageEntry{}
	for _, e := range s.entries {
		if opt.Limit > 0 && len(out) == opt.Limit {
			break
		}
		if (opt.Product == "" || e.Image.Product == opt.Product) && (opt.Channel == "" || slices.Contains(e.Release.Channels, opt.Channel)) {
			if !opt.Packages {
				e.Image.Packages = nil
			}
			out = append(out, e)
		}
	}
	return out, nil
}

// Image returns one image. See Service.
func (l *Local) Image(ctx context.Context, name string) (ImageEntry, error) {
	s, err := l.current(ctx)
	if err != nil {
		return ImageEntry{}, err
	}
	for _, e := range s.entries {
		if e.Image.Name == name {
			return e, nil
		}
	}
	return ImageEntry{}, fmt.Errorf("finding image %s: %w", name, catalog.ErrNotFound)
}

// Products lists the products. See Service.
func (l *Local) Products(ctx context.Context) ([]Product, error) {
	s, err := l.current(ctx)
	if err != nil {
		return nil, err
	}
	out := []Product{}
	for name, st := range s.states {
		p := Product{Name: name, Images: len(st.Images), Newest: st.Images[0].Name, Channels: []catalog.ChannelHead{}}
		for _, h := range st.Heads {
			p.Channels = append(p.Channels, h)
		}
		slices.SortFunc(p.Channels, func(a, b catalog.ChannelHead) int { return strings.Compare(a.Channel, b.Channel) })
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Product) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// state returns product's release state from the current snapshot.
func (l *Local) state(ctx context.Context, product string) (release.State, error) {
	s, err := l.current(ctx)
	if err != nil {
		return release.State{}, err
	}
	st, ok := s.states[product]
	if !ok {
		return release.State{}, fmt.Errorf("%w product %q: the catalog has no image of it", release.ErrUnknown, product)
	}
	return st, nil
}

// fresh loads product's release state straight from the catalog, for
// writes.
func (l *Local) fresh(ctx context.Context, product string) (release.State, error) {
	return release.Load(ctx, l.Catalog, product)
}

// apply records a change, calling a rule's plain refusal ErrRefused.
func (l *Local) apply(ctx context.Context, ch catalog.Change, ruleErr error) (catalog.Event, error) {
	if ruleErr != nil {
		return catalog.Event{}, refused(ruleErr)
	}
	e, err := l.Catalog.ApplyChange(ctx, ch)
	if err != nil {
		return catalog.Event{}, err
	}
	l.mu.Lock()
	l.snap = nil // this process changed the catalog: never serve the old answer
	l.mu.Unlock()
	return e, nil
}

// refused wraps a rule's error in ErrRefused unless it already says what
// it is.
func refused(err error) error {
	for _, known := range []error{release.ErrGate, release.ErrUnknown, ErrInvalid, catalog.ErrConflict, catalog.ErrNotFound} {
		if errors.Is(err, known) {
			return err
		}
	}
	return fmt.Errorf("%w: %w", ErrRefused, err)
}

func (l *Local) request(actor, reason string, force bool) release.Request {
	if actor == "" {
		actor = "unknown"
	}
	return release.Request{Actor: actor, At: l.now().UTC(), Reason: reason, Force: force}
}

// Promote moves a version one channel further. See Service.
func (l *Local) Promote(ctx context.Context, product string, r PromoteRequest) (catalog.Event, error) {
	switch {
	case r.Version == "" || r.To == "":
		return catalog.Event{}, fmt.Errorf("%w: promote needs a version and a channel to promote to", ErrInvalid)
	case r.Force && r.Reason == "":
		return catalog.Event{}, fmt.Errorf("%w: --force needs --reason: say why the gates are overridden", ErrInvalid)
	}
	st, err := l.fresh(ctx, product)
	if err != nil {
		return catalog.Event{}, err
	}
	img, err := st.Find(r.Version)
	if err != nil {
		return catalog.Event{}, err
	}
	ch, err := st.Promote(img, r.To, l.request(r.Actor, r.Reason, r.Force))
	if err != nil {
		err = fmt.Errorf("promoting %s %s to %s: %w", product, img.Version, r.To, err)
	}
	return l.apply(ctx, ch, err)
}

// Revoke revokes a version. See Service.
func (l *Local) Revoke(ctx context.Context, product string, r MarkRequest) (catalog.Event, error) {
	return l.mark(ctx, product, "revoke", r, release.State.Revoke)
}

// Unrevoke undoes a revocation. See Service.
func (l *Local) Unrevoke(ctx context.Context, product string, r MarkRequest) (catalog.Event, error) {
	return l.mark(ctx, product, "unrevoke", r, release.State.Unrevoke)
}

func (l *Local) mark(ctx context.Context, product, name string, r MarkRequest,
	rule func(release.State, catalog.Image, release.Request) (catalog.Change, error)) (catalog.Event, error) {
	if r.Version == "" || r.Reason == "" {
		return catalog.Event{}, fmt.Errorf("%w: %s needs a version and --reason", ErrInvalid, name)
	}
	st, err := l.fresh(ctx, product)
	if err != nil {
		return catalog.Event{}, err
	}
	img, err := st.Find(r.Version)
	if err != nil {
		return catalog.Event{}, err
	}
	ch, err := rule(st, img, l.request(r.Actor, r.Reason, false))
	return l.apply(ctx, ch, err)
}

// SecurityRelease marks a security release. See Service.
func (l *Local) SecurityRelease(ctx context.Context, product string, r SecurityRequest) (catalog.Event, error) {
	switch {
	case r.Version == "" || len(r.Advisories) == 0:
		return catalog.Event{}, fmt.Errorf("%w: security-release needs a version and at least one --advisory ID", ErrInvalid)
	case !slices.Contains(release.Severities, r.Severity):
		return catalog.Event{}, fmt.Errorf("%w: severity %q: want one of %v", ErrInvalid, r.Severity, release.Severities)
	}
	st, err := l.fresh(ctx, product)
	if err != nil {
		return catalog.Event{}, err
	}
	img, err := st.Find(r.Version)
	if err != nil {
		return catalog.Event{}, err
	}
	ch, err := st.SecurityRelease(img, release.Advisory{IDs: r.Advisories, Severity: r.Severity, Fixed: r.Fixed}, l.request(r.Actor, r.Reason, false))
	return l.apply(ctx, ch, err)
}

// Pin returns a product's pin. See Service.
func (l *Local) Pin(ctx context.Context, product, channel, override string) (release.Pin, error) {
	if channel == "" {
		return release.Pin{}, fmt.Errorf("%w: pins need a channel", ErrInvalid)
	}
	st, err := l.state(ctx, product)
	if err != nil {
		return release.Pin{}, err
	}
	p, err := st.Pin(channel, override)
	if err != nil {
		return release.Pin{}, refused(err)
	}
	return p, nil
}

// Support returns a product's lines. See Service.
func (l *Local) Support(ctx context.Context, product string) (Support, error) {
	st, err := l.state(ctx, product)
	if err != nil {
		return Support{}, err
	}
	lines := st.Support(l.now())
	if lines == nil {
		lines = []release.LineSupport{}
	}
	return Support{Product: st.Product, Policy: st.Policy.Support, Lines: lines}, nil
}

// UpgradePath returns the hops between two versions. See Service.
func (l *Local) UpgradePath(ctx context.Context, product, from, to string, allowMajor bool) ([]Hop, error) {
	if from == "" || to == "" {
		return nil, fmt.Errorf("%w: upgrade-path needs FROM and TO", ErrInvalid)
	}
	st, err := l.state(ctx, product)
	if err != nil {
		return nil, err
	}
	fi, err := st.Find(from)
	if err != nil {
		return nil, err
	}
	ti, err := st.Find(to)
	if err != nil {
		return nil, err
	}
	hops, err := st.UpgradePath(fi, ti, allowMajor)
	if err != nil {
		return nil, refused(err)
	}
	out := []Hop{}
	for _, h := range hops {
		out = append(out, Hop{h.From.String(), h.To.String(), h.Major, h.Disruptive})
	}
	return out, nil
}

// Events returns the audit log. See Service.
func (l *Local) Events(ctx context.Context, product string) ([]catalog.Event, error) {
	evs, err := l.Catalog.Events(ctx, product)
	if err != nil {
		return nil, err
	}
	if evs == nil {
		evs = []catalog.Event{}
	}
	return evs, nil
}

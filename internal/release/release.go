// Package release holds the rules of a product's release lifecycle:
// promotion through channels behind gates, stable-X.Y lines, security
// releases, revocation, support (end of life), upgrade paths and pins for
// deployers.
//
// The rules are pure functions over a State (everything the catalog knows
// about one product); they return the catalog.Change to apply, which the
// catalog applies all or nothing with compare-and-set on every channel head.
// Load reads a State from a catalog.
//
// Channels: a product's promotion order comes from its recipe (default
// devel → rolling → stable). A version enters the first channel once its
// boot test passed, and each later channel only from the one before it,
// after that channel held it for the later channel's soak time. When a
// version reaches stable, its line's channel stable-X.Y moves with it; the
// line channels stay behind for hotfixes: a hotfix (a new patch on an
// older line) is promoted straight to its stable-X.Y once it passed QA.
package release

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/recipe"
	"github.com/bakery-dev/bakery/internal/version"
)

var (
	// ErrGate is wrapped by every *GateError.
	ErrGate = errors.New("promotion gate")
	// ErrUnknown is returned for a version, channel or line the product
	// does not have.
	ErrUnknown = errors.New("unknown")
)

// Gate names, as recorded in an event's Forced list.
const (
	GateQA       = "qa"
	GateRevoked  = "revoked"
	GatePrevious = "previous-channel"
	GateSoak     = "soak"
	GateOrder    = "no-downgrade"
	GateLine     = "line"
)

// forceable are the gates --force may override (recorded with a reason);
// a failed or missing boot test and a revocation are never overridden.
var forceable = map[string]bool{GatePrevious: true, GateSoak: true, GateOrder: true}

// GateError says which gate refused a promotion and what would satisfy it.
type GateError struct {
	Gate    string
	Reason  string
	Satisfy string
}

func (e *GateError) Error() string {
	return fmt.Sprintf("gate %s: %s; %s", e.Gate, e.Reason, e.Satisfy)
}

func (e *GateError) Unwrap() error { return ErrGate }

// Policy is a product's release policy, from its recipe.
type Policy struct {
	Scheme   string
	Channels []recipe.Channel
	Support  recipe.Support
}

// PolicyOf returns the release policy a recipe asks for.
func PolicyOf(r *recipe.Recipe) Policy {
	return Policy{Scheme: r.Scheme(), Channels: r.ChannelOrder(), Support: r.SupportPolicy()}
}

// State is everything the rules know about one product.
type State struct {
	Product string
	Policy  Policy
	Images  []catalog.Image             // newest first
	QA      map[string]catalog.QAResult // latest boot test by image; absent: never tested
	Marks   map[string]catalog.Marks    // by image; absent: unmarked
	Heads   map[string]catalog.ChannelHead
	History []catalog.HistoryEntry // every channel, oldest first

	PolicyWarning string // set when the newest recipe's policy could not be read
}

// Request is who asks for a release action, when and why.
type Request struct {
	Actor  string
	At     time.Time
	Reason string
	Force  bool // override the forceable gates; needs a Reason
}

// Find returns the image a user means by ref: the image of that name, else
// the newest image with that version.
func (s State) Find(ref string) (catalog.Image, error) {
	for _, img := range s.Images {
		if img.Name == ref {
			return img, nil
		}
	}
	for _, img := range s.Images { // newest first
		if img.Version == ref {
			return img, nil
		}
	}
	return catalog.Image{}, fmt.Errorf("%w version or image %q of %s", ErrUnknown, ref, s.Product)
}

// Version parses an image's version in the product's scheme.
func (s State) Version(img catalog.Image) (version.Version, error) {
	v, err := version.Parse(s.Policy.Scheme, img.Version)
	if err != nil {
		return version.Version{}, fmt.Errorf("image %s: %w", img.Name, err)
	}
	return v, nil
}

func (s State) image(name string) (catalog.Image, bool) {
	for _, img := range s.Images {
		if img.Name == name {
			return img, true
		}
	}
	return catalog.Image{}, false
}

func (s State) revoked(name string) bool { return s.Marks[name].Revoked }

func (s State) head(channel string) string { return s.Heads[channel].Image }

// LineChannel is the name of a line's channel: stable-X.Y.
func LineChannel(line string) string { return "stable-" + line }

func lineOf(channel string) (string, bool) { return strings.CutPrefix(channel, "stable-") }

// channelIndex returns the position of channel in the promotion order, or
// -1 for a line channel, or an error for a channel the product does not
// have.
func (s State) channelIndex(channel string) (int, error) {
	if _, ok := lineOf(channel); ok {
		return -1, nil
	}
	i := slices.IndexFunc(s.Policy.Channels, func(c recipe.Channel) bool { return c.Name == channel })
	if i < 0 {
		return 0, fmt.Errorf("%w channel %q: %s has %s, and stable-X.Y lines", ErrUnknown, channel, s.Product, s.channelNames())
	}
	return i, nil
}

func (s State) channelNames() string {
	var names []string
	for _, c := range s.Policy.Channels {
		names = append(names, c.Name)
	}
	return strings.Join(names, ", ")
}

// enteredAt returns when image first became the head of channel.
func (s State) enteredAt(channel, image string) (time.Time, bool) {
	for _, h := range s.History {
		if h.Channel == channel && h.Image == image {
			return h.At, true
		}
	}
	return time.Time{}, false
}

func event(s State, action string, img catalog.Image, channel string, req Request) catalog.Event {
	return catalog.Event{
		Product: s.Product, Action: action, Image: img.Name, Version: img.Version,
		Channel: channel, Actor: req.Actor, At: req.At, Reason: req.Reason,
	}
}

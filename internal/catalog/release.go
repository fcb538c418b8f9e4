package catalog

import (
	"context"
	"fmt"
	"time"
)

// Release actions recorded in the audit log.
const (
	ActionPromote         = "promote"
	ActionHotfix          = "hotfix"
	ActionRevoke          = "revoke"
	ActionUnrevoke        = "unrevoke"
	ActionSecurityRelease = "security-release"
)

// Marks is what the release process has said about one image: whether it
// is revoked, whether it is a security release, which issue a hotfix was
// made for. An image nobody marked has the zero Marks.
type Marks struct {
	Revoked       bool      `json:"revoked"`
	RevokedReason string    `json:"revoked_reason,omitempty"`
	RevokedAt     time.Time `json:"revoked_at,omitzero"`
	Security      bool      `json:"security"`
	Advisories    []string  `json:"advisories,omitempty"` // e.g. DSA-5801-1, CVE-2026-1234
	Severity      string    `json:"severity,omitempty"`   // low, medium, high, critical
	Fixed         []string  `json:"fixed_packages,omitempty"`
	HotfixFor     string    `json:"hotfix_for,omitempty"` // the issue or advisory a hotfix was made for
}

// ChannelHead is where one channel of a product points.
type ChannelHead struct {
	Product string    `json:"product"`
	Channel string    `json:"channel"`
	Image   string    `json:"image"` // empty: the channel was emptied (its only versions were revoked)
	Since   time.Time `json:"since"`
}

// HistoryEntry is one move of a channel head, oldest first in a history.
type HistoryEntry struct {
	Channel string    `json:"channel"`
	Image   string    `json:"image"` // the new head; empty when the channel was emptied
	At      time.Time `json:"at"`
	EventID int64     `json:"event_id"` // the audit event that moved it
}

// Move changes a channel head by compare-and-set: it applies only if the
// head is still From ("" for a channel without a head).
type Move struct {
	Channel string `json:"channel"`
	From    string `json:"from"`
	To      string `json:"to"`
}

// Mark replaces one image's Marks.
type Mark struct {
	Image string `json:"image"`
	Marks Marks  `json:"marks"`
}

// Event is one entry of a product's audit log: who did what to which
// version, when and why, and what changed. Round-trip contract: At comes
// back in UTC truncated to the microsecond; empty lists come back nil.
type Event struct {
	ID      int64     `json:"id"` // set by the catalog
	Product string    `json:"product"`
	Action  string    `json:"action"` // Action* constants
	Image   string    `json:"image"`
	Version string    `json:"version"`
	Channel string    `json:"channel,omitempty"`
	Actor   string    `json:"actor"`
	At      time.Time `json:"at"`
	Reason  string    `json:"reason,omitempty"`
	Forced  []string  `json:"forced,omitempty"` // the gates a --force overrode
	Moves   []Move    `json:"moves,omitempty"`  // the before/after of every channel it moved
	Marks   []Mark    `json:"marks,omitempty"`  // the marks it set (after)
}

// Change is one release action, applied all or nothing: the channel moves
// (each compare-and-set), the marks and the audit event that explains them.
type Change struct {
	Event Event
	Moves []Move
	Marks []Mark
}

// Validate checks a change before any backend writes it. Errors wrap
// ErrInvalid.
func (c Change) Validate() error {
	e := c.Event
	if e.Product == "" || e.Action == "" || e.Actor == "" || e.At.IsZero() {
		return fmt.Errorf("%w: release event needs product, action, actor and time", ErrInvalid)
	}
	seen := map[string]bool{}
	for _, m := range c.Moves {
		if m.Channel == "" || seen[m.Channel] {
			return fmt.Errorf("%w: channel %q is empty or moved twice in one change", ErrInvalid, m.Channel)
		}
		if m.From == m.To {
			return fmt.Errorf("%w: channel %s already points at %q", ErrInvalid, m.Channel, m.To)
		}
		seen[m.Channel] = true
	}
	for _, m := range c.Marks {
		if m.Image == "" {
			return fmt.Errorf("%w: mark without an image", ErrInvalid)
		}
	}
	return nil
}

// ReleaseReader reads the release state of the catalog.
type ReleaseReader interface {
	// ChannelHeads returns product's channels with their heads, by channel
	// name.
	ChannelHeads(ctx context.Context, product string) ([]ChannelHead, error)
	// ChannelHistory returns every move of product's channels, oldest
	// first (channel "" for all channels).
	ChannelHistory(ctx context.Context, product, channel string) ([]HistoryEntry, error)
	// ImageMarks returns the marks of product's images by image name;
	// unmarked images are absent.
	ImageMarks(ctx context.Context, product string) (map[string]Marks, error)
	// Events returns product's audit log ("" for all products), oldest
	// first.
	Events(ctx context.Context, product string) ([]Event, error)
}

// ReleaseWriter applies release actions.
type ReleaseWriter interface {
	// ApplyChange applies c all or nothing and returns the audit event as
	// recorded (with its ID). It returns ErrInvalid for a change that fails
	// Validate or names an image that is not product's, ErrNotFound for an
	// image not in the catalog, and an error wrapping ErrConflict that names
	// the current head when a move's From is no longer the head (of many
	// concurrent changes moving one channel from the same head, exactly one
	// wins) or when a move points a channel at a revoked image. With the
	// event it queues a delivery for every webhook subscribed to the event
	// the action raises (see Outbox).
	ApplyChange(ctx context.Context, c Change) (Event, error)
}

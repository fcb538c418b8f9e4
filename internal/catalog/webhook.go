package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"time"
)

// Webhook event names: what a webhook subscribes to.
const (
	HookBuilt           = "built"            // an image was added to the catalog
	HookPromoted        = "promoted"         // a version was promoted to a channel
	HookHotfix          = "hotfix"           // a hotfix was promoted to its line
	HookRevoked         = "revoked"          // a version was revoked
	HookUnrevoked       = "unrevoked"        // a revocation was undone
	HookSecurityRelease = "security-release" // a version was marked a security release
)

// HookEvents are the events a webhook may subscribe to.
var HookEvents = []string{HookBuilt, HookPromoted, HookHotfix, HookRevoked, HookUnrevoked, HookSecurityRelease}

// hookOfAction maps release actions to the webhook events they raise.
var hookOfAction = map[string]string{
	ActionPromote:         HookPromoted,
	ActionHotfix:          HookHotfix,
	ActionRevoke:          HookRevoked,
	ActionUnrevoke:        HookUnrevoked,
	ActionSecurityRelease: HookSecurityRelease,
}

// Delivery states.
const (
	DeliveryPending   = "pending"   // waiting for its next attempt
	DeliveryDelivered = "delivered" // a receiver answered 2xx; never sent again
	DeliveryFailed    = "failed"    // gave up after the maximum number of attempts
)

// Webhook is one receiver of catalog events.
type Webhook struct {
	ID        int64     `json:"id"` // set by the catalog
	URL       string    `json:"url"`
	Events    []string  `json:"events"`
	Secret    string    `json:"-"` // HMAC-SHA256 key; never printed after creation
	CreatedAt time.Time `json:"created_at"`
}

// Validate checks a webhook before any backend writes it: an absolute http
// or https URL and at least one known event, none repeated. Errors wrap
// ErrInvalid.
func (w Webhook) Validate() error {
	u, err := url.Parse(w.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: webhook URL %q: want an absolute http:// or https:// URL", ErrInvalid, w.URL)
	}
	if len(w.Events) == 0 {
		return fmt.Errorf("%w: webhook %s subscribes to no event (want some of %v)", ErrInvalid, w.URL, HookEvents)
	}
	for i, e := range w.Events {
		if !slices.Contains(HookEvents, e) || slices.Contains(w.Events[:i], e) {
			return fmt.Errorf("%w: webhook event %q is unknown or repeated (want some of %v)", ErrInvalid, e, HookEvents)
		}
	}
	if w.Secret == "" {
		return fmt.Errorf("%w: webhook %s has no secret", ErrInvalid, w.URL)
	}
	return nil
}

// Wants reports whether w subscribes to event.
func (w Webhook) Wants(event string) bool { return slices.Contains(w.Events, event) }

// Payload is the JSON body of a webhook delivery. It is fixed when the
// delivery is queued, so every attempt sends the same bytes.
type Payload struct {
	ID      string    `json:"id"`    // the delivery ID, also sent as X-Bakery-Delivery
	Event   string    `json:"event"` // Hook* constants
	Product string    `json:"product"`
	Version string    `json:"version"`
	Image   string    `json:"image"`
	Channel string    `json:"channel,omitempty"`
	Actor   string    `json:"actor,omitempty"`
	At      time.Time `json:"at"`
	Reason  string    `json:"reason,omitempty"`
	EventID int64     `json:"event_id,omitempty"` // the audit log entry (release events)
	Serial  string    `json:"serial,omitempty"`   // built
	BuildID string    `json:"build_id,omitempty"` // built
	Arch    string    `json:"arch,omitempty"`     // built
	Release string    `json:"release,omitempty"`  // built: the distribution release
	Forced  []string  `json:"forced,omitempty"`   // gates a --force overrode
	Moves   []Move    `json:"moves,omitempty"`    // channel heads the event moved
	Marks   *Marks    `json:"marks,omitempty"`    // the image's marks the event set (advisories, severity, fixed packages, revocation)
}

// BuiltPayload is the payload announcing img (event built); the catalog
// sets ID.
func BuiltPayload(img Image) Payload {
	return Payload{
		Event: HookBuilt, Product: img.Product, Version: img.Version, Image: img.Name,
		At: img.CreatedAt.UTC().Truncate(time.Microsecond), Serial: img.Serial, BuildID: img.BuildID,
		Arch: img.Arch, Release: img.Release,
	}
}

// EventPayload is the payload announcing a recorded release event, and
// whether the action raises a webhook event at all; the catalog sets ID.
func EventPayload(e Event) (Payload, bool) {
	hook, ok := hookOfAction[e.Action]
	if !ok {
		return Payload{}, false
	}
	p := Payload{
		Event: hook, Product: e.Product, Version: e.Version, Image: e.Image, Channel: e.Channel,
		Actor: e.Actor, At: e.At.UTC().Truncate(time.Microsecond), Reason: e.Reason, EventID: e.ID,
		Forced: e.Forced, Moves: e.Moves,
	}
	for _, m := range e.Marks {
		if m.Image == e.Image {
			p.Marks = &m.Marks
		}
	}
	return p, true
}

// Delivery is one webhook delivery in the catalog's outbox: a payload
// queued for one webhook in the same transaction as the event it announces.
//
// Round-trip contract: times come back in UTC truncated to the microsecond.
type Delivery struct {
	ID             string          `json:"id"` // stable and unique, set by the catalog; sent as X-Bakery-Delivery
	Webhook        int64           `json:"webhook"`
	URL            string          `json:"url"` // the webhook's URL, for the deliverer and listings
	Event          string          `json:"event"`
	Payload        json.RawMessage `json:"payload"`  // the JSON body, sent as is
	State          string          `json:"state"`    // Delivery* constants
	Attempts       int             `json:"attempts"` // attempts started (claims)
	CreatedAt      time.Time       `json:"created_at"`
	NextAttemptAt  time.Time       `json:"next_attempt_at"`
	LastAttemptAt  time.Time       `json:"last_attempt_at,omitzero"`
	LastStatusCode int             `json:"last_status_code,omitempty"`
	LastError      string          `json:"last_error,omitempty"`
	DeliveredAt    time.Time       `json:"delivered_at,omitzero"`
}

// Attempt is the outcome of one delivery attempt, recorded with
// RecordAttempt.
type Attempt struct {
	Attempt       int       // the Attempts value of the claimed delivery
	At            time.Time // when the attempt ended
	StatusCode    int       // the receiver's HTTP status; 0 if none
	Error         string    // why it failed, if it did
	State         string    // the new state: pending (retry), delivered or failed
	NextAttemptAt time.Time // for pending: when to try again
}

// DeliveryFilter selects deliveries for Deliveries.
type DeliveryFilter struct {
	Webhook int64  // only this webhook's; 0 for all
	State   string // only in this state; empty for all
	Limit   int    // the newest this many; 0 for no limit
}

// Outbox stores webhooks and their queued deliveries. AddImage and
// ApplyChange queue a delivery for every webhook that subscribes to the
// event they raise (built; promoted, hotfix, revoked, unrevoked,
// security-release), in the same transaction as the change itself: a change
// that is not written queues nothing, and one that is written never loses
// its deliveries.
type Outbox interface {
	// AddWebhook records w and returns it with ID and CreatedAt set. It
	// returns ErrInvalid if w fails Validate.
	AddWebhook(ctx context.Context, w Webhook) (Webhook, error)
	// Webhooks returns every webhook, by ID, with its secret.
	Webhooks(ctx context.Context) ([]Webhook, error)
	// DeleteWebhook removes the webhook and its deliveries, or returns
	// ErrNotFound.
	DeleteWebhook(ctx context.Context, id int64) error
	// Deliveries returns the deliveries the filter selects, oldest first.
	Deliveries(ctx context.Context, f DeliveryFilter) ([]Delivery, error)
	// ClaimDeliveries claims up to limit pending deliveries due at now
	// (NextAttemptAt ≤ now), oldest first: each one's Attempts goes up by
	// one and its NextAttemptAt moves to now+lease, so no other claimer
	// gets it until the lease runs out (an attempt that crashes is retried
	// then). Concurrent claimers never get the same delivery.
	ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Delivery, error)
	// RecordAttempt records the outcome of the attempt a.Attempt of the
	// delivery. It returns ErrNotFound for an unknown delivery, ErrInvalid
	// for an unknown state, and ErrConflict, writing nothing, if the
	// delivery is no longer pending or was claimed again since (its lease
	// ran out): a delivered delivery never changes again.
	RecordAttempt(ctx context.Context, id string, a Attempt) error
}

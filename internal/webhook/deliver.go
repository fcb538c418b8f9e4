package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/bakery-dev/bakery/internal/catalog"
)

// Options configure a Deliverer.
type Options struct {
	Timeout     time.Duration // per attempt, connection to end of answer
	Lease       time.Duration // how long a claimed delivery is ours; must exceed Timeout
	MaxAttempts int           // after this many failed attempts a delivery fails for good
	BaseDelay   time.Duration // wait after the first failure; doubled after each further one
	MaxDelay    time.Duration // the longest wait between attempts
	Poll        time.Duration // how often Run looks for due deliveries
	Batch       int           // deliveries claimed (and sent concurrently) at once
	UserAgent   string

	Client *http.Client                         // nil: a client that does not follow redirects
	Logger *slog.Logger                         // nil: discard
	Now    func() time.Time                     // nil: time.Now
	Jitter func(time.Duration) time.Duration    // nil: uniform in [d/2, d]
	Sleep  func(context.Context, time.Duration) // nil: a timer (tests shorten it)
}

// DefaultOptions returns the defaults: 10 s per attempt, 8 attempts, waits
// of 30 s doubling up to 1 h: the eighth attempt comes about an hour after
// the first (half that at the least, with jitter).
func DefaultOptions() Options {
	return Options{
		Timeout: 10 * time.Second, Lease: 40 * time.Second, MaxAttempts: 8,
		BaseDelay: 30 * time.Second, MaxDelay: time.Hour, Poll: 2 * time.Second, Batch: 8,
		UserAgent: "bakery-webhook",
	}
}

// Validate checks the options before the deliverer starts.
func (o Options) Validate() error {
	switch {
	case o.Timeout <= 0 || o.Poll <= 0 || o.BaseDelay <= 0:
		return fmt.Errorf("webhook delivery: timeout, poll interval and base delay must be positive")
	case o.Lease <= o.Timeout:
		return fmt.Errorf("webhook delivery: lease %s must exceed the attempt timeout %s, or a slow attempt could be sent twice at once", o.Lease, o.Timeout)
	case o.MaxAttempts < 1 || o.Batch < 1:
		return fmt.Errorf("webhook delivery: max attempts and batch must be at least 1")
	case o.MaxDelay < o.BaseDelay:
		return fmt.Errorf("webhook delivery: max delay %s is below the base delay %s", o.MaxDelay, o.BaseDelay)
	}
	return nil
}

// Backoff returns the wait after the attempt-th failed attempt, before
// jitter: BaseDelay·2^(attempt-1), at most MaxDelay.
func (o Options) Backoff(attempt int) time.Duration {
	d := o.BaseDelay
	for i := 1; i < attempt && d < o.MaxDelay; i++ {
		d *= 2
	}
	return min(d, o.MaxDelay)
}

func equalJitter(d time.Duration) time.Duration {
	if d < 2 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}

func timerSleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// Stats count the outcomes of a pass.
type Stats struct {
	Delivered int `json:"delivered"`
	Retrying  int `json:"retrying"`
	Failed    int `json:"failed"`
}

func (s *Stats) add(o Stats) {
	s.Delivered += o.Delivered
	s.Retrying += o.Retrying
	s.Failed += o.Failed
}

// Deliverer sends the outbox's deliveries.
type Deliverer struct {
	store catalog.Outbox
	opt   Options
}

// New returns a deliverer of store's outbox.
func New(store catalog.Outbox, opt Options) (*Deliverer, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	if opt.Client == nil {
		opt.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Jitter == nil {
		opt.Jitter = equalJitter
	}
	if opt.Sleep == nil {
		opt.Sleep = timerSleep
	}
	return &Deliverer{store: store, opt: opt}, nil
}

// Run delivers due deliveries every Poll until ctx is cancelled; it then
// returns nil. Errors of the catalog are logged and retried.
func (d *Deliverer) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		if _, err := d.DeliverPending(ctx); err != nil && ctx.Err() == nil {
			d.opt.Logger.Error("delivering webhooks", "err", err)
		}
		d.opt.Sleep(ctx, d.opt.Poll)
	}
	return nil
}

// DeliverPending makes one pass: it claims and sends due deliveries, batch
// after batch, until none is due.
func (d *Deliverer) DeliverPending(ctx context.Context) (Stats, error) {
	var total Stats
	for ctx.Err() == nil {
		batch, err := d.store.ClaimDeliveries(ctx, d.opt.Now(), d.opt.Lease, d.opt.Batch)
		if err != nil || len(batch) == 0 {
			return total, err
		}
		secrets, err := d.secrets(ctx) // after the claim: it holds every claimed delivery's webhook
		if err != nil {
			return total, err
		}
		s, err := d.sendAll(ctx, batch, secrets)
		total.add(s)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func (d *Deliverer) secrets(ctx context.Context) (map[int64]string, error) {
	hooks, err := d.store.Webhooks(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]string, len(hooks))
	for _, w := range hooks {
		out[w.ID] = w.Secret
	}
	return out, nil
}

func (d *Deliverer) sendAll(ctx context.Context, batch []catalog.Delivery, secrets map[int64]string) (Stats, error) {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		stats Stats
		errs  []error
	)
	for _, dl := range batch {
		secret, ok := secrets[dl.Webhook]
		if !ok { // removed since the claim, and its deliveries with it
			continue
		}
		wg.Go(func() {
			s, err := d.deliver(ctx, dl, secret)
			mu.Lock()
			defer mu.Unlock()
			stats.add(s)
			if err != nil {
				errs = append(errs, err)
			}
		})
	}
	wg.Wait()
	return stats, errors.Join(errs...)
}

// deliver makes one attempt and records its outcome. An attempt cut short
// by ctx is not recorded: the lease runs out and another pass retries it.
func (d *Deliverer) deliver(ctx context.Context, dl catalog.Delivery, secret string) (Stats, error) {
	code, sendErr := d.send(ctx, dl, secret)
	if sendErr != nil && ctx.Err() != nil {
		return Stats{}, nil
	}
	a, s := d.outcome(dl, code, sendErr)
	log := d.opt.Logger.With("delivery", dl.ID, "event", dl.Event, "url", dl.URL, "attempt", dl.Attempts)
	// An acknowledgement is recorded even while shutting down, so that it
	// is not sent again.
	err := d.store.RecordAttempt(context.WithoutCancel(ctx), dl.ID, a)
	switch {
	case errors.Is(err, catalog.ErrConflict), errors.Is(err, catalog.ErrNotFound):
		log.Warn("delivery changed while it was sent (lease ran out, or webhook removed)", "err", err)
		return Stats{}, nil
	case err != nil:
		return Stats{}, err
	}
	log.Info("webhook attempt", "state", a.State, "status", code, "err", a.Error, "next", a.NextAttemptAt)
	return s, nil
}

// outcome turns an attempt's result into the state to record.
func (d *Deliverer) outcome(dl catalog.Delivery, code int, sendErr error) (catalog.Attempt, Stats) {
	now := d.opt.Now()
	a := catalog.Attempt{Attempt: dl.Attempts, At: now, StatusCode: code}
	switch {
	case sendErr == nil:
		a.State = catalog.DeliveryDelivered
		return a, Stats{Delivered: 1}
	case dl.Attempts >= d.opt.MaxAttempts:
		a.State, a.Error = catalog.DeliveryFailed, sendErr.Error()
		return a, Stats{Failed: 1}
	default:
		a.State, a.Error = catalog.DeliveryPending, sendErr.Error()
		a.NextAttemptAt = now.Add(d.opt.Jitter(d.opt.Backoff(dl.Attempts)))
		return a, Stats{Retrying: 1}
	}
}

// send POSTs the delivery and returns the status code; an error unless the
// answer was 2xx.
func (d *Deliverer) send(ctx context.Context, dl catalog.Delivery, secret string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, d.opt.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, dl.URL, bytes.NewReader(dl.Payload))
	if err != nil {
		return 0, fmt.Errorf("posting to %s: %w", dl.URL, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", d.opt.UserAgent)
	req.Header.Set(HeaderEvent, dl.Event)
	req.Header.Set(HeaderDelivery, dl.ID)
	req.Header.Set(HeaderAttempt, strconv.Itoa(dl.Attempts))
	req.Header.Set(HeaderSignature, Sign(secret, dl.Payload))
	resp, err := d.opt.Client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("posting to %s: %w", dl.URL, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("posting to %s: receiver answered %s", dl.URL, resp.Status)
	}
	return resp.StatusCode, nil
}

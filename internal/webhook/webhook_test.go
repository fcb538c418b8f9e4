package webhook

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/catalog/catalogtest"
	"github.com/bakery-dev/bakery/internal/catalog/sqlite"
)

func TestSignAndVerify(t *testing.T) {
	body := []byte(`{"event":"promoted"}`)
	// python3: hmac.new(b'It is a secret', body, hashlib.sha256).hexdigest()
	const want = "sha256=b589e53ec1e9e28acaaca4f12b6beb75f793ad6a6c31eedc9f9c8b981be8af83"
	if got := Sign("It is a secret", body); got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
	tests := []struct {
		name, secret, body, sig string
		ok                      bool
	}{
		{"valid", "It is a secret", string(body), want, true},
		{"tampered body", "It is a secret", `{"event":"revoked"}`, want, false},
		{"wrong secret", "another", string(body), want, false},
		{"no prefix", "It is a secret", string(body), strings.TrimPrefix(want, "sha256="), false},
		{"not hex", "It is a secret", string(body), "sha256=zz", false},
		{"empty", "It is a secret", string(body), "", false},
	}
	for _, tt := range tests {
		if got := Verify(tt.secret, []byte(tt.body), tt.sig); got != tt.ok {
			t.Errorf("%s: Verify = %v, want %v", tt.name, got, tt.ok)
		}
	}
}

func TestBackoffSchedule(t *testing.T) {
	o := DefaultOptions()
	want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute,
		16 * time.Minute, 32 * time.Minute, time.Hour, time.Hour, time.Hour}
	for i, w := range want {
		if got := o.Backoff(i + 1); got != w {
			t.Errorf("Backoff(%d) = %s, want %s", i+1, got, w)
		}
	}
	for range 1000 {
		d := 8 * time.Minute
		if j := equalJitter(d); j < d/2 || j > d {
			t.Fatalf("equalJitter(%s) = %s, outside [d/2, d]", d, j)
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	if err := DefaultOptions().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for name, mod := range map[string]func(*Options){
		"lease below timeout": func(o *Options) { o.Lease = o.Timeout },
		"no attempts":         func(o *Options) { o.MaxAttempts = 0 },
		"max below base":      func(o *Options) { o.MaxDelay = o.BaseDelay / 2 },
		"zero poll":           func(o *Options) { o.Poll = 0 },
		"zero batch":          func(o *Options) { o.Batch = 0 },
	} {
		o := DefaultOptions()
		mod(&o)
		if err := o.Validate(); err == nil {
			t.Errorf("%s: Validate accepted %+v", name, o)
		}
	}
}

// receiver answers with the codes in order (the last one repeated) and
// records every request.
type receiver struct {
	mu    sync.Mutex
	codes []int
	reqs  []received
}

type received struct {
	header http.Header
	body   []byte
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, received{req.Header.Clone(), body})
	code := r.codes[min(len(r.reqs), len(r.codes))-1]
	w.WriteHeader(code)
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.reqs...)
}

// clock is a settable time for the deliverer and the catalog's claims.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// setup returns a catalog with one webhook (to a receiver answering codes)
// subscribed to built and one image added (one delivery), and a deliverer
// without jitter on a settable clock.
func setup(t *testing.T, maxAttempts int, codes ...int) (*sqlite.DB, *receiver, *Deliverer, *clock) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	rec := &receiver{codes: codes}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	if _, err := db.AddWebhook(ctx, catalogtest.SampleWebhook(srv.URL+"/hook", catalog.HookBuilt)); err != nil {
		t.Fatal(err)
	}
	if err := db.AddImage(ctx, catalogtest.Sample(1)); err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Now().Add(time.Second)}
	o := DefaultOptions()
	o.MaxAttempts, o.Now, o.Jitter = maxAttempts, clk.Now, func(d time.Duration) time.Duration { return d }
	d, err := New(db, o)
	if err != nil {
		t.Fatal(err)
	}
	return db, rec, d, clk
}

func pass(t *testing.T, d *Deliverer) Stats {
	t.Helper()
	s, err := d.DeliverPending(context.Background())
	if err != nil {
		t.Fatalf("DeliverPending: %v", err)
	}
	return s
}

func onlyDelivery(t *testing.T, db *sqlite.DB) catalog.Delivery {
	t.Helper()
	ds, err := db.Deliveries(context.Background(), catalog.DeliveryFilter{})
	if err != nil || len(ds) != 1 {
		t.Fatalf("Deliveries = %+v, %v; want one", ds, err)
	}
	return ds[0]
}

func TestRetryThenSuccess(t *testing.T) {
	db, rec, d, clk := setup(t, 5, 503, 500, 204)
	start := clk.Now()
	if s := pass(t, d); s != (Stats{Retrying: 1}) {
		t.Fatalf("first pass %+v, want one retry", s)
	}
	dl := onlyDelivery(t, db)
	if wait := dl.NextAttemptAt.Sub(start); wait < 30*time.Second-time.Millisecond || wait > 30*time.Second+time.Millisecond {
		t.Errorf("first retry after %s, want the base delay 30s", wait)
	}
	if s := pass(t, d); s != (Stats{}) {
		t.Errorf("a pass before the retry time sent %+v", s)
	}
	clk.Set(dl.NextAttemptAt)
	pass(t, d)
	dl = onlyDelivery(t, db)
	if wait := dl.NextAttemptAt.Sub(clk.Now()); wait < time.Minute-time.Millisecond || wait > time.Minute+time.Millisecond {
		t.Errorf("second retry after %s, want 1m (doubled)", wait)
	}
	clk.Set(dl.NextAttemptAt)
	if s := pass(t, d); s != (Stats{Delivered: 1}) {
		t.Fatalf("third pass %+v, want delivered", s)
	}
	clk.Set(clk.Now().Add(24 * time.Hour))
	pass(t, d)
	reqs := rec.requests()
	if len(reqs) != 3 {
		t.Fatalf("receiver got %d requests, want 3 (two failures, one success, nothing after)", len(reqs))
	}
	dl = onlyDelivery(t, db)
	if dl.State != catalog.DeliveryDelivered || dl.Attempts != 3 || dl.LastStatusCode != 204 || dl.DeliveredAt.IsZero() {
		t.Errorf("delivery %+v", dl)
	}
	for i, r := range reqs {
		if got := r.header.Get(HeaderDelivery); got != dl.ID {
			t.Errorf("request %d: delivery ID %q, want %q on every attempt", i, got, dl.ID)
		}
		if got := r.header.Get(HeaderAttempt); got != string(rune('1'+i)) {
			t.Errorf("request %d: attempt header %q", i, got)
		}
		if r.header.Get(HeaderEvent) != catalog.HookBuilt || r.header.Get("Content-Type") != "application/json" {
			t.Errorf("request %d: headers %v", i, r.header)
		}
		if !Verify("s3cret", r.body, r.header.Get(HeaderSignature)) || string(r.body) != string(dl.Payload) {
			t.Errorf("request %d: body %s not the signed payload", i, r.body)
		}
	}
}

func TestFailureAfterMaxAttempts(t *testing.T) {
	db, rec, d, clk := setup(t, 3, 500)
	for range 3 {
		pass(t, d)
		clk.Set(clk.Now().Add(time.Hour))
	}
	dl := onlyDelivery(t, db)
	if dl.State != catalog.DeliveryFailed || dl.Attempts != 3 || dl.LastStatusCode != 500 || !strings.Contains(dl.LastError, "500") {
		t.Errorf("delivery after 3 failures: %+v", dl)
	}
	clk.Set(clk.Now().Add(24 * time.Hour))
	if s := pass(t, d); s != (Stats{}) || len(rec.requests()) != 3 {
		t.Errorf("a failed delivery was sent again: %+v, %d requests", s, len(rec.requests()))
	}
}

func TestRedirectIsNotAcknowledgement(t *testing.T) {
	db, _, d, _ := setup(t, 3, http.StatusFound)
	pass(t, d)
	if dl := onlyDelivery(t, db); dl.State != catalog.DeliveryPending || dl.LastStatusCode != http.StatusFound {
		t.Errorf("after a redirect: %+v, want pending with status 302", dl)
	}
}

// TestCrashedAttemptIsRetriedAfterLease: a claim nobody reports on (the
// deliverer died mid-attempt) is sent once its lease runs out, not before.
func TestCrashedAttemptIsRetriedAfterLease(t *testing.T) {
	db, rec, d, clk := setup(t, 5, 200)
	claimed, err := db.ClaimDeliveries(context.Background(), clk.Now(), d.opt.Lease, 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v, %v", claimed, err)
	}
	if s := pass(t, d); s != (Stats{}) {
		t.Errorf("sent %+v inside the crashed claimer's lease", s)
	}
	clk.Set(claimed[0].NextAttemptAt)
	if s := pass(t, d); s != (Stats{Delivered: 1}) {
		t.Errorf("after the lease: %+v, want delivered", s)
	}
	if reqs := rec.requests(); len(reqs) != 1 || reqs[0].header.Get(HeaderAttempt) != "2" {
		t.Errorf("requests %+v, want one, attempt 2", reqs)
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	_, rec, d, _ := setup(t, 5, 200)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- d.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for len(rec.requests()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil || len(rec.requests()) != 1 {
		t.Errorf("Run = %v after %d requests, want nil after 1", err, len(rec.requests()))
	}
}

// FuzzVerify: Verify never panics on a receiver's input, accepts exactly
// what Sign produced, and rejects any other signature of a different body.
func FuzzVerify(f *testing.F) {
	f.Add("s3cret", []byte(`{"event":"built"}`), "sha256=00")
	f.Add("", []byte{}, "")
	f.Fuzz(func(t *testing.T, secret string, body []byte, sig string) {
		ok := Verify(secret, body, sig)
		if ok && sig != Sign(secret, body) && !strings.EqualFold(sig, Sign(secret, body)) {
			t.Errorf("Verify accepted %q, which is not Sign's %q", sig, Sign(secret, body))
		}
		if !Verify(secret, body, Sign(secret, body)) {
			t.Errorf("Verify rejected Sign's own signature")
		}
	})
}

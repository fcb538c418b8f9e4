package catalogtest

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/bakery-dev/bakery/internal/catalog"
)

// outboxTests are the conformance tests of webhooks and their outbox.
var outboxTests = []struct {
	name string
	fn   func(t *testing.T, c catalog.Catalog)
}{
	{"WebhookRoundTrip", testWebhookRoundTrip},
	{"WebhookInvalid", testWebhookInvalid},
	{"OutboxBuilt", testOutboxBuilt},
	{"OutboxReleaseEvents", testOutboxReleaseEvents},
	{"OutboxNothingOnFailedChange", testOutboxNothingOnFailedChange},
	{"OutboxClaimAndRecord", testOutboxClaimAndRecord},
	{"OutboxLeaseExpiry", testOutboxLeaseExpiry},
	{"OutboxConcurrentClaims", testOutboxConcurrentClaims},
}

// SampleWebhook returns a valid webhook to url subscribed to events.
func SampleWebhook(url string, events ...string) catalog.Webhook {
	return catalog.Webhook{URL: url, Events: events, Secret: "s3cret"}
}

func addHook(t *testing.T, c catalog.Catalog, w catalog.Webhook) catalog.Webhook {
	t.Helper()
	got, err := c.AddWebhook(context.Background(), w)
	if err != nil {
		t.Fatalf("AddWebhook(%s): %v", w.URL, err)
	}
	return got
}

func deliveries(t *testing.T, c catalog.Catalog, f catalog.DeliveryFilter) []catalog.Delivery {
	t.Helper()
	ds, err := c.Deliveries(context.Background(), f)
	if err != nil {
		t.Fatalf("Deliveries(%+v): %v", f, err)
	}
	return ds
}

func payloadOf(t *testing.T, d catalog.Delivery) catalog.Payload {
	t.Helper()
	var p catalog.Payload
	if err := json.Unmarshal(d.Payload, &p); err != nil {
		t.Fatalf("delivery %s payload %q: %v", d.ID, d.Payload, err)
	}
	return p
}

func testWebhookRoundTrip(t *testing.T, c catalog.Catalog) {
	ctx := context.Background()
	a := addHook(t, c, SampleWebhook("https://hooks.example/a", catalog.HookPromoted, catalog.HookRevoked))
	b := addHook(t, c, SampleWebhook("http://127.0.0.1:9/b", catalog.HookBuilt))
	if a.ID == 0 || b.ID <= a.ID || a.CreatedAt.IsZero() {
		t.Fatalf("IDs %d, %d and time %v: want increasing IDs and a creation time", a.ID, b.ID, a.CreatedAt)
	}
	hooks, err := c.Webhooks(ctx)
	if err != nil || !reflect.DeepEqual(hooks, []catalog.Webhook{a, b}) {
		t.Fatalf("Webhooks = %+v, %v; want %+v", hooks, err, []catalog.Webhook{a, b})
	}
	if err := c.DeleteWebhook(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteWebhook(ctx, a.ID); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("deleting twice: err = %v, want ErrNotFound", err)
	}
	if hooks, _ := c.Webhooks(ctx); len(hooks) != 1 || hooks[0].ID != b.ID {
		t.Errorf("after delete: %+v", hooks)
	}
	c2 := addHook(t, c, SampleWebhook("https://hooks.example/c", catalog.HookBuilt))
	if c2.ID <= b.ID {
		t.Errorf("webhook ID %d reused (want > %d)", c2.ID, b.ID)
	}
}

func testWebhookInvalid(t *testing.T, c catalog.Catalog) {
	for _, w := range []catalog.Webhook{
		SampleWebhook("ftp://hooks.example/a", catalog.HookBuilt),
		SampleWebhook("/relative", catalog.HookBuilt),
		SampleWebhook("https://hooks.example/a"),
		SampleWebhook("https://hooks.example/a", "exploded"),
		SampleWebhook("https://hooks.example/a", catalog.HookBuilt, catalog.HookBuilt),
		{URL: "https://hooks.example/a", Events: []string{catalog.HookBuilt}},
	} {
		if _, err := c.AddWebhook(context.Background(), w); !errors.Is(err, catalog.ErrInvalid) {
			t.Errorf("AddWebhook(%+v): err = %v, want ErrInvalid", w, err)
		}
	}
	if hooks, _ := c.Webhooks(context.Background()); len(hooks) != 0 {
		t.Errorf("invalid webhooks were written: %+v", hooks)
	}
}

func testOutboxBuilt(t *testing.T, c catalog.Catalog) {
	built := addHook(t, c, SampleWebhook("https://hooks.example/built", catalog.HookBuilt))
	addHook(t, c, SampleWebhook("https://hooks.example/promoted", catalog.HookPromoted))
	img := Sample(1)
	add(t, c, img)
	if err := c.AddImage(context.Background(), img); !errors.Is(err, catalog.ErrConflict) {
		t.Fatalf("adding twice: %v", err)
	}
	ds := deliveries(t, c, catalog.DeliveryFilter{})
	if len(ds) != 1 {
		t.Fatalf("%d deliveries, want 1 (built, to the webhook subscribed to it; none for the rejected add)", len(ds))
	}
	d := ds[0]
	if d.Webhook != built.ID || d.URL != built.URL || d.Event != catalog.HookBuilt || d.State != catalog.DeliveryPending || d.Attempts != 0 || d.ID == "" {
		t.Errorf("delivery %+v", d)
	}
	want := catalog.BuiltPayload(img)
	want.ID = d.ID
	if got := payloadOf(t, d); !reflect.DeepEqual(got, want) {
		t.Errorf("payload %+v, want %+v", got, want)
	}
}

func testOutboxReleaseEvents(t *testing.T, c catalog.Catalog) {
	ctx := context.Background()
	a, b := Sample(1), Sample(2)
	add(t, c, a)
	add(t, c, b)
	all := addHook(t, c, SampleWebhook("https://hooks.example/all", catalog.HookPromoted, catalog.HookRevoked, catalog.HookSecurityRelease))
	promo := addHook(t, c, SampleWebhook("https://hooks.example/promo", catalog.HookPromoted))
	e1 := apply(t, c, promotion(a, "stable", "", base))
	sec := catalog.Marks{Security: true, Advisories: []string{"DSA-1-1"}, Severity: "high", Fixed: []string{"openssl"}}
	e2 := apply(t, c, catalog.Change{
		Event: catalog.Event{Product: b.Product, Action: catalog.ActionSecurityRelease, Image: b.Name, Version: b.Version, Actor: "tester", At: base},
		Marks: []catalog.Mark{{Image: b.Name, Marks: sec}},
	})
	apply(t, c, catalog.Change{
		Event: catalog.Event{Product: a.Product, Action: catalog.ActionUnrevoke, Image: a.Name, Actor: "tester", At: base, Reason: "nobody subscribes"},
		Marks: []catalog.Mark{{Image: a.Name}},
	})
	ds := deliveries(t, c, catalog.DeliveryFilter{Webhook: all.ID})
	if len(ds) != 2 {
		t.Fatalf("webhook all: %d deliveries, want 2 (promoted, security-release)", len(ds))
	}
	p1, p2 := payloadOf(t, ds[0]), payloadOf(t, ds[1])
	if p1.Event != catalog.HookPromoted || p1.EventID != e1.ID || p1.Channel != "stable" || p1.Actor != "tester" || !reflect.DeepEqual(p1.Moves, e1.Moves) {
		t.Errorf("promoted payload %+v for event %+v", p1, e1)
	}
	if p2.Event != catalog.HookSecurityRelease || p2.EventID != e2.ID || p2.Marks == nil || !reflect.DeepEqual(*p2.Marks, sec) {
		t.Errorf("security-release payload %+v", p2)
	}
	if ds := deliveries(t, c, catalog.DeliveryFilter{Webhook: promo.ID}); len(ds) != 1 || ds[0].Event != catalog.HookPromoted || ds[0].ID == p1.ID {
		t.Errorf("webhook promo: %+v; want one promoted delivery with its own ID", ds)
	}
	if last := deliveries(t, c, catalog.DeliveryFilter{Limit: 1}); len(last) != 1 || last[0].ID != ds[1].ID {
		t.Errorf("Limit 1: %+v, want the newest delivery", last)
	}
	if err := c.DeleteWebhook(ctx, all.ID); err != nil {
		t.Fatal(err)
	}
	if ds := deliveries(t, c, catalog.DeliveryFilter{}); len(ds) != 1 {
		t.Errorf("after deleting a webhook: %d deliveries, want only the other webhook's", len(ds))
	}
}

func testOutboxNothingOnFailedChange(t *testing.T, c catalog.Catalog) {
	ctx := context.Background()
	a, b := Sample(1), Sample(2)
	add(t, c, a)
	add(t, c, b)
	addHook(t, c, SampleWebhook("https://hooks.example/promo", catalog.HookPromoted))
	apply(t, c, promotion(a, "stable", "", base))
	if _, err := c.ApplyChange(ctx, promotion(b, "stable", "", base)); !errors.Is(err, catalog.ErrConflict) {
		t.Fatalf("stale promotion: %v", err)
	}
	if ds := deliveries(t, c, catalog.DeliveryFilter{}); len(ds) != 1 {
		t.Errorf("%d deliveries, want 1: a rejected change queues nothing", len(ds))
	}
}

func claim(t *testing.T, c catalog.Catalog, now time.Time, lease time.Duration) []catalog.Delivery {
	t.Helper()
	ds, err := c.ClaimDeliveries(context.Background(), now, lease, 10)
	if err != nil {
		t.Fatalf("ClaimDeliveries: %v", err)
	}
	return ds
}

// queue adds a webhook subscribed to built and n images: n deliveries.
func queue(t *testing.T, c catalog.Catalog, n int) {
	t.Helper()
	addHook(t, c, SampleWebhook("https://hooks.example/built", catalog.HookBuilt))
	for i := range n {
		add(t, c, Sample(i))
	}
}

func testOutboxClaimAndRecord(t *testing.T, c catalog.Catalog) {
	ctx := context.Background()
	queue(t, c, 2)
	now := time.Now().Add(time.Second)
	got := claim(t, c, now, time.Minute)
	if len(got) != 2 || got[0].Attempts != 1 || !got[0].NextAttemptAt.Equal(now.UTC().Truncate(time.Microsecond).Add(time.Minute)) {
		t.Fatalf("claimed %+v; want 2 with attempt 1 and the lease as next attempt", got)
	}
	if again := claim(t, c, now.Add(time.Second), time.Minute); len(again) != 0 {
		t.Fatalf("claimed %d deliveries again inside their lease", len(again))
	}
	d0, d1 := got[0], got[1]
	at := now.Add(2 * time.Second)
	if err := c.RecordAttempt(ctx, d0.ID, catalog.Attempt{Attempt: 1, At: at, StatusCode: 204, State: catalog.DeliveryDelivered}); err != nil {
		t.Fatal(err)
	}
	retry := at.Add(10 * time.Second)
	if err := c.RecordAttempt(ctx, d1.ID, catalog.Attempt{Attempt: 1, At: at, StatusCode: 503, Error: "503 Service Unavailable", State: catalog.DeliveryPending, NextAttemptAt: retry}); err != nil {
		t.Fatal(err)
	}
	if err := c.RecordAttempt(ctx, d0.ID, catalog.Attempt{Attempt: 1, At: at, State: catalog.DeliveryPending, NextAttemptAt: at}); !errors.Is(err, catalog.ErrConflict) {
		t.Errorf("recording again on a delivered delivery: err = %v, want ErrConflict", err)
	}
	if err := c.RecordAttempt(ctx, "no-such", catalog.Attempt{Attempt: 1, At: at, State: catalog.DeliveryFailed}); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("unknown delivery: err = %v, want ErrNotFound", err)
	}
	if err := c.RecordAttempt(ctx, d1.ID, catalog.Attempt{Attempt: 1, At: at, State: "lost"}); !errors.Is(err, catalog.ErrInvalid) {
		t.Errorf("unknown state: err = %v, want ErrInvalid", err)
	}
	if early := claim(t, c, retry.Add(-time.Second), time.Minute); len(early) != 0 {
		t.Errorf("claimed %+v before its retry time", early)
	}
	later := claim(t, c, retry, time.Minute)
	if len(later) != 1 || later[0].ID != d1.ID || later[0].Attempts != 2 || later[0].LastStatusCode != 503 {
		t.Fatalf("after the retry time claimed %+v, want only %s at attempt 2", later, d1.ID)
	}
	if err := c.RecordAttempt(ctx, d1.ID, catalog.Attempt{Attempt: 2, At: retry, Error: "connection refused", State: catalog.DeliveryFailed}); err != nil {
		t.Fatal(err)
	}
	if none := claim(t, c, retry.Add(time.Hour), time.Minute); len(none) != 0 {
		t.Errorf("claimed delivered or failed deliveries: %+v", none)
	}
	ds := deliveries(t, c, catalog.DeliveryFilter{})
	if ds[0].State != catalog.DeliveryDelivered || ds[0].LastStatusCode != 204 || !ds[0].DeliveredAt.Equal(at.UTC().Truncate(time.Microsecond)) {
		t.Errorf("delivered: %+v", ds[0])
	}
	if ds[1].State != catalog.DeliveryFailed || ds[1].Attempts != 2 || ds[1].LastError != "connection refused" {
		t.Errorf("failed: %+v", ds[1])
	}
	if f := deliveries(t, c, catalog.DeliveryFilter{State: catalog.DeliveryFailed}); len(f) != 1 || f[0].ID != d1.ID {
		t.Errorf("State filter: %+v", f)
	}
}

// testOutboxLeaseExpiry: a claimer that never reports (it crashed) loses
// the delivery when its lease runs out; its late report is refused.
func testOutboxLeaseExpiry(t *testing.T, c catalog.Catalog) {
	ctx := context.Background()
	queue(t, c, 1)
	now := time.Now().Add(time.Second)
	first := claim(t, c, now, time.Minute)
	second := claim(t, c, now.Add(time.Minute), time.Minute)
	if len(first) != 1 || len(second) != 1 || second[0].Attempts != 2 {
		t.Fatalf("claims %+v then %+v; want the same delivery again at attempt 2", first, second)
	}
	late := catalog.Attempt{Attempt: 1, At: now, StatusCode: 200, State: catalog.DeliveryDelivered}
	if err := c.RecordAttempt(ctx, first[0].ID, late); !errors.Is(err, catalog.ErrConflict) {
		t.Errorf("report of an expired claim: err = %v, want ErrConflict", err)
	}
	late.Attempt = 2
	if err := c.RecordAttempt(ctx, first[0].ID, late); err != nil {
		t.Errorf("report of the current claim: %v", err)
	}
}

func testOutboxConcurrentClaims(t *testing.T, c catalog.Catalog) {
	const n, claimers = 12, 4
	queue(t, c, n)
	now := time.Now().Add(time.Second)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seen = map[string]int{}
	)
	for range claimers {
		wg.Go(func() {
			for {
				ds, err := c.ClaimDeliveries(context.Background(), now, time.Hour, 2)
				if err != nil {
					t.Error(err)
					return
				}
				if len(ds) == 0 {
					return
				}
				mu.Lock()
				for _, d := range ds {
					seen[d.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != n {
		t.Errorf("claimed %d distinct deliveries, want %d", len(seen), n)
	}
	for id, k := range seen {
		if k != 1 {
			t.Errorf("delivery %s claimed %d times", id, k)
		}
	}
}

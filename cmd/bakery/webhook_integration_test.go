package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/feed"
	"github.com/bakery-dev/bakery/internal/runner"
	"github.com/bakery-dev/bakery/internal/simplestreams"
	"github.com/bakery-dev/bakery/internal/webhook"
)

// hookReceiver is a webhook receiver on loopback. It checks every
// signature, counts acknowledgements (2xx answers) by delivery ID and, when
// told to stall, holds the next request open until its client goes away
// (without acknowledging it).
type hookReceiver struct {
	secret string

	mu      sync.Mutex
	stall   bool
	stalled chan string // the delivery ID of the stalled request
	acked   map[string]int
	bodies  map[string]catalog.Payload
	bad     []string
	seen    int // requests, acknowledged or not
}

func newHookReceiver(secret string) *hookReceiver {
	return &hookReceiver{secret: secret, stalled: make(chan string, 1), acked: map[string]int{}, bodies: map[string]catalog.Payload{}}
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	id := r.Header.Get(webhook.HeaderDelivery)
	h.mu.Lock()
	h.seen++
	var p catalog.Payload
	switch {
	case err != nil:
		h.bad = append(h.bad, "reading body: "+err.Error())
	case !webhook.Verify(h.secret, body, r.Header.Get(webhook.HeaderSignature)):
		h.bad = append(h.bad, "bad signature on "+id)
	case json.Unmarshal(body, &p) != nil || p.ID != id || r.Header.Get(webhook.HeaderEvent) != p.Event:
		h.bad = append(h.bad, "payload does not match its headers: "+string(body))
	}
	stall := h.stall
	h.stall = false
	h.mu.Unlock()
	if stall {
		h.stalled <- id
		<-r.Context().Done() // the deliverer was killed mid-request
		return
	}
	h.mu.Lock()
	h.acked[id]++
	h.bodies[id] = p
	h.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (h *hookReceiver) ackCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.acked)
}

func (h *hookReceiver) requests() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.seen
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestIntegrationWebhookExactlyOnce drives a real bakery: promotions by
// subprocesses, delivery by a `bakery webhook deliver` subprocess that is
// killed (SIGKILL) once in the middle of a delivery and is down while
// further promotions happen, then restarted. The receiver must get exactly
// one correctly signed event per promotion, none twice.
func TestIntegrationWebhookExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: builds and runs bakery subprocesses")
	}
	// Attempts time out after 8 s (the kill comes well before); a killed
	// attempt is retried when its 9 s lease runs out.
	exactlyOnceAcrossKills(t, []string{"webhook", "deliver",
		"--poll", "100ms", "--timeout", "8s", "--lease", "9s", "--base-delay", "200ms", "--max-delay", "1s"}, nil)
}

// TestIntegrationServeWebhookRestart is the same with `bakery serve` as the
// deliverer: the server is killed (SIGKILL) between a promotion's event and
// its acknowledgement, promotions happen while it is down, and the
// restarted server delivers each exactly once, serving its streams and
// feeds meanwhile.
func TestIntegrationServeWebhookRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: builds and runs bakery subprocesses")
	}
	exactlyOnceAcrossKills(t, []string{"serve", "--listen", "127.0.0.1:0",
		"--webhook-poll", "100ms", "--webhook-timeout", "8s", "--webhook-lease", "9s", "--webhook-base-delay", "200ms", "--webhook-max-delay", "1s"},
		checkServing)
}

// checkServing waits for a started `bakery serve` to print its URL and
// checks that it answers /healthz, the index and the releases feed.
func checkServing(t *testing.T, p *runner.Process) {
	t.Helper()
	var base string
	waitFor(t, "serve to print its URL", 20*time.Second, func() bool {
		if m := servingURL.FindStringSubmatch(p.Output()); m != nil {
			base = m[1]
			return true
		}
		select {
		case <-p.Done():
			t.Fatalf("serve exited: %v\n%s", p.Wait(), p.Output())
		default:
		}
		return false
	})
	for _, path := range []string{"/healthz", "/" + simplestreams.IndexPath, feed.Path(feed.Releases, "")} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %s", path, resp.Status)
		}
	}
}

// exactlyOnceAcrossKills promotes four times while a deliverer subprocess
// (bakery ARGS...) runs, is killed mid-delivery and is down, then checks
// that the receiver acknowledged each promotion exactly once. ready, when
// set, is called after each start of the deliverer.
func exactlyOnceAcrossKills(t *testing.T, deliverArgs []string, ready func(*testing.T, *runner.Process)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin := buildBakery(t)
	state, _ := releaseState(t, []string{"1.0.0", "1.1.0", "1.2.0"}, []bool{true, true, true})
	bakery := func(args ...string) string {
		t.Helper()
		out, err := (runner.Exec{}).Run(ctx, runner.Cmd{
			Args: append([]string{bin, "--state-dir", state}, args...), Env: []string{"BAKERY_ACTOR=ci"},
		})
		if err != nil {
			t.Fatalf("bakery %s: %v", strings.Join(args, " "), err)
		}
		return string(out)
	}
	const secret = "integration-secret"
	rec := newHookReceiver(secret)
	srv := httptest.NewServer(rec)
	defer srv.Close()
	bakery("webhook", "add", srv.URL+"/hook", "--events", "promoted", "--secret", secret)
	if deliverArgs[0] == "serve" {
		bakery("keygen")
	}

	startDeliverer := func() *runner.Process {
		t.Helper()
		p, err := runner.Start(ctx, runner.Cmd{Args: append([]string{bin, "--state-dir", state, "--verbose"}, deliverArgs...)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Kill() })
		if ready != nil {
			ready(t, p)
		}
		return p
	}
	d := startDeliverer()
	bakery("promote", "debian-cloud", "1.0.0", "--to", "devel")
	waitFor(t, "the first promotion's delivery", 20*time.Second, func() bool { return rec.ackCount() == 1 })

	rec.mu.Lock()
	rec.stall = true
	rec.mu.Unlock()
	bakery("promote", "debian-cloud", "1.1.0", "--to", "devel")
	var stalledID string
	select {
	case stalledID = <-rec.stalled:
	case <-time.After(20 * time.Second):
		t.Fatal("the second promotion was never sent")
	}
	if err := d.Kill(); err != nil { // SIGKILL mid-request: the attempt is never recorded
		t.Fatal(err)
	}
	t.Logf("killed the deliverer (%s) during delivery %s\n%s", deliverArgs[0], stalledID, d.Output())

	// While no deliverer runs, promotions only reach the outbox.
	bakery("promote", "debian-cloud", "1.2.0", "--to", "devel")
	bakery("promote", "debian-cloud", "1.0.0", "--to", "stable", "--force", "--reason", "integration test")
	before := rec.requests()
	time.Sleep(300 * time.Millisecond)
	if rec.requests() != before || rec.ackCount() != 1 {
		t.Fatalf("requests arrived with no deliverer running")
	}

	d = startDeliverer()
	waitFor(t, "all four promotions to be delivered", 60*time.Second, func() bool { return rec.ackCount() == 4 })
	time.Sleep(time.Second) // room for a duplicate to show up
	if err := d.Kill(); err != nil {
		t.Fatal(err)
	}
	if out := bakery("webhook", "deliver", "--once"); !strings.Contains(out, "delivered 0, retrying 0, failed 0") {
		t.Errorf("a last pass still had work: %s", out)
	}
	checkExactlyOnce(t, rec, bakery, stalledID)
}

func checkExactlyOnce(t *testing.T, rec *hookReceiver, bakery func(...string) string, stalledID string) {
	t.Helper()
	var events []catalog.Event
	if err := json.Unmarshal([]byte(bakery("--json", "log", "debian-cloud")), &events); err != nil {
		t.Fatal(err)
	}
	var want, got []int64
	for _, e := range events {
		want = append(want, e.ID)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for id, n := range rec.acked {
		if n != 1 {
			t.Errorf("delivery %s acknowledged %d times, want once", id, n)
		}
		p := rec.bodies[id]
		if p.Event != catalog.HookPromoted || p.Product != "debian-cloud" || p.Actor != "ci" {
			t.Errorf("payload %+v", p)
		}
		got = append(got, p.EventID)
	}
	slices.Sort(got)
	if len(want) != 4 || !slices.Equal(got, want) {
		t.Errorf("acknowledged events %v, want one per promotion %v", got, want)
	}
	if len(rec.bad) > 0 {
		t.Errorf("bad requests: %v", rec.bad)
	}
	if rec.acked[stalledID] != 1 {
		t.Errorf("the delivery cut by the kill (%s) was acknowledged %d times, want once", stalledID, rec.acked[stalledID])
	}
	var ds []catalog.Delivery
	if err := json.Unmarshal([]byte(bakery("--json", "webhook", "deliveries")), &ds); err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		wantAttempts := 1
		if d.ID == stalledID {
			wantAttempts = 2
		}
		if d.State != catalog.DeliveryDelivered || d.Attempts != wantAttempts || d.LastStatusCode != http.StatusNoContent {
			t.Errorf("delivery %+v: want delivered in %d attempt(s) with 204", d, wantAttempts)
		}
	}
	t.Logf("%d deliveries, %d requests (one cut by SIGKILL)", len(ds), rec.seen)
}

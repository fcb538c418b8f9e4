package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/webhook"
)

func TestWebhookCommands(t *testing.T) {
	state, _ := releaseState(t, []string{"1.0.0"}, []bool{true})
	env := map[string]string{"BAKERY_ACTOR": "alice"}
	run := func(want int, args ...string) string {
		t.Helper()
		code, out, errOut := runCLI(t, env, append([]string{"--state-dir", state}, args...)...)
		if code != want {
			t.Fatalf("bakery %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, out, errOut)
		}
		return out
	}
	var mu sync.Mutex
	var bodies [][]byte
	var sigs []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		bodies, sigs = append(bodies, b), append(sigs, r.Header.Get(webhook.HeaderSignature))
	}))
	defer srv.Close()

	var added struct {
		ID     int64  `json:"id"`
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal([]byte(run(0, "--json", "webhook", "add", srv.URL, "--events", "promoted,revoked")), &added); err != nil {
		t.Fatal(err)
	}
	if len(added.Secret) != 64 {
		t.Fatalf("generated secret %q, want 64 hex digits", added.Secret)
	}
	if out := run(0, "webhook", "add", srv.URL+"/other", "--events", "built", "--secret", "given"); strings.Contains(out, "given") {
		t.Errorf("a given secret was printed: %s", out)
	}
	if ls := run(0, "--json", "webhook", "ls"); strings.Contains(ls, added.Secret) || strings.Contains(ls, "given") || !strings.Contains(ls, srv.URL) {
		t.Errorf("webhook ls shows a secret or misses the URL: %s", ls)
	}
	run(2, "webhook", "add", srv.URL, "--events", "exploded")
	run(2, "webhook", "add", "--events", "built")
	run(2, "webhook", "rm", "99")
	run(2, "webhook", "rm", "x")
	run(2, "webhook", "frobnicate")

	run(0, "promote", "debian-cloud", "1.0.0", "--to", "devel")
	if out := run(0, "webhook", "deliveries"); !strings.Contains(out, "promoted") || !strings.Contains(out, "pending") {
		t.Errorf("deliveries before delivering:\n%s", out)
	}
	if out := run(0, "webhook", "deliver", "--once"); !strings.Contains(out, "delivered 1, retrying 0, failed 0") {
		t.Errorf("deliver --once: %s", out)
	}
	var ds []catalog.Delivery
	if err := json.Unmarshal([]byte(run(0, "--json", "webhook", "deliveries", "1")), &ds); err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].State != catalog.DeliveryDelivered || ds[0].LastStatusCode != 200 {
		t.Errorf("deliveries of webhook 1: %+v", ds)
	}
	mu.Lock()
	if len(bodies) != 1 || !webhook.Verify(added.Secret, bodies[0], sigs[0]) {
		t.Errorf("receiver got %d bodies; signature valid: %v", len(bodies), len(bodies) == 1 && webhook.Verify(added.Secret, bodies[0], sigs[0]))
	}
	mu.Unlock()
	if out := run(0, "feed", "debian-cloud", "--base-url", "https://images.example.org"); !strings.Contains(out, "debian-cloud 1.0.0 promoted to devel") || !strings.Contains(out, "<id>https://images.example.org/feeds/debian-cloud/releases.atom</id>") {
		t.Errorf("bakery feed:\n%s", out)
	}
	run(2, "feed", "no-such-product")
	run(2, "feed", "--base-url", "nope")
	run(0, "webhook", "rm", "1")
	if out := run(0, "--json", "webhook", "deliveries"); strings.TrimSpace(out) != "[]" {
		t.Errorf("deliveries after removing the webhook: %s", out)
	}
}

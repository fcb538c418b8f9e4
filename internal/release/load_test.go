package release

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/catalog/catalogtest"
	"github.com/bakery-dev/bakery/internal/catalog/sqlite"
)

const product = "debian-cloud"

// testRecipe shortens the soaks so the timeline stays readable.
const testRecipe = "name: debian-cloud\nversion: %s\nchannels: [devel, {name: rolling, soak: 1h}, {name: stable, soak: 3d}]\n"

// at is the start of the catalog tests' timeline.
var at = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

func openCatalog(t *testing.T) catalog.Catalog {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("closing the catalog: %v", err)
		}
	})
	return db
}

// addImage adds the n-th sample image as version v, with a passing boot
// test.
func addImage(t *testing.T, c catalog.Catalog, n int, v string) catalog.Image {
	t.Helper()
	img := catalogtest.Sample(n)
	img.Version = v
	img.Name = fmt.Sprintf("%s.amd64-%s-%s", product, v, img.Serial)
	img.Recipe = []byte(fmt.Sprintf(testRecipe, v))
	ctx := context.Background()
	if err := c.AddImage(ctx, img); err != nil {
		t.Fatal(err)
	}
	if err := c.RecordQA(ctx, img.Name, catalog.QAResult{Passed: true, Accel: "tcg", TestedAt: img.CreatedAt.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return img
}

func load(t *testing.T, c catalog.Catalog) State {
	t.Helper()
	s, err := Load(context.Background(), c, product)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return s
}

// apply loads the state, asks rule for a change and applies it.
func apply(t *testing.T, c catalog.Catalog, rule func(State) (catalog.Change, error)) catalog.Event {
	t.Helper()
	ch, err := rule(load(t, c))
	if err != nil {
		t.Fatal(err)
	}
	e, err := c.ApplyChange(context.Background(), ch)
	if err != nil {
		t.Fatalf("applying %s of %s: %v", ch.Event.Action, ch.Event.Image, err)
	}
	return e
}

func promote(img catalog.Image, to string, r Request) func(State) (catalog.Change, error) {
	return func(s State) (catalog.Change, error) { return s.Promote(img, to, r) }
}

func headsText(s State) string {
	var out []string
	for _, ch := range slices.Sorted(maps.Keys(s.Heads)) {
		out = append(out, ch+"="+s.Heads[ch].Image)
	}
	return strings.Join(out, " ")
}

func TestLoadAndApply(t *testing.T) {
	c := openCatalog(t)
	ctx := context.Background()
	if _, err := Load(ctx, c, product); !errors.Is(err, ErrUnknown) {
		t.Fatalf("Load of an empty catalog: error = %v, want ErrUnknown", err)
	}
	v1 := addImage(t, c, 1, "1.0.0")
	v2 := addImage(t, c, 2, "1.1.0")

	s := load(t, c)
	if s.Policy.Scheme != "semver-security" || len(s.Policy.Channels) != 3 || s.Policy.Channels[2].Soak.String() != "3d" {
		t.Fatalf("policy = %+v, want the recipe's", s.Policy)
	}
	if len(s.QA) != 2 || !s.QA[v1.Name].Passed || len(s.Heads) != 0 || len(s.History) != 0 {
		t.Fatalf("state of a new product = %+v", s)
	}

	alice := func(when time.Time) Request { return Request{Actor: "alice", At: when} }
	apply(t, c, promote(v1, "devel", alice(at)))
	apply(t, c, promote(v1, "rolling", alice(at.Add(time.Hour))))
	_, err := load(t, c).Promote(v1, "stable", alice(at.Add(24*time.Hour)))
	if g := gateOf(err); g == nil || g.Gate != GateSoak || !strings.Contains(err.Error(), "stable needs 3 days of soak; wait until 2026-11-28T10:00:00Z") {
		t.Fatalf("promoting to stable a day after rolling: error = %v, want the soak gate", err)
	}
	forcedEvent := apply(t, c, promote(v1, "stable", Request{Actor: "alice", At: at.Add(24 * time.Hour), Force: true, Reason: "release day"}))
	if !slices.Equal(forcedEvent.Forced, []string{GateSoak}) || forcedEvent.Reason != "release day" {
		t.Errorf("forced promotion recorded as %+v", forcedEvent)
	}

	apply(t, c, promote(v2, "devel", alice(at.Add(48*time.Hour))))
	apply(t, c, promote(v2, "rolling", alice(at.Add(49*time.Hour))))
	apply(t, c, promote(v2, "stable", alice(at.Add(6*24*time.Hour))))
	s = load(t, c)
	want := fmt.Sprintf("devel=%[2]s rolling=%[2]s stable=%[2]s stable-1.0=%[1]s stable-1.1=%[2]s", v1.Name, v2.Name)
	if got := headsText(s); got != want {
		t.Errorf("heads after promoting 1.1.0 = %s\nwant %s", got, want)
	}

	revoked := apply(t, c, func(s State) (catalog.Change, error) {
		return s.Revoke(v2, Request{Actor: "bob", At: at.Add(7 * 24 * time.Hour), Reason: "breaks dns"})
	})
	if got := moves(revoked.Moves); got != fmt.Sprintf("devel:%[2]s>%[1]s rolling:%[2]s>%[1]s stable:%[2]s>%[1]s stable-1.1:%[2]s>", v1.Name, v2.Name) {
		t.Errorf("revocation moved %s", got)
	}
	s = load(t, c)
	want = fmt.Sprintf("devel=%[1]s rolling=%[1]s stable=%[1]s stable-1.0=%[1]s stable-1.1=", v1.Name)
	if got := headsText(s); got != want {
		t.Errorf("heads after revoking 1.1.0 = %s\nwant %s", got, want)
	}
	if m := s.Marks[v2.Name]; !m.Revoked || m.RevokedReason != "breaks dns" || !m.RevokedAt.Equal(at.Add(7*24*time.Hour)) {
		t.Errorf("marks of the revoked version = %+v", m)
	}
	if _, err := s.Promote(v2, "devel", alice(at.Add(8*24*time.Hour))); gateOf(err) == nil || gateOf(err).Gate != GateRevoked {
		t.Errorf("promoting a revoked version: error = %v, want the revoked gate", err)
	}
	if p, err := s.Pin("stable", ""); err != nil || p.Image != v1.Name || p.QCOW2SHA256 != strings.TrimPrefix(v1.Artifacts[0].Digest, "sha256:") {
		t.Errorf("Pin(stable) = %+v, %v; want %s", p, err, v1.Name)
	}

	// A hotfix on 1.0 goes straight to its line, and stable follows.
	v3 := addImage(t, c, 3, "1.0.1")
	hotfix := apply(t, c, promote(v3, "stable-1.0", alice(at.Add(8*24*time.Hour))))
	if got := moves(hotfix.Moves); got != fmt.Sprintf("stable-1.0:%[1]s>%[2]s stable:%[1]s>%[2]s", v1.Name, v3.Name) {
		t.Errorf("hotfix moved %s", got)
	}
	apply(t, c, func(s State) (catalog.Change, error) {
		return s.Unrevoke(v2, Request{Actor: "bob", At: at.Add(9 * 24 * time.Hour), Reason: "it was the mirror"})
	})
	s = load(t, c)
	if s.Marks[v2.Name].Revoked || s.Heads["stable-1.1"].Image != "" {
		t.Errorf("after unrevoking: marks %+v, stable-1.1 at %q; want unrevoked and nothing moved", s.Marks[v2.Name], s.Heads["stable-1.1"].Image)
	}

	events, err := c.Events(ctx, product)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range events {
		actions = append(actions, e.Action+" "+e.Version+" "+e.Channel)
	}
	wantActions := []string{
		"promote 1.0.0 devel", "promote 1.0.0 rolling", "promote 1.0.0 stable",
		"promote 1.1.0 devel", "promote 1.1.0 rolling", "promote 1.1.0 stable",
		"revoke 1.1.0 ", "promote 1.0.1 stable-1.0", "unrevoke 1.1.0 ",
	}
	if !slices.Equal(actions, wantActions) {
		t.Errorf("audit log:\n%s\nwant:\n%s", strings.Join(actions, "\n"), strings.Join(wantActions, "\n"))
	}
	checkLogMatchesHistory(t, events, s.History)
}

// checkLogMatchesHistory checks that every channel move in history is one
// of an audit event's moves, in order, at the event's time.
func checkLogMatchesHistory(t *testing.T, events []catalog.Event, history []catalog.HistoryEntry) {
	t.Helper()
	var fromLog []catalog.HistoryEntry
	for _, e := range events {
		for _, m := range e.Moves {
			fromLog = append(fromLog, catalog.HistoryEntry{Channel: m.Channel, Image: m.To, At: e.At, EventID: e.ID})
		}
	}
	if !reflect.DeepEqual(fromLog, history) {
		t.Errorf("channel history does not match the audit log\nhistory: %+v\nlog:     %+v", history, fromLog)
	}
}

// TestConcurrentPromotions races promoters of different versions to one
// channel: every promoter loads the same state, then all apply at once.
func TestConcurrentPromotions(t *testing.T) {
	const rounds, promoters = 3, 5
	c := openCatalog(t)
	imgs := make([][]catalog.Image, rounds)
	for r := range rounds {
		for i := range promoters {
			imgs[r] = append(imgs[r], addImage(t, c, r*promoters+i, fmt.Sprintf("1.%d.%d", r, i)))
		}
	}
	var winners []string
	for r := range rounds {
		errs := make([]error, promoters)
		var loaded, done sync.WaitGroup
		loaded.Add(promoters)
		for i := range promoters {
			done.Go(func() {
				s, err := Load(context.Background(), c, product)
				var ch catalog.Change
				if err == nil {
					ch, err = s.Promote(imgs[r][i], "devel", Request{Actor: fmt.Sprintf("p%d", i), At: at.Add(time.Duration(r) * time.Hour)})
				}
				loaded.Done()
				loaded.Wait() // nobody applies before everybody loaded
				if err == nil {
					_, err = c.ApplyChange(context.Background(), ch)
				}
				errs[i] = err
			})
		}
		done.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Errorf("round %d: promotions %d and %d both won", r, winner, i)
			case err == nil:
				winner = i
			case !errors.Is(err, catalog.ErrConflict):
				t.Errorf("round %d: promotion %d: error = %v, want ErrConflict", r, i, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no promotion won", r)
		}
		won := imgs[r][winner].Name
		winners = append(winners, won)
		for i, err := range errs {
			if err != nil && !strings.Contains(err.Error(), "channel devel is at "+won) {
				t.Errorf("round %d: promotion %d: conflict %q does not name the head %s", r, i, err, won)
			}
		}
	}
	s := load(t, c)
	if got := s.Heads["devel"].Image; got != winners[rounds-1] {
		t.Errorf("devel is at %s, want the last winner %s", got, winners[rounds-1])
	}
	var history []string
	for _, h := range s.History {
		history = append(history, h.Image)
	}
	if !slices.Equal(history, winners) {
		t.Errorf("devel history = %v, want the winners %v", history, winners)
	}
	events, err := c.Events(context.Background(), product)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != rounds {
		t.Errorf("audit log has %d events, want one per round (%d)", len(events), rounds)
	}
	checkLogMatchesHistory(t, events, s.History)
}

package catalogtest

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bakery-dev/bakery/internal/catalog"
)

// releaseTests are the conformance tests of ApplyChange and the release
// readers.
var releaseTests = []struct {
	name string
	fn   func(t *testing.T, c catalog.Catalog)
}{
	{"ReleaseRoundTrip", testReleaseRoundTrip},
	{"ReleaseConflictWritesNothing", testReleaseConflictWritesNothing},
	{"ReleaseBadImages", testReleaseBadImages},
	{"ReleaseMarksReplaced", testReleaseMarksReplaced},
	{"ReleaseNeverPointsAtRevoked", testReleaseNeverPointsAtRevoked},
	{"ReleaseConcurrentPromotions", testReleaseConcurrentPromotions},
}

func promotion(img catalog.Image, channel, from string, at time.Time) catalog.Change {
	return catalog.Change{
		Event: catalog.Event{
			Product: img.Product, Action: catalog.ActionPromote, Image: img.Name, Version: img.Version,
			Channel: channel, Actor: "tester", At: at, Reason: "conformance",
		},
		Moves: []catalog.Move{{Channel: channel, From: from, To: img.Name}},
	}
}

func apply(t *testing.T, c catalog.Catalog, ch catalog.Change) catalog.Event {
	t.Helper()
	e, err := c.ApplyChange(context.Background(), ch)
	if err != nil {
		t.Fatalf("ApplyChange(%s %s): %v", ch.Event.Action, ch.Event.Image, err)
	}
	return e
}

func testReleaseRoundTrip(t *testing.T, c catalog.Catalog) {
	ctx := context.Background()
	a, b := Sample(1), Sample(2)
	add(t, c, a)
	add(t, c, b)
	at := base.Add(48*time.Hour + 987654321)
	first := apply(t, c, promotion(a, "devel", "", at))
	ch := promotion(b, "devel", a.Name, at.Add(time.Hour))
	ch.Moves = append(ch.Moves, catalog.Move{Channel: "stable-0.1", To: b.Name})
	ch.Event.Forced = []string{"soak"}
	sec := catalog.Marks{Security: true, Advisories: []string{"DSA-1-1"}, Severity: "high", Fixed: []string{"openssl"}}
	ch.Marks = []catalog.Mark{{Image: b.Name, Marks: sec}}
	second := apply(t, c, ch)
	if first.ID == 0 || second.ID <= first.ID {
		t.Fatalf("event IDs %d, %d: want increasing and non-zero", first.ID, second.ID)
	}

	heads, err := c.ChannelHeads(ctx, a.Product)
	if err != nil {
		t.Fatal(err)
	}
	wantHeads := []catalog.ChannelHead{
		{Product: a.Product, Channel: "devel", Image: b.Name, Since: second.At},
		{Product: a.Product, Channel: "stable-0.1", Image: b.Name, Since: second.At},
	}
	if !reflect.DeepEqual(heads, wantHeads) {
		t.Errorf("ChannelHeads = %+v, want %+v", heads, wantHeads)
	}
	hist, err := c.ChannelHistory(ctx, a.Product, "devel")
	if err != nil {
		t.Fatal(err)
	}
	wantHist := []catalog.HistoryEntry{
		{Channel: "devel", Image: a.Name, At: first.At, EventID: first.ID},
		{Channel: "devel", Image: b.Name, At: second.At, EventID: second.ID},
	}
	if !reflect.DeepEqual(hist, wantHist) {
		t.Errorf("ChannelHistory = %+v, want %+v", hist, wantHist)
	}
	all, err := c.ChannelHistory(ctx, a.Product, "")
	if err != nil || len(all) != 3 {
		t.Errorf("ChannelHistory(all) = %d entries, %v; want 3", len(all), err)
	}
	marks, err := c.ImageMarks(ctx, a.Product)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(marks, map[string]catalog.Marks{b.Name: sec}) {
		t.Errorf("ImageMarks = %+v", marks)
	}
	events, err := c.Events(ctx, a.Product)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(events, []catalog.Event{first, second}) {
		t.Errorf("Events =\n%+v\nwant\n%+v", events, []catalog.Event{first, second})
	}
	if other, err := c.Events(ctx, "other"); err != nil || len(other) != 0 {
		t.Errorf("Events(other) = %v, %v; want none", other, err)
	}
}

func testReleaseConflictWritesNothing(t *testing.T, c catalog.Catalog) {
	ctx := context.Background()
	a, b := Sample(1), Sample(2)
	add(t, c, a)
	add(t, c, b)
	apply(t, c, promotion(a, "stable", "", base))
	stale := promotion(b, "stable", "", base.Add(time.Hour)) // thinks stable is empty
	stale.Marks = []catalog.Mark{{Image: b.Name, Marks: catalog.Marks{Revoked: true}}}
	_, err := c.ApplyChange(ctx, stale)
	if !errors.Is(err, catalog.ErrConflict) {
		t.Fatalf("stale move: err = %v, want ErrConflict", err)
	}
	if want := a.Name; !strings.Contains(err.Error(), want) {
		t.Errorf("conflict error %q does not name the current head %s", err, want)
	}
	heads, _ := c.ChannelHeads(ctx, a.Product)
	events, _ := c.Events(ctx, a.Product)
	marks, _ := c.ImageMarks(ctx, a.Product)
	if len(heads) != 1 || heads[0].Image != a.Name || len(events) != 1 || len(marks) != 0 {
		t.Errorf("after a conflict: heads %+v, %d events, marks %+v; want the state before", heads, len(events), marks)
	}
}

func testReleaseBadImages(t *testing.T, c catalog.Catalog) {
	ctx := context.Background()
	a := Sample(1)
	add(t, c, a)
	other := Sample(2)
	other.Product, other.Name = "other", "other-0.1.2"
	add(t, c, other)
	missing := promotion(a, "devel", "", base)
	missing.Moves[0].To = "no-such-image"
	if _, err := c.ApplyChange(ctx, missing); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("unknown image: err = %v, want ErrNotFound", err)
	}
	foreign := promotion(a, "devel", "", base)
	foreign.Moves[0].To = other.Name
	if _, err := c.ApplyChange(ctx, foreign); !errors.Is(err, catalog.ErrInvalid) {
		t.Errorf("another product's image: err = %v, want ErrInvalid", err)
	}
	twice := promotion(a, "devel", "", base)
	twice.Moves = append(twice.Moves, twice.Moves[0])
	if _, err := c.ApplyChange(ctx, twice); !errors.Is(err, catalog.ErrInvalid) {
		t.Errorf("channel moved twice: err = %v, want ErrInvalid", err)
	}
	noop := promotion(a, "devel", a.Name, base)
	if _, err := c.ApplyChange(ctx, noop); !errors.Is(err, catalog.ErrInvalid) {
		t.Errorf("move to the same head: err = %v, want ErrInvalid", err)
	}
	noActor := promotion(a, "devel", "", base)
	noActor.Event.Actor = ""
	if _, err := c.ApplyChange(ctx, noActor); !errors.Is(err, catalog.ErrInvalid) {
		t.Errorf("no actor: err = %v, want ErrInvalid", err)
	}
	if heads, _ := c.ChannelHeads(ctx, a.Product); len(heads) != 0 {
		t.Errorf("rejected changes moved heads: %+v", heads)
	}
}

func testReleaseMarksReplaced(t *testing.T, c catalog.Catalog) {
	ctx := context.Background()
	a := Sample(1)
	add(t, c, a)
	mark := func(m catalog.Marks, action string) {
		apply(t, c, catalog.Change{
			Event: catalog.Event{Product: a.Product, Action: action, Image: a.Name, Actor: "tester", At: base},
			Marks: []catalog.Mark{{Image: a.Name, Marks: m}},
		})
	}
	mark(catalog.Marks{Revoked: true, RevokedReason: "broken", RevokedAt: base}, catalog.ActionRevoke)
	mark(catalog.Marks{}, catalog.ActionUnrevoke)
	marks, err := c.ImageMarks(ctx, a.Product)
	if err != nil || !reflect.DeepEqual(marks, map[string]catalog.Marks{a.Name: {}}) {
		t.Errorf("ImageMarks after unrevoke = %+v, %v", marks, err)
	}
	if err := c.DeleteImage(ctx, a.Name); err != nil {
		t.Fatal(err)
	}
	marks, _ = c.ImageMarks(ctx, a.Product)
	events, _ := c.Events(ctx, a.Product)
	if len(marks) != 0 || len(events) != 2 {
		t.Errorf("after delete: marks %+v, %d events; want no marks and the audit log kept", marks, len(events))
	}
}

// testReleaseConcurrentPromotions races promotions of different versions to
// one channel, round after round: exactly one wins each round, the losers
// get ErrConflict, and the audit log matches the channel history.
func testReleaseConcurrentPromotions(t *testing.T, c catalog.Catalog) {
	ctx := context.Background()
	const rounds, racers = 5, 6
	var imgs []catalog.Image
	for i := range racers {
		img := Sample(i)
		add(t, c, img)
		imgs = append(imgs, img)
	}
	head := ""
	for round := range rounds {
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			winners []string
		)
		for i, img := range imgs {
			if img.Name == head {
				continue // already the head: not a promotion
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				ch := promotion(img, "stable", head, base.Add(time.Duration(round*racers+i)*time.Second))
				_, err := c.ApplyChange(ctx, ch)
				switch {
				case err == nil:
					mu.Lock()
					winners = append(winners, img.Name)
					mu.Unlock()
				case !errors.Is(err, catalog.ErrConflict):
					t.Errorf("round %d: %s: %v", round, img.Name, err)
				}
			}()
		}
		wg.Wait()
		if len(winners) != 1 {
			t.Fatalf("round %d: %d winners %v, want exactly 1", round, len(winners), winners)
		}
		head = winners[0]
	}
	hist, _ := c.ChannelHistory(ctx, imgs[0].Product, "stable")
	events, _ := c.Events(ctx, imgs[0].Product)
	if len(hist) != rounds || len(events) != rounds {
		t.Fatalf("%d history entries, %d events; want %d each", len(hist), len(events), rounds)
	}
	for i, h := range hist {
		e := events[i]
		if h.EventID != e.ID || h.Image != e.Image || e.Moves[0].To != h.Image {
			t.Errorf("history %d %+v does not match event %+v", i, h, e)
		}
		if i > 0 && e.Moves[0].From != hist[i-1].Image {
			t.Errorf("event %d moved from %s, but the head was %s", e.ID, e.Moves[0].From, hist[i-1].Image)
		}
	}
	if heads, _ := c.ChannelHeads(ctx, imgs[0].Product); heads[0].Image != head {
		t.Errorf("head %s, want the last winner %s", heads[0].Image, head)
	}
}

// testReleaseNeverPointsAtRevoked: a promotion planned before a revocation
// landed must not apply after it.
func testReleaseNeverPointsAtRevoked(t *testing.T, c catalog.Catalog) {
	ctx := context.Background()
	a := Sample(1)
	add(t, c, a)
	apply(t, c, catalog.Change{
		Event: catalog.Event{Product: a.Product, Action: catalog.ActionRevoke, Image: a.Name, Actor: "tester", At: base},
		Marks: []catalog.Mark{{Image: a.Name, Marks: catalog.Marks{Revoked: true, RevokedReason: "broken"}}},
	})
	_, err := c.ApplyChange(ctx, promotion(a, "stable", "", base.Add(time.Minute)))
	if !errors.Is(err, catalog.ErrConflict) || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("promoting a revoked image: err = %v, want ErrConflict naming the revocation", err)
	}
	if heads, _ := c.ChannelHeads(ctx, a.Product); len(heads) != 0 {
		t.Errorf("heads %+v after a refused promotion", heads)
	}
}

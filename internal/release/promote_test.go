package release

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/version"
)

// promoteBase is the product the promotion table starts from, on day 30:
//
//	devel   1.2.1 (since day 26)
//	rolling 1.2.0 (since day 25: its 7 days of soak end on day 32)
//	stable  1.1.0, stable-1.1 1.1.0, stable-1.0 1.0.0
//
// 1.0.1 (a hotfix) soaked in rolling from day 20; 1.1.1, 1.3.0 and 0.9.0
// passed QA and are on no channel; 1.4.0 was never tested.
func promoteBase() *builder {
	return build("1.4.0", "1.3.0", "1.2.1", "1.2.0", "1.1.1", "1.1.0", "1.0.1", "1.0.0", "0.9.0").
		pass("1.3.0", "1.2.1", "1.2.0", "1.1.1", "1.1.0", "1.0.1", "1.0.0", "0.9.0").
		through("1.0.0", day(0)).
		through("1.1.0", day(10)).
		head("devel", "1.0.1", day(19)).head("rolling", "1.0.1", day(20)).
		head("devel", "1.2.0", day(21)).head("rolling", "1.2.0", day(25)).
		head("devel", "1.2.1", day(26))
}

func TestPromote(t *testing.T) {
	now := day(30)
	tests := []struct {
		name   string
		state  func() *builder // nil: promoteBase
		v, to  string
		req    Request
		gate   string   // the gate that refuses, if a gate refuses
		err    string   // part of the error
		forced []string // the gates the event names as forced
		moves  string   // see moves()
	}{
		// Gates no --force overrides.
		{name: "never tested", v: "1.4.0", to: "devel", req: forced(now, "hurry"),
			gate: GateQA, err: "demo-1.4.0 was never boot-tested; run: bakery test demo-1.4.0"},
		{name: "qa failed", state: func() *builder { return promoteBase().fail("1.3.0") }, v: "1.3.0", to: "devel", req: forced(now, "hurry"),
			gate: GateQA, err: "demo-1.3.0 failed its latest boot test (2026-11-01T12:00:00Z)"},
		{name: "revoked", state: func() *builder { return promoteBase().revoke("1.3.0", "breaks dns") }, v: "1.3.0", to: "devel", req: forced(now, "hurry"),
			gate: GateRevoked, err: "demo-1.3.0 is revoked (breaks dns)"},
		{name: "already head", v: "1.2.1", to: "devel", req: req(now),
			err: "demo-1.2.1 is already the head of devel"},
		{name: "unknown channel", v: "1.3.0", to: "beta", req: req(now),
			err: `unknown channel "beta": demo has devel, rolling, stable, and stable-X.Y lines`},
		{name: "wrong line", v: "1.2.0", to: "stable-1.1", req: forced(now, "hurry"),
			gate: GateLine, err: "version 1.2.0, on line 1.2, not 1.1; promote it to stable-1.2"},
		{name: "line not released", v: "1.3.0", to: "stable-1.3", req: forced(now, "hurry"),
			err: "unknown line 1.3 of demo: no version of it reached stable yet; promote it to stable"},

		// Forceable gates, refused.
		{name: "previous channel missing", v: "1.3.0", to: "rolling", req: req(now),
			gate: GatePrevious, err: "demo-1.3.0 has not been in devel; promote it to devel first, or --force --reason"},
		{name: "soak not elapsed", v: "1.2.0", to: "stable", req: req(now),
			gate: GateSoak, err: "entered rolling at 2026-11-26T12:00:00Z, 120h0m0s ago; stable needs 7 days of soak; wait until 2026-12-03T12:00:00Z"},
		{name: "soak a second short", v: "1.2.0", to: "stable", req: req(day(32).Add(-time.Second)),
			gate: GateSoak, err: "wait until 2026-12-03T12:00:00Z"},
		{name: "downgrade into stable", v: "1.0.1", to: "stable", req: req(now),
			gate: GateOrder, err: "demo-1.0.1 (1.0.1) is older than stable's head demo-1.1.0 (1.1.0); for a hotfix on an older line promote it to stable-1.0"},
		{name: "downgrade on a line", state: func() *builder {
			return promoteBase().images("1.0.2").pass("1.0.2").head("stable-1.0", "1.0.2", day(22))
		},
			v: "1.0.1", to: "stable-1.0", req: req(now),
			gate: GateOrder, err: "older than stable-1.0's head demo-1.0.2 (1.0.2); promote a newer version, or --force --reason"},
		{name: "force without reason", v: "1.2.0", to: "stable", req: Request{Actor: "alice", At: now, Force: true},
			err: "--force needs --reason"},

		// Promotions.
		{name: "into devel", v: "1.3.0", to: "devel", req: req(now),
			moves: "devel:1.2.1>1.3.0"},
		{name: "into an empty channel", state: func() *builder { return build("1.0.0").pass("1.0.0") }, v: "1.0.0", to: "devel", req: req(now),
			moves: "devel:>1.0.0"},
		{name: "into rolling", v: "1.2.1", to: "rolling", req: req(now),
			moves: "rolling:1.2.0>1.2.1"},
		{name: "soak exactly elapsed", v: "1.2.0", to: "stable", req: req(day(32)),
			moves: "stable:1.1.0>1.2.0 stable-1.2:>1.2.0"},
		{name: "soak forced", v: "1.2.0", to: "stable", req: forced(now, "CVE fix"),
			forced: []string{GateSoak}, moves: "stable:1.1.0>1.2.0 stable-1.2:>1.2.0"},
		{name: "previous channel forced", v: "1.3.0", to: "rolling", req: forced(now, "skip devel"),
			forced: []string{GatePrevious}, moves: "rolling:1.2.0>1.3.0"},
		{name: "downgrade forced moves its line", v: "1.0.1", to: "stable", req: forced(now, "1.1 breaks boot"),
			forced: []string{GateOrder}, moves: "stable:1.1.0>1.0.1 stable-1.0:1.0.0>1.0.1"},
		{name: "downgrade forced leaves a newer line head",
			state: func() *builder {
				return promoteBase().images("1.0.2").pass("1.0.2").head("stable-1.0", "1.0.2", day(22))
			},
			v: "1.0.1", to: "stable", req: forced(now, "1.1 breaks boot"),
			forced: []string{GateOrder}, moves: "stable:1.1.0>1.0.1"},
		{name: "every forceable gate forced", v: "0.9.0", to: "stable", req: forced(now, "roll back"),
			forced: []string{GatePrevious, GateOrder}, moves: "stable:1.1.0>0.9.0 stable-0.9:>0.9.0"},
		{name: "hotfix on stable's line moves stable", v: "1.1.1", to: "stable-1.1", req: req(now),
			moves: "stable-1.1:1.1.0>1.1.1 stable:1.1.0>1.1.1"},
		{name: "hotfix on an older line leaves stable", v: "1.0.1", to: "stable-1.0", req: req(now),
			moves: "stable-1.0:1.0.0>1.0.1"},
		{name: "hotfix leaves stable rolled back to an older line",
			state: func() *builder {
				return promoteBase().head("stable", "1.0.1", day(29)).head("stable-1.0", "1.0.1", day(29))
			},
			v: "1.1.1", to: "stable-1.1", req: req(now),
			moves: "stable-1.1:1.1.0>1.1.1"},
		{name: "hotfix on an emptied line",
			state: func() *builder { return promoteBase().revoke("1.0.0", "bad").head("stable-1.0", "", day(29)) },
			v:     "1.0.1", to: "stable-1.0", req: req(now),
			moves: "stable-1.0:>1.0.1"},
		{name: "stable already on the version's line head", state: func() *builder {
			return promoteBase().head("devel", "1.1.1", day(27)).head("rolling", "1.1.1", day(27)).head("stable-1.1", "1.1.1", day(28))
		}, v: "1.1.1", to: "stable", req: req(day(34)),
			moves: "stable:1.1.0>1.1.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := promoteBase()
			if tt.state != nil {
				b = tt.state()
			}
			ch, err := b.s.Promote(b.img(tt.v), tt.to, tt.req)
			if !checkErr(t, err, tt.err) {
				checkGate(t, err, tt.gate)
				if strings.HasPrefix(tt.err, "unknown") && !errors.Is(err, ErrUnknown) {
					t.Errorf("error %v does not wrap ErrUnknown", err)
				}
				return
			}
			checkPromotion(t, ch, b.img(tt.v), tt.to, tt.req)
			if got := moves(ch.Moves); got != tt.moves {
				t.Errorf("moves = %s, want %s", got, tt.moves)
			}
			if !slices.Equal(ch.Event.Forced, tt.forced) {
				t.Errorf("forced gates = %v, want %v", ch.Event.Forced, tt.forced)
			}
		})
	}
}

// checkGate checks that err is a *GateError of gate, or no gate's when
// gate is "".
func checkGate(t *testing.T, err error, gate string) {
	t.Helper()
	g := gateOf(err)
	switch {
	case gate == "" && g != nil:
		t.Errorf("error is gate %s's, want no gate's: %v", g.Gate, err)
	case gate == "":
	case g == nil || g.Gate != gate:
		t.Errorf("error %v: want gate %s", err, gate)
	case !errors.Is(err, ErrGate):
		t.Errorf("error %v does not wrap ErrGate", err)
	case g.Satisfy == "":
		t.Errorf("gate %s does not say what would satisfy it", gate)
	}
}

func checkPromotion(t *testing.T, ch catalog.Change, img catalog.Image, to string, r Request) {
	t.Helper()
	if err := ch.Validate(); err != nil {
		t.Errorf("the change is invalid: %v", err)
	}
	want := catalog.Event{Product: "demo", Action: catalog.ActionPromote, Image: img.Name, Version: img.Version,
		Channel: to, Actor: r.Actor, At: r.At, Reason: r.Reason}
	got := ch.Event
	got.Forced = nil
	if !eventEqual(got, want) {
		t.Errorf("event = %+v, want %+v", ch.Event, want)
	}
	if len(ch.Marks) != 0 {
		t.Errorf("a promotion marks %v", ch.Marks)
	}
}

func eventEqual(a, b catalog.Event) bool {
	return a.ID == b.ID && a.Product == b.Product && a.Action == b.Action && a.Image == b.Image &&
		a.Version == b.Version && a.Channel == b.Channel && a.Actor == b.Actor && a.At.Equal(b.At) &&
		a.Reason == b.Reason && slices.Equal(a.Forced, b.Forced) && len(a.Moves) == 0 && len(a.Marks) == 0
}

// TestPromoteCalver covers the versions that are on no line or only
// pre-release one.
func TestPromoteCalver(t *testing.T) {
	const (
		stable  = "3.20261101.0"
		hotfix  = "3.20261101.1"
		rolling = "3.20261115.0-rolling.4"
		older   = "3.20261115.0-rolling.2"
		devel   = "devel.2026111408"
	)
	base := func() *builder {
		return build(hotfix, rolling, older, stable, devel).scheme(version.Calver).
			pass(hotfix, rolling, older, stable, devel).
			through(stable, day(0)).
			head("devel", devel, day(10)).
			head("devel", older, day(11)).head("rolling", older, day(12)).
			head("devel", rolling, day(13)).head("rolling", rolling, day(14))
	}
	now := day(30)
	tests := []struct {
		name, v, to string
		req         Request
		gate, err   string
		moves       string
	}{
		{name: "rolling version on a line", v: rolling, to: "stable-3.20261115", req: forced(now, "x"),
			gate: GateLine, err: "3.20261115.0-rolling.4 is a rolling version; only stable versions go on line 3.20261115"},
		{name: "devel version on a line", v: devel, to: "stable-3.20261101", req: forced(now, "x"),
			gate: GateLine, err: "is a devel version; only stable versions go on line 3.20261101"},
		{name: "rolling downgrade", v: older, to: "rolling", req: req(now),
			gate: GateOrder, err: "older than rolling's head demo-3.20261115.0-rolling.4 (3.20261115.0-rolling.4); promote a newer version, or --force --reason"},
		{name: "devel is older than rolling builds", v: devel, to: "rolling", req: req(now),
			gate: GateOrder, err: "promote a newer version"},
		{name: "calver hotfix", v: hotfix, to: "stable-3.20261101", req: req(now),
			moves: "stable-3.20261101:3.20261101.0>3.20261101.1 stable:3.20261101.0>3.20261101.1"},
		{name: "rolling into stable does not make a line", v: rolling, to: "stable", req: req(now),
			moves: "stable:3.20261101.0>3.20261115.0-rolling.4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := base()
			ch, err := b.s.Promote(b.img(tt.v), tt.to, tt.req)
			if !checkErr(t, err, tt.err) {
				checkGate(t, err, tt.gate)
				return
			}
			checkPromotion(t, ch, b.img(tt.v), tt.to, tt.req)
			if got := moves(ch.Moves); got != tt.moves {
				t.Errorf("moves = %s, want %s", got, tt.moves)
			}
		})
	}
}

// TestPromoteCustomChannels checks that the soak and previous channel
// come from the recipe's order.
func TestPromoteCustomChannels(t *testing.T) {
	b := build("1.0.0").pass("1.0.0").head("candidate", "1.0.0", day(0))
	b.s.Policy.Channels = nil
	for _, c := range []struct {
		name string
		soak time.Duration
	}{{"candidate", 0}, {"stable", 36 * time.Hour}, {"lts", 0}} {
		b.s.Policy.Channels = append(b.s.Policy.Channels, channel(c.name, c.soak))
	}
	_, err := b.s.Promote(b.img("1.0.0"), "stable", req(day(1)))
	checkErr(t, err, "entered candidate at 2026-11-01T12:00:00Z, 24h0m0s ago; stable needs 36h0m0s of soak; wait until 2026-11-03T00:00:00Z")
	ch, err := b.s.Promote(b.img("1.0.0"), "stable", req(day(2)))
	checkErr(t, err, "")
	if got := moves(ch.Moves); got != "stable:>1.0.0 stable-1.0:>1.0.0" {
		t.Errorf("moves = %s", got)
	}
	_, err = b.s.Promote(b.img("1.0.0"), "lts", req(day(2)))
	checkErr(t, err, "demo-1.0.0 has not been in stable")
	_, err = b.s.Promote(b.img("1.0.0"), "rolling", req(day(2)))
	if !errors.Is(err, ErrUnknown) {
		t.Errorf("promoting to a channel of the default order only: error = %v, want ErrUnknown", err)
	}
}

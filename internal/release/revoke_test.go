package release

import (
	"reflect"
	"slices"
	"testing"

	"github.com/bakery-dev/bakery/internal/catalog"
)

// revokeBase: 1.0.0, then 1.1.0, then 1.2.0 went through every channel;
// 1.3.0 is in devel only.
func revokeBase() *builder {
	return build("1.3.0", "1.2.0", "1.1.0", "1.0.0").
		pass("1.3.0", "1.2.0", "1.1.0", "1.0.0").
		through("1.0.0", day(0)).
		through("1.1.0", day(10)).
		through("1.2.0", day(20)).
		head("devel", "1.3.0", day(30))
}

func TestRevoke(t *testing.T) {
	now := day(40)
	tests := []struct {
		name  string
		state func() *builder // nil: revokeBase
		v     string
		req   Request
		err   string
		moves string // see moves()
	}{
		{name: "falls back on every channel", v: "1.2.0", req: Request{Actor: "alice", At: now, Reason: "breaks dns"},
			moves: "rolling:1.2.0>1.1.0 stable:1.2.0>1.1.0 stable-1.2:1.2.0>"},
		{name: "head of devel only", v: "1.3.0", req: Request{Actor: "alice", At: now, Reason: "bad"},
			moves: "devel:1.3.0>1.2.0"},
		{name: "on no channel", state: func() *builder { return revokeBase().images("1.4.0").pass("1.4.0") }, v: "1.4.0",
			req: Request{Actor: "alice", At: now, Reason: "bad"}, moves: ""},
		{name: "no longer a head", v: "1.1.0", req: Request{Actor: "alice", At: now, Reason: "bad"},
			moves: "stable-1.1:1.1.0>"},
		{name: "skips revoked versions", state: func() *builder { return revokeBase().revoke("1.1.0", "older problem") },
			v: "1.2.0", req: Request{Actor: "alice", At: now, Reason: "bad"},
			moves: "rolling:1.2.0>1.0.0 stable:1.2.0>1.0.0 stable-1.2:1.2.0>"},
		{name: "skips the revoked version's earlier stints", state: func() *builder {
			// stable: 1.0.0, 1.2.0, back to 1.1.0 (forced), 1.2.0 again.
			return build("1.2.0", "1.1.0", "1.0.0").pass("1.2.0", "1.1.0", "1.0.0").revoke("1.1.0", "x").
				head("stable", "1.0.0", day(0)).head("stable", "1.2.0", day(1)).
				head("stable", "1.1.0", day(2)).head("stable", "1.2.0", day(3))
		}, v: "1.2.0", req: Request{Actor: "alice", At: now, Reason: "bad"},
			moves: "stable:1.2.0>1.0.0"},
		{name: "most recent good head, not highest version", state: func() *builder {
			return build("1.2.0", "1.1.0", "1.0.5").pass("1.2.0", "1.1.0", "1.0.5").
				head("stable", "1.1.0", day(0)).head("stable", "1.0.5", day(1)).head("stable", "1.2.0", day(2))
		}, v: "1.2.0", req: Request{Actor: "alice", At: now, Reason: "bad"},
			moves: "stable:1.2.0>1.0.5"},
		{name: "skips emptied heads and deleted images", state: func() *builder {
			b := build("1.2.0", "1.0.0").pass("1.2.0", "1.0.0").
				head("stable", "1.0.0", day(0)).head("stable", "1.1.0", day(1)).
				head("stable", "", day(2)).head("stable", "1.2.0", day(3))
			return b // 1.1.0 was deleted from the catalog
		}, v: "1.2.0", req: Request{Actor: "alice", At: now, Reason: "bad"},
			moves: "stable:1.2.0>1.0.0"},
		{name: "only version of a channel empties it", state: func() *builder {
			return build("1.0.0").pass("1.0.0").head("devel", "1.0.0", day(0))
		}, v: "1.0.0", req: Request{Actor: "alice", At: now, Reason: "bad"},
			moves: "devel:1.0.0>"},
		{name: "reason required", v: "1.2.0", req: req(now),
			err: "revoking demo-1.2.0 needs a reason (--reason)"},
		{name: "already revoked", state: func() *builder { return revokeBase().revoke("1.2.0", "first time") },
			v: "1.2.0", req: Request{Actor: "alice", At: now, Reason: "again"},
			err: "demo-1.2.0 is already revoked (first time)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := revokeBase()
			if tt.state != nil {
				b = tt.state()
			}
			b.security(tt.v) // revoking keeps the other marks
			img := b.img(tt.v)
			ch, err := b.s.Revoke(img, tt.req)
			if !checkErr(t, err, tt.err) {
				return
			}
			if err := ch.Validate(); err != nil {
				t.Errorf("the change is invalid: %v", err)
			}
			if got := moves(ch.Moves); got != tt.moves {
				t.Errorf("moves = %s, want %s", got, tt.moves)
			}
			want := catalog.Event{Product: "demo", Action: catalog.ActionRevoke, Image: img.Name, Version: img.Version,
				Actor: "alice", At: now, Reason: tt.req.Reason}
			if !eventEqual(ch.Event, want) {
				t.Errorf("event = %+v, want %+v", ch.Event, want)
			}
			wantMark := b.s.Marks[img.Name]
			wantMark.Revoked, wantMark.RevokedReason, wantMark.RevokedAt = true, tt.req.Reason, now
			if !reflect.DeepEqual(ch.Marks, []catalog.Mark{{Image: img.Name, Marks: wantMark}}) {
				t.Errorf("marks = %+v, want revoked and the security marks kept", ch.Marks)
			}
		})
	}
}

func TestUnrevoke(t *testing.T) {
	b := revokeBase().security("1.1.0").revoke("1.1.0", "false alarm?")
	b.s.Marks[name("1.1.0")] = func(m catalog.Marks) catalog.Marks { m.HotfixFor = "BUG-7"; return m }(b.s.Marks[name("1.1.0")])
	img := b.img("1.1.0")

	if _, err := b.s.Unrevoke(img, req(day(41))); err == nil {
		t.Error("Unrevoke without a reason succeeded")
	}
	if _, err := b.s.Unrevoke(b.img("1.2.0"), Request{Actor: "alice", At: day(41), Reason: "x"}); err == nil {
		t.Error("Unrevoke of a version that is not revoked succeeded")
	}
	r := Request{Actor: "bob", At: day(41), Reason: "it was the mirror"}
	ch, err := b.s.Unrevoke(img, r)
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Validate(); err != nil {
		t.Errorf("the change is invalid: %v", err)
	}
	if len(ch.Moves) != 0 {
		t.Errorf("Unrevoke moves %s, want no move", moves(ch.Moves))
	}
	want := catalog.Marks{Security: true, Advisories: []string{"DSA-1.1.0"}, Severity: "high", HotfixFor: "BUG-7"}
	if !reflect.DeepEqual(ch.Marks, []catalog.Mark{{Image: img.Name, Marks: want}}) {
		t.Errorf("marks = %+v, want %+v", ch.Marks, want)
	}
	wantEvent := catalog.Event{Product: "demo", Action: catalog.ActionUnrevoke, Image: img.Name, Version: "1.1.0",
		Actor: "bob", At: day(41), Reason: r.Reason}
	if !eventEqual(ch.Event, wantEvent) {
		t.Errorf("event = %+v, want %+v", ch.Event, wantEvent)
	}
}

func TestSecurityRelease(t *testing.T) {
	good := Advisory{IDs: []string{"DSA-5801-1", "CVE-2026-1234"}, Severity: "critical", Fixed: []string{"openssl"}}
	r := Request{Actor: "alice", At: day(3), Reason: "openssl"}
	tests := []struct {
		name string
		v    string
		a    Advisory
		err  string
	}{
		{"ok", "1.1.0", good, ""},
		{"no advisory", "1.1.0", Advisory{Severity: "high"}, "at least one advisory ID (--advisory)"},
		{"bad severity", "1.1.0", Advisory{IDs: []string{"DSA-1"}, Severity: "urgent"}, `severity "urgent": want one of [low medium high critical]`},
		{"no severity", "1.1.0", Advisory{IDs: []string{"DSA-1"}}, `severity "": want one of`},
		{"revoked", "1.0.0", good, "demo-1.0.0 is revoked: a revoked version cannot be a security release"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := build("1.1.0", "1.0.0").revoke("1.0.0", "x")
			b.s.Marks[name("1.1.0")] = catalog.Marks{HotfixFor: "DSA-5801-1"}
			ch, err := b.s.SecurityRelease(b.img(tt.v), tt.a, r)
			if !checkErr(t, err, tt.err) {
				return
			}
			if err := ch.Validate(); err != nil || len(ch.Moves) != 0 {
				t.Errorf("change: %v, moves %s; want valid, no moves", err, moves(ch.Moves))
			}
			want := catalog.Marks{Security: true, Advisories: good.IDs, Severity: "critical", Fixed: good.Fixed, HotfixFor: "DSA-5801-1"}
			if !reflect.DeepEqual(ch.Marks, []catalog.Mark{{Image: name(tt.v), Marks: want}}) {
				t.Errorf("marks = %+v, want %+v", ch.Marks, want)
			}
			if ch.Event.Action != catalog.ActionSecurityRelease || ch.Event.Image != name(tt.v) || ch.Event.Reason != r.Reason {
				t.Errorf("event = %+v", ch.Event)
			}
		})
	}
}

func TestSupersededBy(t *testing.T) {
	// Listed in no useful order: the newest must be chosen, not the first.
	b := build("1.2.1", "1.2.4", "1.2.5", "1.2.3", "1.2.0", "1.3.0", "1.3.1", "1.1.9", "2.2.1").
		security("1.2.1").security("1.2.3").security("1.2.4").security("1.2.5").revoke("1.2.5", "bad").
		security("1.3.1").security("1.1.9").security("2.2.1")
	tests := []struct {
		v, want string // want "": not superseded
	}{
		{"1.2.0", "1.2.4"}, // 1.2.5 is revoked
		{"1.2.1", "1.2.4"},
		{"1.2.3", "1.2.4"},
		{"1.2.4", ""}, // only newer ones count
		{"1.2.5", ""},
		{"1.3.0", "1.3.1"},
		{"1.3.1", ""},
		{"1.1.9", ""}, // 1.2.x and 2.2.1 are other lines
	}
	for _, tt := range tests {
		got, ok := b.s.SupersededBy(b.img(tt.v))
		if (tt.want == "") == ok || (ok && got.Name != name(tt.want)) {
			t.Errorf("SupersededBy(%s) = %q, %v; want %q", tt.v, got.Version, ok, tt.want)
		}
	}
	if _, ok := b.s.SupersededBy(catalog.Image{Name: "junk", Version: "not-a-version"}); ok {
		t.Error("SupersededBy of an unparsable version found one")
	}
}

func TestChannelsAtSorted(t *testing.T) {
	b := revokeBase()
	got := b.s.channelsAt(name("1.2.0"))
	if want := []string{"rolling", "stable", "stable-1.2"}; !slices.Equal(got, want) {
		t.Errorf("channelsAt = %v, want %v", got, want)
	}
}

package release

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/recipe"
	"github.com/bakery-dev/bakery/internal/version"
)

// t0 is the start of every test timeline; day(n) is n days later.
var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func day(n int) time.Time { return t0.AddDate(0, 0, n) }

// name is the image name the builder gives a version.
func name(v string) string { return "demo-" + v }

// builder makes a State of product "demo" readably:
//
//	build("1.0.0", "1.1.0").pass("1.0.0").head("devel", "1.0.0", day(0)).s
//
// Versions name images (see name); images are kept in the order given.
type builder struct{ s State }

// build returns a builder of a semver-security product with the default
// policy (devel → rolling → stable, 7 days of soak before stable).
func build(versions ...string) *builder {
	b := &builder{s: State{
		Product: "demo",
		Policy:  PolicyOf(&recipe.Recipe{}),
		QA:      map[string]catalog.QAResult{},
		Marks:   map[string]catalog.Marks{},
		Heads:   map[string]catalog.ChannelHead{},
	}}
	return b.images(versions...)
}

// scheme switches the product's version scheme.
func (b *builder) scheme(s string) *builder { b.s.Policy.Scheme = s; return b }

func (b *builder) support(p recipe.Support) *builder { b.s.Policy.Support = p; return b }

func (b *builder) images(versions ...string) *builder {
	for _, v := range versions {
		b.s.Images = append(b.s.Images, catalog.Image{
			Name: name(v), Product: "demo", Version: v, BuildID: "build-" + v,
			Artifacts: []catalog.Artifact{
				{Kind: catalog.KindManifest, Filename: "manifest.json", Digest: "sha256:manifest"},
				{Kind: catalog.KindQcow2, Filename: "disk.qcow2", Digest: "sha256:qcow2-" + v},
			},
		})
	}
	return b
}

// pass records a passing boot test of each version, on day 0.
func (b *builder) pass(versions ...string) *builder {
	for _, v := range versions {
		b.s.QA[name(v)] = catalog.QAResult{Image: name(v), Passed: true, TestedAt: t0}
	}
	return b
}

func (b *builder) fail(v string) *builder {
	b.s.QA[name(v)] = catalog.QAResult{Image: name(v), Passed: false, TestedAt: t0}
	return b
}

func (b *builder) revoke(v, reason string) *builder {
	m := b.s.Marks[name(v)]
	m.Revoked, m.RevokedReason, m.RevokedAt = true, reason, t0
	b.s.Marks[name(v)] = m
	return b
}

func (b *builder) security(v string) *builder {
	m := b.s.Marks[name(v)]
	m.Security, m.Advisories, m.Severity = true, []string{"DSA-" + v}, "high"
	b.s.Marks[name(v)] = m
	return b
}

// head moves channel to version v ("" empties it) at at, as the catalog
// would: the head and a history entry.
func (b *builder) head(channel, v string, at time.Time) *builder {
	img := ""
	if v != "" {
		img = name(v)
	}
	b.s.Heads[channel] = catalog.ChannelHead{Product: "demo", Channel: channel, Image: img, Since: at}
	b.s.History = append(b.s.History, catalog.HistoryEntry{Channel: channel, Image: img, At: at, EventID: int64(len(b.s.History) + 1)})
	return b
}

// through moves v through devel, rolling and stable (and its stable-X.Y
// line) starting at at, a day in devel and 7 in rolling.
func (b *builder) through(v string, at time.Time) *builder {
	b.head("devel", v, at).head("rolling", v, at.AddDate(0, 0, 1))
	stable := at.AddDate(0, 0, 8)
	b.head("stable", v, stable)
	pv := version.MustParse(b.s.Policy.Scheme, v)
	return b.head(LineChannel(pv.Line()), v, stable)
}

func (b *builder) img(v string) catalog.Image {
	for _, img := range b.s.Images {
		if img.Version == v {
			return img
		}
	}
	panic("no image of version " + v)
}

// req is a request by "alice" at at.
func req(at time.Time) Request { return Request{Actor: "alice", At: at} }

func forced(at time.Time, reason string) Request {
	return Request{Actor: "alice", At: at, Force: true, Reason: reason}
}

// moves spells moves "channel:from>to" with versions for image names.
func moves(ms []catalog.Move) string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Channel+":"+unname(m.From)+">"+unname(m.To))
	}
	return strings.Join(out, " ")
}

func unname(image string) string { return strings.TrimPrefix(image, "demo-") }

// checkErr fails unless err contains want ("" wants no error).
func checkErr(t *testing.T, err error, want string) bool {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("error = %v, want none", err)
	case want != "" && err == nil:
		t.Fatalf("no error, want one containing %q", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Fatalf("error = %v, want one containing %q", err, want)
	}
	return err == nil
}

func gateOf(err error) *GateError {
	var g *GateError
	if errors.As(err, &g) {
		return g
	}
	return nil
}

func TestFind(t *testing.T) {
	b := build("1.1.0", "1.0.0")
	rebuild := b.img("1.0.0")
	rebuild.Name = "demo-1.0.0-older-rebuild"
	b.s.Images = append(b.s.Images, rebuild) // older: after the first 1.0.0
	tests := []struct {
		ref, want, err string
	}{
		{"1.0.0", name("1.0.0"), ""},
		{"demo-1.0.0-older-rebuild", "demo-1.0.0-older-rebuild", ""},
		{name("1.1.0"), name("1.1.0"), ""},
		{"2.0.0", "", "unknown version or image \"2.0.0\" of demo"},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			img, err := b.s.Find(tt.ref)
			if !checkErr(t, err, tt.err) {
				if !errors.Is(err, ErrUnknown) {
					t.Errorf("error %v does not wrap ErrUnknown", err)
				}
				return
			}
			if img.Name != tt.want {
				t.Errorf("Find(%s) = %s, want %s", tt.ref, img.Name, tt.want)
			}
		})
	}
}

func TestVersionWrongScheme(t *testing.T) {
	b := build("1.0.0").scheme(version.Calver)
	if _, err := b.s.Version(b.img("1.0.0")); !errors.Is(err, version.ErrInvalid) || !strings.Contains(err.Error(), name("1.0.0")) {
		t.Errorf("Version of a semver version under calver: error = %v, want ErrInvalid naming the image", err)
	}
}

func channel(name string, soak time.Duration) recipe.Channel {
	return recipe.Channel{Name: name, Soak: recipe.Duration(soak)}
}

// TestStatusesMatchStatus: the batch form gives what Status gives for
// each image.
func TestStatusesMatchStatus(t *testing.T) {
	b := build("1.0.0", "1.0.1", "1.0.2", "1.1.0", "1.2.0", "1.3.0", "1.4.0", "2.0.0", "1.4.1").
		pass("1.0.0", "1.0.1", "1.0.2", "1.1.0", "1.2.0", "1.3.0", "1.4.0", "2.0.0", "1.4.1").
		through("1.0.0", day(0)).through("1.1.0", day(10)).through("1.2.0", day(20)).through("1.3.0", day(30)).
		through("1.4.0", day(40)).through("2.0.0", day(50)).
		security("1.0.1").security("1.0.2").security("1.4.1").revoke("1.0.2", "broken")
	if st := b.s.Statuses(day(800)); st[name("1.0.0")].SupersededBy != name("1.0.1") || st[name("1.0.0")].LineStatus != StatusEndOfLife {
		t.Fatalf("1.0.0: %+v, want superseded by 1.0.1 and end of life", st[name("1.0.0")])
	}
	for _, now := range []time.Time{day(1), day(45), day(800)} {
		got := b.s.Statuses(now)
		for _, img := range b.s.Images {
			want := b.s.Status(img, now)
			if g := got[img.Name]; !statusEqual(g, want) {
				t.Errorf("%s at %s: Statuses %+v, Status %+v", img.Name, now.Format(time.DateOnly), g, want)
			}
		}
	}
}

func statusEqual(a, b ImageStatus) bool {
	return strings.Join(a.Channels, ",") == strings.Join(b.Channels, ",") && a.SupersededBy == b.SupersededBy &&
		a.Line == b.Line && a.LineStatus == b.LineStatus && a.EndOfLife.Equal(b.EndOfLife) &&
		a.Marks.Revoked == b.Marks.Revoked && a.Marks.Security == b.Marks.Security && a.SchemeInvalid == b.SchemeInvalid
}

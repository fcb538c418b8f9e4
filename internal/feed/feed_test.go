package feed

import (
	"encoding/xml"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/catalog/catalogtest"
	"github.com/bakery-dev/bakery/internal/recipe"
	"github.com/bakery-dev/bakery/internal/release"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var t0 = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

func image(n int, product, version string) catalog.Image {
	img := catalogtest.Sample(n)
	img.Product, img.Version = product, version
	img.Name = fmt.Sprintf("%s.amd64-%s-%s", product, version, img.Serial)
	img.Artifacts = img.Artifacts[:1]
	img.Packages, img.Hygiene = nil, nil
	return img
}

// fixture is two products: debian-cloud with promotions, a security
// release (1.1.1, superseding 1.1.0) and a revocation (1.2.0), and
// debian-minimal with one promotion.
func fixture() []Product {
	c := []catalog.Image{image(4, "debian-cloud", "1.2.0"), image(3, "debian-cloud", "1.1.1"), image(2, "debian-cloud", "1.1.0"), image(1, "debian-cloud", "1.0.0")}
	sec := catalog.Marks{Security: true, Advisories: []string{"DSA-5801-1", "CVE-2026-1234"}, Severity: "critical", Fixed: []string{"openssl", "libssl3"}}
	revoked := catalog.Marks{Revoked: true, RevokedReason: "network does not come up", RevokedAt: t0.Add(5 * time.Hour)}
	ev := func(id int64, action string, img catalog.Image, channel string, hours int) catalog.Event {
		return catalog.Event{ID: id, Product: img.Product, Action: action, Image: img.Name, Version: img.Version,
			Channel: channel, Actor: "alice", At: t0.Add(time.Duration(hours) * time.Hour)}
	}
	e1 := ev(1, catalog.ActionPromote, c[3], "stable", 1)
	e1.Moves = []catalog.Move{{Channel: "stable", To: c[3].Name}, {Channel: "stable-1.0", To: c[3].Name}}
	e1.Forced, e1.Reason = []string{"soak"}, "first release"
	e2 := ev(2, catalog.ActionPromote, c[1], "devel", 2)
	e2.Moves = []catalog.Move{{Channel: "devel", To: c[1].Name}}
	e3 := ev(3, catalog.ActionSecurityRelease, c[1], "", 3)
	e3.Marks, e3.Reason = []catalog.Mark{{Image: c[1].Name, Marks: sec}}, "OpenSSL advisory"
	e4 := ev(4, catalog.ActionPromote, c[0], "devel", 4)
	e4.Moves = []catalog.Move{{Channel: "devel", From: c[1].Name, To: c[0].Name}}
	e5 := ev(5, catalog.ActionRevoke, c[0], "", 5)
	e5.Moves = []catalog.Move{{Channel: "devel", From: c[0].Name, To: c[1].Name}}
	e5.Marks, e5.Reason = []catalog.Mark{{Image: c[0].Name, Marks: revoked}}, revoked.RevokedReason
	policy := release.PolicyOf(&recipe.Recipe{})
	cloud := Product{
		State: release.State{Product: "debian-cloud", Policy: policy, Images: c,
			Marks: map[string]catalog.Marks{c[1].Name: sec, c[0].Name: revoked}},
		Events: []catalog.Event{e1, e2, e3, e4, e5},
	}
	m := image(5, "debian-minimal", "2.0.0")
	e6 := ev(6, catalog.ActionPromote, m, "devel", 6)
	e6.Moves = []catalog.Move{{Channel: "devel", To: m.Name}}
	minimal := Product{State: release.State{Product: "debian-minimal", Policy: policy, Images: []catalog.Image{m}}, Events: []catalog.Event{e6}}
	return []Product{cloud, minimal}
}

func testOptions() Options {
	o := DefaultOptions("https://images.example.org/")
	o.Version = "test"
	return o
}

func TestGolden(t *testing.T) {
	all := fixture()
	tests := []struct {
		file     string
		kind     Kind
		product  string
		products []Product
	}{
		{"releases.atom", Releases, "", all},
		{"security.atom", Security, "", all},
		{"debian-cloud-releases.atom", Releases, "debian-cloud", all[:1]},
		{"debian-cloud-security.atom", Security, "debian-cloud", all[:1]},
		{"debian-minimal-security.atom", Security, "debian-minimal", all[1:]},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := Marshal(Generate(tt.kind, tt.product, tt.products, testOptions()))
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tt.file)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if string(got) != string(want) {
				t.Errorf("%s differs from the golden file (run go test -update and review the diff):\n%s", tt.file, got)
			}
			checkAtom(t, got)
		})
	}
}

// atomDoc is an independent reading of an Atom document, to check what
// RFC 4287 requires.
type atomDoc struct {
	XMLName xml.Name    `xml:"feed"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Authors []atomAuth  `xml:"author"`
	Links   []atomLink  `xml:"link"`
	Entries []atomEntry `xml:"entry"`
}

type atomAuth struct {
	Name string `xml:"name"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr"`
	Href string `xml:"href,attr"`
}

type atomEntry struct {
	ID      string     `xml:"id"`
	Title   string     `xml:"title"`
	Updated string     `xml:"updated"`
	Authors []atomAuth `xml:"author"`
	Links   []atomLink `xml:"link"`
	Content struct {
		Type string `xml:"type,attr"`
		Body string `xml:",chardata"`
	} `xml:"content"`
	Categories []struct {
		Term string `xml:"term,attr"`
	} `xml:"category"`
}

// checkAtom parses doc back and checks the elements RFC 4287 requires: the
// Atom namespace; feed id (an absolute IRI), title, updated (RFC 3339) and
// author; a self link; entries with unique ids, titles, RFC 3339 updated
// times (newest first) and content.
func checkAtom(t *testing.T, doc []byte) atomDoc {
	t.Helper()
	var f atomDoc
	if err := xml.Unmarshal(doc, &f); err != nil {
		t.Fatalf("parsing the feed back: %v", err)
	}
	if f.XMLName.Space != Namespace {
		t.Errorf("root element namespace %q, want %q", f.XMLName.Space, Namespace)
	}
	u, err := url.Parse(f.ID)
	if err != nil || !u.IsAbs() || f.Title == "" || len(f.Authors) == 0 || f.Authors[0].Name == "" {
		t.Errorf("feed id %q, title %q, authors %+v: all required", f.ID, f.Title, f.Authors)
	}
	rfc3339(t, "feed updated", f.Updated)
	if !hasLink(f.Links, "self", f.ID) {
		t.Errorf("no self link to %s: %+v", f.ID, f.Links)
	}
	ids := map[string]bool{}
	var last time.Time
	for i, e := range f.Entries {
		if !strings.HasPrefix(e.ID, "tag:"+u.Hostname()+",20") || ids[e.ID] {
			t.Errorf("entry %d id %q: want a tag: URI, unique", i, e.ID)
		}
		ids[e.ID] = true
		if e.Title == "" || e.Content.Type != "text" || e.Content.Body == "" || len(e.Authors) == 0 || len(e.Links) == 0 {
			t.Errorf("entry %s lacks title, text content, author or link: %+v", e.ID, e)
		}
		u := rfc3339(t, "entry updated", e.Updated)
		if i > 0 && u.After(last) {
			t.Errorf("entry %s (%s) is newer than the one before it", e.ID, e.Updated)
		}
		last = u
	}
	if len(f.Entries) > 0 && f.Updated != f.Entries[0].Updated {
		t.Errorf("feed updated %s, want the newest entry's %s", f.Updated, f.Entries[0].Updated)
	}
	return f
}

func rfc3339(t *testing.T, what, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Errorf("%s %q is not RFC 3339: %v", what, s, err)
	}
	return v
}

func hasLink(links []atomLink, rel, href string) bool {
	for _, l := range links {
		if l.Rel == rel && l.Href == href {
			return true
		}
	}
	return false
}

func TestSecurityEntries(t *testing.T) {
	doc, err := Marshal(Generate(Security, "", fixture(), testOptions()))
	if err != nil {
		t.Fatal(err)
	}
	f := checkAtom(t, doc)
	if len(f.Entries) != 1 {
		t.Fatalf("%d security entries, want 1 (the revocation was not of a security release)", len(f.Entries))
	}
	e := f.Entries[0]
	for _, want := range []string{"Advisories: DSA-5801-1, CVE-2026-1234", "Severity: critical", "Fixed packages: openssl, libssl3",
		"Affected line: 1.1 (channel stable-1.1)", "Superseded versions: 1.1.0"} {
		if !strings.Contains(e.Content.Body, want) {
			t.Errorf("security entry content lacks %q:\n%s", want, e.Content.Body)
		}
	}
	var terms []string
	for _, c := range e.Categories {
		terms = append(terms, c.Term)
	}
	if got := strings.Join(terms, " "); got != "security-release security severity-critical DSA-5801-1 CVE-2026-1234" {
		t.Errorf("categories %s", got)
	}
}

func TestRevokedSecurityReleaseInSecurityFeed(t *testing.T) {
	ps := fixture()[:1]
	cloud := &ps[0]
	sec := cloud.State.Marks[cloud.Events[2].Image]
	revoked := sec
	revoked.Revoked, revoked.RevokedReason = true, "regression"
	cloud.Events = append(cloud.Events, catalog.Event{ID: 7, Product: "debian-cloud", Action: catalog.ActionRevoke,
		Image: cloud.Events[2].Image, Version: "1.1.1", Actor: "bob", At: t0.Add(9 * time.Hour), Reason: "regression",
		Marks: []catalog.Mark{{Image: cloud.Events[2].Image, Marks: revoked}}})
	cloud.State.Marks[cloud.Events[2].Image] = revoked
	f := checkAtom(t, must(Marshal(Generate(Security, "debian-cloud", ps, testOptions()))))
	if len(f.Entries) != 2 || !strings.Contains(f.Entries[0].Title, "revoked (it was a security release)") ||
		!strings.Contains(f.Entries[1].Content.Body, "Now: REVOKED: regression") {
		t.Errorf("security feed after revoking the security release: %+v", f.Entries)
	}
}

func TestEmptyFeed(t *testing.T) {
	f := checkAtom(t, must(Marshal(Generate(Security, "debian-minimal", fixture()[1:], testOptions()))))
	if len(f.Entries) != 0 || f.Updated != "1970-01-01T00:00:00Z" {
		t.Errorf("empty feed: %+v", f)
	}
}

func TestMaxEntries(t *testing.T) {
	o := testOptions()
	o.MaxEntries = 3
	f := checkAtom(t, must(Marshal(Generate(Releases, "", fixture(), o))))
	if len(f.Entries) != 3 || !strings.Contains(f.Entries[0].Title, "debian-minimal 2.0.0 promoted") {
		t.Errorf("MaxEntries 3: %d entries, first %q", len(f.Entries), f.Entries[0].Title)
	}
}

func TestOptionsValidate(t *testing.T) {
	if err := DefaultOptions("http://127.0.0.1:8080").Validate(); err != nil {
		t.Errorf("valid: %v", err)
	}
	for _, base := range []string{"", "/feeds", "ftp://x", "127.0.0.1:8080"} {
		if err := DefaultOptions(base).Validate(); err == nil {
			t.Errorf("base URL %q accepted", base)
		}
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bakery-dev/bakery/internal/catalog/catalogtest"
	"github.com/bakery-dev/bakery/internal/catalog/sqlite"
	"github.com/bakery-dev/bakery/internal/server/auth"
	"github.com/bakery-dev/bakery/internal/server/metrics"
)

// fixture is a served catalog of debian-cloud 1.0.0 (on devel), 1.1.0
// (passed QA) and 1.2.0 (failed QA), with a token of every role.
type fixture struct {
	db     *sqlite.DB
	srv    *httptest.Server
	tokens map[string]string // role → token
	names  []string
}

func newFixture(t *testing.T, publicReads bool) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &fixture{db: db, tokens: map[string]string{}}
	for i, v := range []string{"1.0.0", "1.1.0", "1.2.0"} {
		img := catalogtest.Sample(i)
		img.Version, img.Name = v, "debian-cloud-"+v
		img.Recipe = []byte("name: debian-cloud\nversion: " + v + "\nversion_scheme: semver-security\nchannels: [devel, {name: stable, soak: 7d}]\n")
		img.Packages[1].Version = fmt.Sprintf("5.2.%d", i)
		if err := db.AddImage(ctx, img); err != nil {
			t.Fatal(err)
		}
		qa := catalogtest.SampleQA(0)
		qa.Passed, qa.TestedAt = i < 2, time.Now().Add(-time.Hour)
		if err := db.RecordQA(ctx, img.Name, qa); err != nil {
			t.Fatal(err)
		}
		f.names = append(f.names, img.Name)
	}
	local := &Local{Catalog: db}
	if _, err := local.Promote(ctx, "debian-cloud", PromoteRequest{Version: "1.0.0", To: "devel", Actor: "setup"}); err != nil {
		t.Fatal(err)
	}
	for _, role := range auth.RoleNames() {
		tok, _, err := auth.Create(ctx, db, role+"-token", role, time.Hour, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		f.tokens[role] = tok
	}
	h, err := New(Options{Service: local, Auth: &auth.Authenticator{Tokens: db, PublicReads: publicReads}, Tokens: db, Generation: db.Generation})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(h)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) call(t *testing.T, method, path, role, body string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, f.srv.URL+path, rd)
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+f.tokens[role])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, data
}

func (f *fixture) events(t *testing.T) int {
	t.Helper()
	evs, err := f.db.Events(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	return len(evs)
}

type routeCase struct {
	method, path, role, body string
	want                     int
	check                    func(t *testing.T, body []byte)
	prep                     *routeCase // a call made first
}

// routeCases exercise every route: success and each error it can give.
var routeCases = []routeCase{
	{"GET", "/api/v1/openapi.json", "", "", 200, nil, nil},
	{"GET", "/api/v1/images", "", "", 200, wantLen(3), nil},
	{"GET", "/api/v1/images?product=debian-cloud&channel=devel", "", "", 200, wantLen(1), nil},
	{"GET", "/api/v1/images?limit=2", "viewer", "", 200, wantLen(2), nil},
	{"GET", "/api/v1/images?product=nothing", "", "", 200, wantLen(0), nil},
	{"GET", "/api/v1/images?limit=x", "", "", 400, nil, nil},
	{"GET", "/api/v1/images?limit=1", "", "", 200, wantBody(`"Packages":null`), nil},
	{"GET", "/api/v1/images?limit=1&packages=true", "", "", 200, wantBody(`"Packages":[{`), nil},
	{"GET", "/api/v1/images?packages=maybe", "", "", 400, nil, nil},
	{"GET", "/api/v1/images/debian-cloud-1.1.0", "", "", 200, wantBody(`"qa":{`, `"release":{`, `"Artifacts"`), nil},
	{"GET", "/api/v1/images/nothing", "", "", 404, nil, nil},
	{"GET", "/api/v1/products", "", "", 200, wantBody(`"name":"debian-cloud"`, `"channel":"devel"`), nil},
	{"GET", "/api/v1/products/debian-cloud/changelog?from=1.0.0&to=1.1.0", "", "", 200, wantBody(`"source":"packages"`, `"upgraded":[{"name":"bash"`), nil},
	{"GET", "/api/v1/products/debian-cloud/changelog?from=1.0.0", "", "", 400, nil, nil},
	{"GET", "/api/v1/products/nothing/changelog?from=1&to=2", "", "", 404, nil, nil},
	{"GET", "/api/v1/products/debian-cloud/changelog?from=1.0.0&to=9.9.9", "", "", 404, nil, nil},
	{"GET", "/api/v1/products/debian-cloud/pins?channel=devel", "", "", 200, wantBody(`"version":"1.0.0"`, `"qcow2_sha256":"`), nil},
	{"GET", "/api/v1/products/debian-cloud/pins", "", "", 409, wantBody("no version on channel stable"), nil},
	{"GET", "/api/v1/products/nothing/pins", "", "", 404, nil, nil},
	{"GET", "/api/v1/products/debian-cloud/support", "", "", 200, wantBody(`"lines":[`), nil},
	{"GET", "/api/v1/products/nothing/support", "", "", 404, nil, nil},
	{"GET", "/api/v1/products/debian-cloud/upgrade-path?from=1.0.0&to=1.1.0", "", "", 200, wantBody(`"from":"1.0.0","to":"1.1.0"`), nil},
	{"GET", "/api/v1/products/debian-cloud/upgrade-path?from=1.0.0", "", "", 400, nil, nil},
	{"GET", "/api/v1/products/debian-cloud/upgrade-path?from=1.0.0&to=1.1.0&allow_major=maybe", "", "", 400, nil, nil},
	{"GET", "/api/v1/events", "", "", 200, wantBody(`"actor":"setup"`), nil},
	{"GET", "/api/v1/events?product=debian-cloud", "", "", 200, wantLen(1), nil},
	{"POST", "/api/v1/products/debian-cloud/promote", "releaser", `{"version":"1.1.0","to":"devel","reason":"ok"}`, 201, wantBody(`"actor":"token:releaser-token"`, `"to":"debian-cloud-1.1.0"`), nil},
	{"POST", "/api/v1/products/debian-cloud/promote", "admin", `{"version":"1.1.0","to":"devel"}`, 201, nil, nil},
	{"POST", "/api/v1/products/debian-cloud/promote", "", `{"version":"1.1.0","to":"devel"}`, 401, nil, nil},
	{"POST", "/api/v1/products/debian-cloud/promote", "viewer", `{"version":"1.1.0","to":"devel"}`, 403, nil, nil},
	{"POST", "/api/v1/products/debian-cloud/promote", "builder", `{"version":"1.1.0","to":"devel"}`, 403, nil, nil},
	{"POST", "/api/v1/products/debian-cloud/promote", "releaser", `{"version":"1.1.0","to":"devel","bogus":1}`, 400, nil, nil},
	{"POST", "/api/v1/products/debian-cloud/promote", "releaser", `{"version":"1.1.0","to":"stable","force":true}`, 400, nil, nil},
	{"POST", "/api/v1/products/debian-cloud/promote", "releaser", `{"version":"7.0.0","to":"devel"}`, 404, nil, nil},
	{"POST", "/api/v1/products/nothing/promote", "releaser", `{"version":"1.0.0","to":"devel"}`, 404, nil, nil},
	{"POST", "/api/v1/products/debian-cloud/promote", "releaser", `{"version":"1.2.0","to":"devel"}`, 409, wantBody(`"gate":"qa"`), nil},
	{"POST", "/api/v1/products/debian-cloud/promote", "releaser", `{"version":"1.0.0","to":"stable"}`, 409, wantBody(`"gate":"soak"`, `"satisfy":"wait until`), nil},
	{"POST", "/api/v1/products/debian-cloud/promote", "releaser", `{"version":"1.0.0","to":"devel"}`, 409, wantBody("already the head"), nil},
	{"POST", "/api/v1/products/debian-cloud/revoke", "releaser", `{"version":"1.0.0","reason":"broken"}`, 201, wantBody(`"action":"revoke"`), nil},
	{"POST", "/api/v1/products/debian-cloud/revoke", "releaser", `{"version":"1.0.0"}`, 400, nil, nil},
	{"POST", "/api/v1/products/debian-cloud/revoke", "", `{"version":"1.0.0","reason":"x"}`, 401, nil, nil},
	{"POST", "/api/v1/products/debian-cloud/revoke", "viewer", `{"version":"1.0.0","reason":"x"}`, 403, nil, nil},
	{"POST", "/api/v1/products/debian-cloud/revoke", "releaser", `{"version":"3.0.0","reason":"x"}`, 404, nil, nil},
	{"POST", "/api/v1/products/debian-cloud/unrevoke", "releaser", `{"version":"1.0.0","reason":"x"}`, 201, wantBody(`"action":"unrevoke"`),
		&routeCase{method: "POST", path: "/api/v1/products/debian-cloud/revoke", role: "releaser", body: `{"version":"1.0.0","reason":"x"}`, want: 201}},
	{"POST", "/api/v1/products/debian-cloud/unrevoke", "releaser", `{"version":"1.0.0","reason":"x"}`, 409, wantBody("not revoked"), nil},
	{"POST", "/api/v1/products/debian-cloud/unrevoke", "releaser", `{"version":"1.0.0"}`, 400, nil, nil},
	{"POST", "/api/v1/products/debian-cloud/unrevoke", "", `{"version":"1.0.0","reason":"x"}`, 401, nil, nil},
	{"POST", "/api/v1/products/debian-cloud/unrevoke", "builder", `{"version":"1.0.0","reason":"x"}`, 403, nil, nil},
	{"POST", "/api/v1/products/debian-cloud/unrevoke", "releaser", `{"version":"3.0.0","reason":"x"}`, 404, nil, nil},
	{"POST", "/api/v1/products/debian-cloud/security-release", "releaser", `{"version":"1.1.0","advisories":["DSA-1"],"severity":"high"}`, 201, wantBody(`"security":true`), nil},
	{"POST", "/api/v1/products/debian-cloud/security-release", "releaser", `{"version":"1.1.0","advisories":["DSA-1"],"severity":"meh"}`, 400, nil, nil},
	{"POST", "/api/v1/products/debian-cloud/security-release", "", `{"version":"1.1.0","advisories":["DSA-1"],"severity":"high"}`, 401, nil, nil},
	{"POST", "/api/v1/products/debian-cloud/security-release", "viewer", `{"version":"1.1.0","advisories":["DSA-1"],"severity":"high"}`, 403, nil, nil},
	{"POST", "/api/v1/products/debian-cloud/security-release", "releaser", `{"version":"4.0.0","advisories":["DSA-1"],"severity":"high"}`, 404, nil, nil},
	{"POST", "/api/v1/products/debian-cloud/hotfix", "releaser", `{}`, 501, nil, nil},
	{"POST", "/api/v1/products/debian-cloud/hotfix", "", `{}`, 401, nil, nil},
	{"POST", "/api/v1/products/debian-cloud/hotfix", "builder", `{}`, 403, nil, nil},
	{"GET", "/api/v1/tokens", "admin", "", 200, wantLen(4), nil},
	{"GET", "/api/v1/tokens", "", "", 401, nil, nil},
	{"GET", "/api/v1/tokens", "releaser", "", 403, nil, nil},
	{"POST", "/api/v1/tokens", "admin", `{"name":"ci","role":"releaser","expires":"30d"}`, 201, wantBody(`"token":"bkry_`, `"expires_at"`), nil},
	{"POST", "/api/v1/tokens", "admin", `{"name":"viewer-token","role":"viewer"}`, 409, nil, nil},
	{"POST", "/api/v1/tokens", "admin", `{"name":"x","role":"root"}`, 400, nil, nil},
	{"POST", "/api/v1/tokens", "releaser", `{"name":"x","role":"admin"}`, 403, nil, nil},
	{"DELETE", "/api/v1/tokens/viewer-token", "admin", "", 200, nil, nil},
	{"DELETE", "/api/v1/tokens/nobody", "admin", "", 404, nil, nil},
	{"DELETE", "/api/v1/tokens/viewer-token", "", "", 401, nil, nil},
	{"DELETE", "/api/v1/tokens/viewer-token", "builder", "", 403, nil, nil},
	{"GET", "/api/v1/nothing", "", "", 404, nil, nil},
}

func wantLen(n int) func(*testing.T, []byte) {
	return func(t *testing.T, body []byte) {
		var list []json.RawMessage
		if err := json.Unmarshal(body, &list); err != nil || len(list) != n {
			t.Errorf("want a list of %d: %v %s", n, err, body)
		}
	}
}

func wantBody(subs ...string) func(*testing.T, []byte) {
	return func(t *testing.T, body []byte) {
		for _, s := range subs {
			if !strings.Contains(string(body), s) {
				t.Errorf("body lacks %s: %s", s, body)
			}
		}
	}
}

func TestRoutes(t *testing.T) {
	for _, c := range routeCases {
		t.Run(fmt.Sprintf("%s %s %s %d", c.method, c.path, c.role, c.want), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, true)
			if p := c.prep; p != nil {
				if resp, body := f.call(t, p.method, p.path, p.role, p.body); resp.StatusCode != p.want {
					t.Fatalf("prep: %d %s", resp.StatusCode, body)
				}
			}
			before := f.events(t)
			resp, body := f.call(t, c.method, c.path, c.role, c.body)
			if resp.StatusCode != c.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.want, body)
			}
			checkHeaders(t, resp, body)
			if c.check != nil {
				c.check(t, body)
			}
			if c.method != "GET" && resp.StatusCode >= 400 && f.events(t) != before {
				t.Errorf("a refused %s changed the audit log", c.method)
			}
		})
	}
}

func checkHeaders(t *testing.T, resp *http.Response, body []byte) {
	t.Helper()
	for _, h := range []string{"X-Content-Type-Options", "Content-Security-Policy", "X-Frame-Options", "Referrer-Policy", "Cache-Control"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("no %s header", h)
		}
	}
	if resp.StatusCode < 400 {
		return
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("error content type %q", ct)
	}
	var p Problem
	if err := json.Unmarshal(body, &p); err != nil || p.Status != resp.StatusCode || p.Type == "" || p.Title == "" || p.Detail == "" {
		t.Errorf("not a problem object (%v): %s", err, body)
	}
	if resp.StatusCode == 401 && resp.Header.Get("WWW-Authenticate") == "" {
		t.Error("401 without WWW-Authenticate")
	}
}

// TestRolesTable documents which role each route needs.
func TestRolesTable(t *testing.T) {
	want := map[string]string{
		"GET openapi.json":                         "none",
		"GET images":                               "viewer",
		"GET images/{name}":                        "viewer",
		"GET products":                             "viewer",
		"GET products/{product}/changelog":         "viewer",
		"GET products/{product}/pins":              "viewer",
		"GET products/{product}/support":           "viewer",
		"GET products/{product}/upgrade-path":      "viewer",
		"GET events":                               "viewer",
		"POST products/{product}/promote":          "releaser",
		"POST products/{product}/revoke":           "releaser",
		"POST products/{product}/unrevoke":         "releaser",
		"POST products/{product}/security-release": "releaser",
		"POST products/{product}/hotfix":           "releaser",
		"GET tokens":                               "admin",
		"POST tokens":                              "admin",
		"DELETE tokens/{name}":                     "admin",
	}
	routes := Routes()
	if len(routes) != len(want) {
		t.Errorf("%d routes, the table has %d", len(routes), len(want))
	}
	for _, r := range routes {
		if got := r.Role.String(); want[r.Method+" "+r.Path] != got {
			t.Errorf("%s %s needs %s, the table says %q", r.Method, r.Path, got, want[r.Method+" "+r.Path])
		}
	}
}

// TestPrivateReads: with public reads off, reading needs a token.
func TestPrivateReads(t *testing.T) {
	f := newFixture(t, false)
	for role, want := range map[string]int{"": 401, "viewer": 200, "admin": 200} {
		resp, body := f.call(t, "GET", "/api/v1/images", role, "")
		if resp.StatusCode != want {
			t.Errorf("role %q: %d, want %d: %s", role, resp.StatusCode, want, body)
		}
	}
	if resp, _ := f.call(t, "GET", "/api/v1/openapi.json", "", ""); resp.StatusCode != 200 {
		t.Errorf("openapi.json: %d", resp.StatusCode)
	}
}

// TestRevokedTokenRefused: a token revoked through the API stops working
// at once.
func TestRevokedTokenRefused(t *testing.T) {
	f := newFixture(t, true)
	body := `{"version":"1.1.0","to":"devel"}`
	if resp, _ := f.call(t, "DELETE", "/api/v1/tokens/releaser-token", "admin", ""); resp.StatusCode != 200 {
		t.Fatal(resp.Status)
	}
	resp, data := f.call(t, "POST", "/api/v1/products/debian-cloud/promote", "releaser", body)
	if resp.StatusCode != 401 || !strings.Contains(string(data), "revoked") {
		t.Fatalf("%d %s", resp.StatusCode, data)
	}
}

// TestAnswersFollowCatalog: a kept answer is dropped when the catalog
// changes.
func TestAnswersFollowCatalog(t *testing.T) {
	f := newFixture(t, true)
	get := func() string {
		_, b := f.call(t, "GET", "/api/v1/images?channel=devel", "", "")
		return string(b)
	}
	if !strings.Contains(get(), "debian-cloud-1.0.0") {
		t.Fatal("1.0.0 not on devel")
	}
	if resp, b := f.call(t, "POST", "/api/v1/products/debian-cloud/promote", "releaser", `{"version":"1.1.0","to":"devel"}`); resp.StatusCode != 201 {
		t.Fatal(string(b))
	}
	if got := get(); !strings.Contains(got, "debian-cloud-1.1.0") || strings.Contains(got, "debian-cloud-1.0.0") {
		t.Fatalf("stale answer after promotion: %s", got)
	}
}

// TestOpenAPI: the document is valid JSON of OpenAPI 3 shape, every route
// is in it with its role, and everything in it is routed.
func TestOpenAPI(t *testing.T) {
	var doc struct {
		OpenAPI string `json:"openapi"`
		Info    struct{ Title, Version string }
		Paths   map[string]map[string]struct {
			OperationID string                     `json:"operationId"`
			Role        string                     `json:"x-bakery-role"`
			Responses   map[string]json.RawMessage `json:"responses"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.0") || doc.Info.Title == "" || doc.Info.Version == "" {
		t.Errorf("not an OpenAPI 3.0 document: %q %+v", doc.OpenAPI, doc.Info)
	}
	routed := map[string]Route{}
	for _, r := range Routes() {
		routed[strings.ToLower(r.Method)+" /"+r.Path] = r
	}
	seen := map[string]bool{}
	ids := map[string]bool{}
	for p, ops := range doc.Paths {
		for m, op := range ops {
			key := m + " " + p
			seen[key] = true
			r, ok := routed[key]
			switch {
			case !ok:
				t.Errorf("%s is documented but not routed", key)
			case op.Role != r.Role.String():
				t.Errorf("%s: documented role %q, routed %s", key, op.Role, r.Role)
			}
			if op.OperationID == "" || ids[op.OperationID] || len(op.Responses) == 0 {
				t.Errorf("%s: operationId %q missing or repeated, or no responses", key, op.OperationID)
			}
			ids[op.OperationID] = true
		}
	}
	for key := range routed {
		if !seen[key] {
			t.Errorf("%s is routed but not documented", key)
		}
	}
	checkRefs(t, OpenAPI(), doc.Components.Schemas)
	exercised := map[string]bool{}
	for _, c := range routeCases {
		if c.want < 300 || c.want == 501 {
			exercised[c.method+" "+c.path] = true
		}
	}
	for _, r := range Routes() {
		found := false
		for k := range exercised {
			m, p, _ := strings.Cut(k, " ")
			p, _, _ = strings.Cut(p, "?")
			if m == r.Method && routeMatches(Prefix+r.Path, p) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s %s has no succeeding test case", r.Method, r.Path)
		}
	}
}

func routeMatches(pattern, path string) bool {
	ps, xs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(xs) {
		return false
	}
	for i := range ps {
		if !strings.HasPrefix(ps[i], "{") && ps[i] != xs[i] {
			return false
		}
	}
	return true
}

// checkRefs checks that every $ref names a schema or response that exists.
func checkRefs(t *testing.T, doc []byte, schemas map[string]json.RawMessage) {
	t.Helper()
	for _, part := range strings.Split(string(doc), `"$ref": "`)[1:] {
		ref, _, _ := strings.Cut(part, `"`)
		name, isSchema := strings.CutPrefix(ref, "#/components/schemas/")
		if isSchema && schemas[name] == nil {
			t.Errorf("$ref %s names no schema", ref)
		}
		if !isSchema && ref != "#/components/responses/Problem" {
			t.Errorf("unexpected $ref %s", ref)
		}
	}
}

func TestCatalogMetrics(t *testing.T) {
	f := newFixture(t, true)
	m := metrics.New()
	m.Register((&Local{Catalog: f.db}).Metrics)
	w := httptest.NewRecorder()
	m.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{
		`bakery_catalog_images{product="debian-cloud"} 3`,
		`bakery_catalog_qa_verdicts{verdict="pass"} 2`,
		`bakery_catalog_qa_verdicts{verdict="fail"} 1`,
		"bakery_catalog_products 1",
		"bakery_catalog_release_events 1",
		"bakery_catalog_last_release_event_timestamp_seconds ",
	} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("missing %s in\n%s", want, w.Body.String())
		}
	}
}

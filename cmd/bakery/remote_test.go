package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bakery-dev/bakery/internal/server/api"
	"github.com/bakery-dev/bakery/internal/server/auth"
)

// serveAPI serves state's catalog's API in-process and returns its URL and
// a token of each role.
func serveAPI(t *testing.T, state string) (string, map[string]string) {
	t.Helper()
	ctx := context.Background()
	g := &globals{stateDir: state}
	st, err := g.open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tokens := map[string]string{}
	for _, role := range auth.RoleNames() {
		tok, _, err := auth.Create(ctx, st.catalog, role, role, time.Hour, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		tokens[role] = tok
	}
	as, err := newAPIServe(st, false, g.logger())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(as.wrap(as.mounts[api.Prefix]))
	t.Cleanup(srv.Close)
	return srv.URL, tokens
}

// TestRemoteSameOutput: the release commands print the same against a
// server as against the local catalog, and writes through the server are
// recorded with the token's name and refused without the right role.
func TestRemoteSameOutput(t *testing.T) {
	state, names := releaseState(t, []string{"1.0.0", "1.1.0", "1.1.1", "1.2.0"}, []bool{true, true, true, false})
	url, tokens := serveAPI(t, state)
	local := map[string]string{"BAKERY_ACTOR": "alice"}
	remote := map[string]string{"BAKERY_SERVER": url, "BAKERY_TOKEN": tokens["releaser"]}
	run := func(env map[string]string, want int, args ...string) string {
		t.Helper()
		if env["BAKERY_SERVER"] == "" {
			args = append([]string{"--state-dir", state}, args...)
		}
		code, out, errOut := runCLI(t, env, args...)
		if code != want {
			t.Fatalf("bakery %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, out, errOut)
		}
		return out + errOut
	}
	if out := run(remote, 0, "promote", "debian-cloud", "1.0.0", "--to", "devel"); !strings.Contains(out, "by token:releaser") {
		t.Errorf("remote promotion not recorded with the token's name: %s", out)
	}
	run(local, 0, "promote", "debian-cloud", "1.0.0", "--to", "stable", "--force", "--reason", "first")
	run(remote, 0, "security-release", "debian-cloud", "1.1.1", "--advisory", "DSA-1", "--severity", "high")
	for _, refused := range []struct {
		want int
		args []string
		msg  string
	}{
		{1, []string{"promote", "debian-cloud", "1.2.0", "--to", "devel"}, "gate qa"},
		{1, []string{"promote", "debian-cloud", "1.1.0", "--to", "stable"}, "gate previous-channel"},
		{2, []string{"promote", "debian-cloud", "9.9.9", "--to", "devel"}, "9.9.9"},
		{2, []string{"promote", "nothing", "1.0.0", "--to", "devel"}, "nothing"},
		{2, []string{"support", "nothing"}, "nothing"},
		{1, []string{"unrevoke", "debian-cloud", "1.0.0", "--reason", "x"}, "not revoked"},
	} {
		l, r := run(local, refused.want, refused.args...), run(remote, refused.want, refused.args...)
		if !strings.Contains(l, refused.msg) || !strings.Contains(r, refused.msg) {
			t.Errorf("%v: local %q, remote %q, want both to say %q", refused.args, l, r, refused.msg)
		}
	}
	for _, args := range [][]string{
		{"images"}, {"--json", "images"}, {"images", "--channel", "stable"}, {"images", "--limit", "2"},
		{"show", names[1]}, {"--json", "show", "--packages=false", names[2]},
		{"support", "debian-cloud"}, {"--json", "support", "debian-cloud"},
		{"upgrade-path", "debian-cloud", "1.0.0", "1.1.1"}, {"--json", "upgrade-path", "debian-cloud", "1.0.0", "1.1.1"},
		{"--json", "pins", "debian-cloud"}, {"--json", "pins", "--channel", "devel", "debian-cloud"},
		{"log", "debian-cloud"}, {"--json", "log"},
	} {
		l, r := run(local, 0, args...), run(remote, 0, args...)
		if args[0] == "show" || len(args) > 1 && args[1] == "show" {
			l = dropPaths(l)
		}
		if l != r {
			t.Errorf("bakery %s differs:\nlocal:\n%s\nremote:\n%s", strings.Join(args, " "), l, r)
		}
	}
}

// dropPaths removes what only a local show knows: where the artifacts are
// linked on this machine.
func dropPaths(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if i := strings.Index(l, "  /"); i > 0 && strings.Contains(l, "sha256") {
			l = l[:i+2]
		}
		out = append(out, l)
	}
	s = strings.Join(out, "\n")
	if i := strings.Index(s, `"paths": {`); i >= 0 {
		if j := strings.Index(s[i:], "}"); j >= 0 {
			s = s[:i] + `"paths": {}` + s[i+j+1:]
		}
	}
	return s
}

// TestRemoteWithoutToken: a write without a token, or with a viewer's,
// fails (exit 1, the server's 401/403) and changes nothing.
func TestRemoteWithoutToken(t *testing.T) {
	state, _ := releaseState(t, []string{"1.0.0"}, []bool{true})
	url, tokens := serveAPI(t, state)
	for token, want := range map[string]string{"": "401", tokens["viewer"]: "403", "bkry_forged": "401"} {
		code, out, errOut := runCLI(t, map[string]string{"BAKERY_TOKEN": token}, "--server", url, "promote", "debian-cloud", "1.0.0", "--to", "devel")
		if code != 1 || !strings.Contains(errOut, want) {
			t.Errorf("token %q: exit %d, want 1 and HTTP %s\n%s%s", token, code, want, out, errOut)
		}
	}
	code, out, _ := runCLI(t, nil, "--state-dir", state, "--json", "log")
	if code != 0 || strings.TrimSpace(out) != "[]" {
		t.Errorf("refused writes changed the audit log: %s", out)
	}
	if code, _, errOut := runCLI(t, nil, "--server", "ftp://x", "images"); code != 2 {
		t.Errorf("a non-HTTP server URL: exit %d: %s", code, errOut)
	}
}

// TestServeMetricsAndHeaders: what serve wraps around the server counts
// requests by route for /metrics and sets the security headers.
func TestServeMetricsAndHeaders(t *testing.T) {
	state, _ := releaseState(t, []string{"1.0.0"}, []bool{true})
	g := &globals{stateDir: state}
	st, err := g.open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	as, err := newAPIServe(st, false, g.logger())
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for p, h := range as.mount(nil) {
		mux.Handle(p, h)
	}
	srv := httptest.NewServer(as.wrap(mux))
	defer srv.Close()
	for _, p := range []string{"/api/v1/images/nothing", "/api/v1/images", "/streams/v1/index.json"} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Header.Get("Content-Security-Policy") == "" || resp.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: no security headers", p)
		}
	}
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`bakery_http_requests_total{route="GET /api/v1/images/{name}",method="GET",code="404"} 1`,
		`bakery_http_requests_total{route="GET /api/v1/images",method="GET",code="200"} 1`,
		`bakery_http_requests_total{route="/streams/",method="GET",code="404"} 1`,
		`bakery_catalog_images{product="debian-cloud"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s:\n%s", want, body)
		}
	}
}

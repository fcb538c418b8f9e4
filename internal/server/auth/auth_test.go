package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bakery-dev/bakery/internal/catalog"
)

type tokenList []catalog.Token

func (l tokenList) ListTokens(context.Context) ([]catalog.Token, error) { return l, nil }

func TestAuthorize(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	toks := map[string]string{}
	var list tokenList
	for _, tc := range []struct {
		name, role       string
		expires, revoked time.Time
	}{
		{name: "view", role: "viewer"}, {name: "build", role: "builder"}, {name: "rel", role: "releaser"},
		{name: "adm", role: "admin"}, {name: "old", role: "admin", expires: now.Add(-time.Second)},
		{name: "gone", role: "admin", revoked: now.Add(-time.Hour)},
	} {
		tok := NewToken()
		toks[tc.name] = tok
		list = append(list, catalog.Token{Name: tc.name, Role: tc.role, Hash: Hash(tok), CreatedAt: now, ExpiresAt: tc.expires, RevokedAt: tc.revoked})
	}
	cases := []struct {
		token  string
		need   Role
		public bool
		want   error
	}{
		{"", Viewer, true, nil},
		{"", Viewer, false, ErrUnauthenticated},
		{"", Releaser, true, ErrUnauthenticated},
		{"view", Viewer, false, nil},
		{"view", Builder, true, ErrForbidden},
		{"build", Releaser, true, ErrForbidden},
		{"rel", Releaser, true, nil},
		{"rel", Admin, true, ErrForbidden},
		{"adm", Admin, true, nil},
		{"adm", Releaser, true, nil},
		{"old", Viewer, true, ErrUnauthenticated},
		{"gone", Viewer, true, ErrUnauthenticated},
		{"bogus", Viewer, true, ErrUnauthenticated},
	}
	for _, c := range cases {
		a := &Authenticator{Tokens: list, PublicReads: c.public, Now: func() time.Time { return now }}
		r := httptest.NewRequest("GET", "/", nil)
		switch c.token {
		case "":
		case "bogus":
			r.Header.Set("Authorization", "Bearer "+NewToken())
		default:
			r.Header.Set("Authorization", "Bearer "+toks[c.token])
		}
		p, err := a.Authorize(r, c.need)
		if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("token %q need %s public %v: %v, want %v", c.token, c.need, c.public, err, c.want)
		}
		if err == nil && c.token != "" && p.Actor() != "token:"+c.token {
			t.Errorf("actor %q", p.Actor())
		}
	}
}

func TestNewTokenAndRoles(t *testing.T) {
	a, b := NewToken(), NewToken()
	if a == b || !strings.HasPrefix(a, TokenPrefix) || len(a) < len(TokenPrefix)+43 {
		t.Errorf("tokens %q %q", a, b)
	}
	if len(Hash(a)) != 64 {
		t.Error("hash is not hex SHA-256")
	}
	for _, n := range RoleNames() {
		r, err := ParseRole(n)
		if err != nil || r.String() != n {
			t.Errorf("role %s: %v %v", n, r, err)
		}
	}
	for _, bad := range []string{"", "none", "root"} {
		if _, err := ParseRole(bad); !errors.Is(err, ErrRole) {
			t.Errorf("ParseRole(%q) = %v", bad, err)
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	w := httptest.NewRecorder()
	SecurityHeaders(http.NotFoundHandler()).ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	for _, h := range []string{"X-Content-Type-Options", "Referrer-Policy", "Content-Security-Policy", "X-Frame-Options"} {
		if w.Header().Get(h) == "" {
			t.Errorf("no %s", h)
		}
	}
	if strings.Contains(ContentSecurityPolicy, "unsafe-inline") {
		t.Error("CSP allows inline scripts")
	}
}

// Package auth is the server's access control: bearer tokens with roles
// (viewer < builder < releaser < admin), checked in constant time against
// the SHA-256 hashes the catalog keeps, and the security headers every
// response carries. The API and the web catalog share it.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/bakery-dev/bakery/internal/catalog"
)

var (
	// ErrUnauthenticated is returned when a request carries no valid token
	// (none, unknown, expired or revoked): HTTP 401.
	ErrUnauthenticated = errors.New("authentication required")
	// ErrForbidden is returned when the token's role is too low: HTTP 403.
	ErrForbidden = errors.New("forbidden")
	// ErrRole is returned for a role name that is not one of Roles.
	ErrRole = errors.New("unknown role")
)

// Role is what a token may do; each role may do what the ones before it
// may.
type Role int

// Roles, lowest first.
const (
	None Role = iota // anonymous
	Viewer
	Builder
	Releaser
	Admin
)

var roleNames = []string{"none", "viewer", "builder", "releaser", "admin"}

// RoleNames are the roles a token may have, lowest first.
func RoleNames() []string { return slices.Clone(roleNames[1:]) }

func (r Role) String() string {
	if r < None || int(r) >= len(roleNames) {
		return fmt.Sprintf("role(%d)", int(r))
	}
	return roleNames[r]
}

// ParseRole returns the role of a name, or an error wrapping ErrRole.
func ParseRole(s string) (Role, error) {
	i := slices.Index(roleNames, s)
	if i <= 0 {
		return None, fmt.Errorf("%w %q: want one of %s", ErrRole, s, strings.Join(RoleNames(), ", "))
	}
	return Role(i), nil
}

// TokenPrefix starts every token, so that secret scanners recognise them.
const TokenPrefix = "bkry_"

// NewToken returns a new random token (32 bytes from crypto/rand).
func NewToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// Hash is the hex SHA-256 of a token: what the catalog keeps.
func Hash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Principal is who made a request.
type Principal struct {
	Name string // the token's name; "" for anonymous
	Role Role
}

// Actor is the principal's name for the audit log: "token:NAME".
func (p Principal) Actor() string {
	if p.Name == "" {
		return "anonymous"
	}
	return "token:" + p.Name
}

// TokenLister lists the tokens (catalog.Tokens does).
type TokenLister interface {
	ListTokens(ctx context.Context) ([]catalog.Token, error)
}

// Authenticator checks requests' bearer tokens.
type Authenticator struct {
	Tokens TokenLister
	// PublicReads lets anonymous requests read (role Viewer) without a
	// token.
	PublicReads bool
	Now         func() time.Time // nil: time.Now
}

// Authenticate returns who sent r: the token's principal, anonymous
// (None) when r has no Authorization header, or ErrUnauthenticated for a
// malformed, unknown, expired or revoked token.
func (a *Authenticator) Authenticate(r *http.Request) (Principal, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return Principal{}, nil
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return Principal{}, fmt.Errorf("%w: want Authorization: Bearer TOKEN", ErrUnauthenticated)
	}
	return a.lookup(r.Context(), strings.TrimSpace(tok))
}

// lookup compares the token's hash with every stored hash in constant
// time (no early exit on the first match).
func (a *Authenticator) lookup(ctx context.Context, tok string) (Principal, error) {
	tokens, err := a.Tokens.ListTokens(ctx)
	if err != nil {
		return Principal{}, err
	}
	want := []byte(Hash(tok))
	var found *catalog.Token
	for i := range tokens {
		if subtle.ConstantTimeCompare([]byte(tokens[i].Hash), want) == 1 {
			found = &tokens[i]
		}
	}
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	switch {
	case found == nil:
		return Principal{}, fmt.Errorf("%w: unknown token", ErrUnauthenticated)
	case !found.RevokedAt.IsZero():
		return Principal{}, fmt.Errorf("%w: token %s was revoked", ErrUnauthenticated, found.Name)
	case !found.Active(now()):
		return Principal{}, fmt.Errorf("%w: token %s expired at %s", ErrUnauthenticated, found.Name, found.ExpiresAt.Format(time.RFC3339))
	}
	role, err := ParseRole(found.Role)
	if err != nil {
		return Principal{}, fmt.Errorf("%w: token %s: %w", ErrUnauthenticated, found.Name, err)
	}
	return Principal{Name: found.Name, Role: role}, nil
}

// Authorize authenticates r and checks that it may act with role need:
// ErrUnauthenticated (401) when it has no valid token and needs one,
// ErrForbidden (403) when its token's role is too low.
func (a *Authenticator) Authorize(r *http.Request, need Role) (Principal, error) {
	p, err := a.Authenticate(r)
	if err != nil {
		return Principal{}, err
	}
	if need == Viewer && a.PublicReads && p.Role == None {
		return p, nil
	}
	switch {
	case need == None || p.Role >= need:
		return p, nil
	case p.Role == None:
		return Principal{}, fmt.Errorf("%w: this needs a token with role %s or higher", ErrUnauthenticated, need)
	}
	return Principal{}, fmt.Errorf("%w: token %s has role %s; this needs %s or higher", ErrForbidden, p.Name, p.Role, need)
}

// Challenge is the WWW-Authenticate header value of a 401.
const Challenge = `Bearer realm="bakery"`

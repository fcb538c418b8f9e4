package catalog

import (
	"context"
	"fmt"
	"time"
)

// Token is an API bearer token as the catalog keeps it: never the token
// itself, only the hex SHA-256 of it.
type Token struct {
	Name      string    `json:"name"` // unique; the audit log names writes "token:NAME"
	Role      string    `json:"role"` // viewer, builder, releaser, admin
	Hash      string    `json:"-"`    // hex SHA-256 of the token
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at,omitzero"` // zero: never
	RevokedAt time.Time `json:"revoked_at,omitzero"` // zero: not revoked
}

// Validate checks a token before any backend writes it. Errors wrap
// ErrInvalid.
func (t Token) Validate() error {
	if t.Name == "" || t.Role == "" || len(t.Hash) != 64 || t.CreatedAt.IsZero() {
		return fmt.Errorf("%w: token needs a name, a role, a SHA-256 hash and a creation time", ErrInvalid)
	}
	return nil
}

// Active reports whether the token may be used at now.
func (t Token) Active(now time.Time) bool {
	return t.RevokedAt.IsZero() && (t.ExpiresAt.IsZero() || now.Before(t.ExpiresAt))
}

// Tokens keeps the API's bearer tokens. Implementations are safe for
// concurrent use. (catalog/sqlite implements it; it is not part of Catalog
// so that read-only backends need not.)
type Tokens interface {
	// AddToken records t. It returns ErrInvalid if t fails Validate and
	// ErrConflict if its name (even of a revoked token) or hash is taken.
	AddToken(ctx context.Context, t Token) error
	// ListTokens returns every token, revoked and expired ones too, by
	// name.
	ListTokens(ctx context.Context) ([]Token, error)
	// RevokeToken marks the named token revoked at at, or returns
	// ErrNotFound. Revoking a revoked token keeps the first time.
	RevokeToken(ctx context.Context, name string, at time.Time) error
}

package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/bakery-dev/bakery/internal/catalog"
)

// TokenWriter records tokens (catalog.Tokens does).
type TokenWriter interface {
	AddToken(ctx context.Context, t catalog.Token) error
}

// Create makes a token named name with role, valid for ttl (0: no
// expiry), records its hash and returns the token itself: the only time
// anyone sees it.
func Create(ctx context.Context, w TokenWriter, name, role string, ttl time.Duration, now time.Time) (string, catalog.Token, error) {
	if _, err := ParseRole(role); err != nil {
		return "", catalog.Token{}, err
	}
	if name == "" || ttl < 0 {
		return "", catalog.Token{}, fmt.Errorf("%w: a token needs a name and a positive lifetime", catalog.ErrInvalid)
	}
	plain := NewToken()
	t := catalog.Token{Name: name, Role: role, Hash: Hash(plain), CreatedAt: now.UTC().Truncate(time.Microsecond)}
	if ttl > 0 {
		t.ExpiresAt = t.CreatedAt.Add(ttl)
	}
	if err := w.AddToken(ctx, t); err != nil {
		return "", catalog.Token{}, err
	}
	return plain, t, nil
}

package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/bakery-dev/bakery/internal/catalog"
)

var _ catalog.Tokens = (*DB)(nil)

// AddToken records a token. See catalog.Tokens.
func (d *DB) AddToken(ctx context.Context, t catalog.Token) error {
	if err := t.Validate(); err != nil {
		return fmt.Errorf("adding token %q: %w", t.Name, err)
	}
	_, err := d.db.ExecContext(ctx,
		"INSERT INTO api_tokens (name, role, hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
		t.Name, t.Role, t.Hash, formatTime(t.CreatedAt), optTime(t.ExpiresAt))
	if sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT {
		err = fmt.Errorf("%w: a token named %q exists", catalog.ErrConflict, t.Name)
	}
	if err != nil {
		return fmt.Errorf("adding token %q: %w", t.Name, err)
	}
	return nil
}

// ListTokens returns every token by name. See catalog.Tokens.
func (d *DB) ListTokens(ctx context.Context) ([]catalog.Token, error) {
	var out []catalog.Token
	err := d.read(ctx, func(tx *sql.Tx) (err error) {
		out, err = queryEach(ctx, tx, "SELECT name, role, hash, created_at, expires_at, revoked_at FROM api_tokens ORDER BY name",
			func(r *sql.Rows) (t catalog.Token, err error) {
				var created, expires, revoked string
				if err = r.Scan(&t.Name, &t.Role, &t.Hash, &created, &expires, &revoked); err != nil {
					return t, err
				}
				if t.CreatedAt, err = parseTime(created); err != nil {
					return t, err
				}
				if t.ExpiresAt, err = parseOptTime(expires); err != nil {
					return t, err
				}
				t.RevokedAt, err = parseOptTime(revoked)
				return t, err
			})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listing tokens: %w", err)
	}
	return out, nil
}

// RevokeToken marks a token revoked. See catalog.Tokens.
func (d *DB) RevokeToken(ctx context.Context, name string, at time.Time) error {
	res, err := d.db.ExecContext(ctx,
		"UPDATE api_tokens SET revoked_at = CASE WHEN revoked_at = '' THEN ? ELSE revoked_at END WHERE name = ?",
		formatTime(at), name)
	var n int64
	if err == nil {
		n, err = res.RowsAffected()
	}
	if err == nil && n == 0 {
		err = catalog.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("revoking token %q: %w", name, err)
	}
	return nil
}

func optTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return formatTime(t)
}

func parseOptTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return parseTime(s)
}

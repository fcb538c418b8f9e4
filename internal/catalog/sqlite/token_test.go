package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bakery-dev/bakery/internal/catalog"
)

func TestTokens(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now().UTC().Truncate(time.Microsecond)
	ci := catalog.Token{Name: "ci", Role: "releaser", Hash: strings.Repeat("a", 64), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := db.AddToken(ctx, ci); err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string]catalog.Token{
		"same name": {Name: "ci", Role: "admin", Hash: strings.Repeat("b", 64), CreatedAt: now},
		"same hash": {Name: "other", Role: "admin", Hash: ci.Hash, CreatedAt: now},
	} {
		if err := db.AddToken(ctx, bad); !errors.Is(err, catalog.ErrConflict) {
			t.Errorf("%s: %v, want ErrConflict", name, err)
		}
	}
	if err := db.AddToken(ctx, catalog.Token{Name: "x", Role: "admin", Hash: "short", CreatedAt: now}); !errors.Is(err, catalog.ErrInvalid) {
		t.Errorf("short hash: %v, want ErrInvalid", err)
	}
	if err := db.RevokeToken(ctx, "nobody", now); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("revoke unknown: %v, want ErrNotFound", err)
	}
	if err := db.RevokeToken(ctx, "ci", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := db.RevokeToken(ctx, "ci", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err := db.ListTokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := ci
	want.RevokedAt = now.Add(time.Minute)
	if len(got) != 1 || got[0] != want {
		t.Fatalf("tokens = %+v, want [%+v]", got, want)
	}
	if got[0].Active(now) {
		t.Error("a revoked token is active")
	}
}

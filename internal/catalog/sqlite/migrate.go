package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ErrSchemaTooNew is returned by Open for a database migrated by a newer
// bakery than this one.
var ErrSchemaTooNew = errors.New("catalog schema is newer than this bakery supports")

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one numbered schema change, migrations/NNNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations returns the embedded migrations in order. Versions must
// run 1, 2, 3… without gaps or repeats.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var ms []migration
	for i, name := range names {
		m, err := parseMigration(fsys, name)
		if err != nil {
			return nil, err
		}
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: version %d, want %d (versions must run 1, 2, 3… without gaps)", name, m.version, i+1)
		}
		ms = append(ms, m)
	}
	return ms, nil
}

func parseMigration(fsys fs.FS, name string) (migration, error) {
	base := strings.TrimSuffix(path.Base(name), ".sql")
	num, label, ok := strings.Cut(base, "_")
	v, err := strconv.Atoi(num)
	if !ok || err != nil || len(num) != 4 || label == "" {
		return migration{}, fmt.Errorf("migration %s: name must be NNNN_name.sql", name)
	}
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return migration{}, err
	}
	return migration{version: v, name: label, sql: string(b)}, nil
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	name       TEXT NOT NULL,
	applied_at TEXT NOT NULL
) STRICT`

// migrate applies the migrations the database lacks, each in its own
// transaction. BEGIN IMMEDIATE makes concurrent openers take turns: the
// second one finds the work done.
func (d *DB) migrate(ctx context.Context) error {
	ms, err := loadMigrations(migrationFiles)
	if err != nil {
		return err
	}
	for {
		done, err := d.migrateOne(ctx, ms)
		if err != nil || done {
			return err
		}
	}
}

// migrateOne applies the next pending migration, or reports that there is
// none.
func (d *DB) migrateOne(ctx context.Context, ms []migration) (done bool, err error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("migrating schema: %w", err)
	}
	defer tx.Rollback()
	current, err := schemaVersion(ctx, tx)
	if err != nil {
		return false, fmt.Errorf("migrating schema: %w", err)
	}
	switch {
	case current > len(ms):
		return false, fmt.Errorf("%w: database is at schema version %d, this bakery knows up to %d: upgrade bakery", ErrSchemaTooNew, current, len(ms))
	case current == len(ms):
		return true, tx.Commit()
	}
	m := ms[current]
	if err := apply(ctx, tx, m); err != nil {
		return false, fmt.Errorf("applying migration %04d_%s: %w", m.version, m.name, err)
	}
	return false, tx.Commit()
}

func schemaVersion(ctx context.Context, tx *sql.Tx) (int, error) {
	if _, err := tx.ExecContext(ctx, createMigrationsTable); err != nil {
		return 0, err
	}
	var v int
	err := tx.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&v)
	return v, err
}

func apply(ctx context.Context, tx *sql.Tx, m migration) error {
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx,
		"INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
		m.version, m.name, formatTime(time.Now()))
	return err
}

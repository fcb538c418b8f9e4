// Package sqlite is the default catalog backend: one SQLite database file
// (pure Go driver modernc.org/sqlite, no cgo) in WAL mode, safe to share
// between goroutines and between processes.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"time"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/bakery-dev/bakery/internal/catalog"
)

var _ catalog.Catalog = (*DB)(nil)

// busyTimeout is how long a statement waits for another connection's lock.
const busyTimeout = 10 * time.Second

// DB is a catalog stored in a SQLite database file.
type DB struct {
	db *sql.DB
}

// Open opens the catalog at path, creating the file and its directory if
// needed, and brings its schema up to date. It fails with an error wrapping
// ErrSchemaTooNew if the file was written by a newer bakery.
func Open(ctx context.Context, path string) (*DB, error) {
	db, err := open(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("opening catalog %s: %w", path, err)
	}
	return db, nil
}

func open(ctx context.Context, path string) (*DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return nil, err
	}
	sqldb, err := sql.Open("sqlite", dsn(abs))
	if err != nil {
		return nil, err
	}
	d := &DB{db: sqldb}
	if err := retryBusy(ctx, func() error { return d.init(ctx) }); err != nil {
		sqldb.Close()
		return nil, err
	}
	return d, nil
}

// dsn returns the data source name for the database file at abs. Every
// connection waits for locks, enforces foreign keys and starts read-write
// transactions with BEGIN IMMEDIATE, so that two writers queue on the lock
// instead of failing when one upgrades a read to a write.
func dsn(abs string) string {
	u := url.URL{Scheme: "file", Path: abs}
	q := url.Values{}
	q.Set("_busy_timeout", fmt.Sprint(busyTimeout.Milliseconds()))
	q.Set("_foreign_keys", "1")
	q.Set("_txlock", "immediate")
	return u.String() + "?" + q.Encode()
}

// init switches the file to WAL mode (a persistent setting) and migrates it.
func (d *DB) init(ctx context.Context) error {
	var mode string
	if err := d.db.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode); err != nil {
		return fmt.Errorf("switching to WAL mode: %w", err)
	}
	if mode != "wal" {
		return fmt.Errorf("switching to WAL mode: journal mode is still %q", mode)
	}
	return d.migrate(ctx)
}

// retryBusy runs fn until it does not fail with SQLITE_BUSY. Opening a new
// database races with other processes doing the same: switching to WAL and
// WAL recovery can report SQLITE_BUSY without waiting for busy_timeout.
func retryBusy(ctx context.Context, fn func() error) error {
	deadline := time.Now().Add(busyTimeout)
	wait := 5 * time.Millisecond
	for {
		err := fn()
		if !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %w)", ctx.Err(), err)
		case <-time.After(wait/2 + rand.N(wait)):
		}
		wait = min(2*wait, 200*time.Millisecond)
	}
}

func isBusy(err error) bool {
	return sqliteCode(err) == sqlite3.SQLITE_BUSY
}

// sqliteCode returns the primary SQLite result code of err, or 0.
func sqliteCode(err error) int {
	var se *msqlite.Error
	if errors.As(err, &se) {
		return se.Code() & 0xff
	}
	return 0
}

// Close closes the database.
func (d *DB) Close() error {
	if err := d.db.Close(); err != nil {
		return fmt.Errorf("closing catalog: %w", err)
	}
	return nil
}

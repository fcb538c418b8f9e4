package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/catalog/catalogtest"
)

func openTemp(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "state", "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestConformance(t *testing.T) {
	catalogtest.Run(t, func(t *testing.T) catalog.Catalog { return openTemp(t) })
}

func TestConcurrentOpenOfNewFile(t *testing.T) {
	dir := t.TempDir()
	for i := range 50 {
		path := filepath.Join(dir, fmt.Sprintf("catalog-%d.db", i))
		var wg sync.WaitGroup
		dbs := make([]*DB, 2)
		errs := make([]error, 2)
		for j := range dbs {
			wg.Go(func() { dbs[j], errs[j] = Open(context.Background(), path) })
		}
		wg.Wait()
		for j, err := range errs {
			if err != nil {
				t.Fatalf("iteration %d: Open #%d: %v", i, j, err)
			}
		}
		if err := dbs[0].AddImage(context.Background(), catalogtest.Sample(1)); err != nil {
			t.Fatalf("iteration %d: AddImage: %v", i, err)
		}
		if _, err := dbs[1].GetImage(context.Background(), catalogtest.Sample(1).Name); err != nil {
			t.Fatalf("iteration %d: GetImage through the other handle: %v", i, err)
		}
		for _, db := range dbs {
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestPragmas(t *testing.T) {
	db := openTemp(t)
	defer db.Close()
	ctx := context.Background()
	var mode string
	if err := db.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	// Hold several connections at once so the pool opens more than one.
	var conns []interface{ Close() error }
	for range 3 {
		conn, err := db.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, conn)
		var fk, busy int
		if err := conn.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
			t.Errorf("foreign_keys = %d, %v; want 1", fk, err)
		}
		if err := conn.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&busy); err != nil || busy != 10000 {
			t.Errorf("busy_timeout = %d, %v; want 10000", busy, err)
		}
	}
	for _, c := range conns {
		c.Close()
	}
}

func TestReopenKeepsDataAndSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.db")
	ctx := context.Background()
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	img := catalogtest.Sample(1)
	if err := db.AddImage(ctx, img); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("reopening: %v", err)
	}
	defer db.Close()
	got, err := db.GetImage(ctx, img.Name)
	if err != nil || !catalogtest.Equal(got, img) {
		t.Errorf("after reopen GetImage = %+v, %v", got, err)
	}
	ms, _ := loadMigrations(migrationFiles)
	var applied int
	if err := db.db.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations").Scan(&applied); err != nil || applied != len(ms) {
		t.Errorf("schema_migrations has %d rows (%v), want %d", applied, err, len(ms))
	}
}

func TestSchemaTooNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.db")
	ctx := context.Background()
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.db.ExecContext(ctx,
		"INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', '')"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = Open(ctx, path)
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open of newer database: error = %v, want ErrSchemaTooNew", err)
	}
	if !strings.Contains(err.Error(), "999") {
		t.Errorf("error %q does not name the database's version", err)
	}
}

func TestAddImageIsAtomic(t *testing.T) {
	db := openTemp(t)
	defer db.Close()
	ctx := context.Background()
	// Make the last child insert fail, after the image row and packages.
	if _, err := db.db.ExecContext(ctx, `CREATE TRIGGER boom BEFORE INSERT ON hygiene_checks
		WHEN NEW.name = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END`); err != nil {
		t.Fatal(err)
	}
	img := catalogtest.Sample(1)
	img.Hygiene = append(img.Hygiene, catalog.Check{Name: "boom"})
	if err := db.AddImage(ctx, img); err == nil {
		t.Fatal("AddImage succeeded despite failing insert")
	}
	for _, table := range []string{"images", "artifacts", "packages", "hygiene_checks"} {
		if n := count(t, db, table); n != 0 {
			t.Errorf("%s has %d rows after failed AddImage, want 0", table, n)
		}
	}
}

func TestDeleteCascades(t *testing.T) {
	db := openTemp(t)
	defer db.Close()
	ctx := context.Background()
	img := catalogtest.Sample(1)
	if err := db.AddImage(ctx, img); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, "packages"); n != len(img.Packages) {
		t.Fatalf("packages has %d rows, want %d", n, len(img.Packages))
	}
	if err := db.DeleteImage(ctx, img.Name); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"artifacts", "packages", "hygiene_checks"} {
		if n := count(t, db, table); n != 0 {
			t.Errorf("%s has %d rows after DeleteImage, want 0", table, n)
		}
	}
}

func count(t *testing.T, db *DB, table string) int {
	t.Helper()
	var n int
	if err := db.db.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestLoadMigrations(t *testing.T) {
	ms, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatalf("embedded migrations: %v", err)
	}
	if len(ms) == 0 || ms[0].name != "images" {
		t.Errorf("embedded migrations = %+v, want 0001_images first", ms)
	}
	tests := []struct {
		name  string
		files []string
		ok    bool
	}{
		{"contiguous", []string{"0001_a.sql", "0002_b.sql"}, true},
		{"gap", []string{"0001_a.sql", "0003_c.sql"}, false},
		{"repeat", []string{"0001_a.sql", "0001_b.sql"}, false},
		{"starts at 2", []string{"0002_b.sql"}, false},
		{"no name", []string{"0001.sql"}, false},
		{"short number", []string{"1_a.sql"}, false},
		{"not a number", []string{"000x_a.sql"}, false},
	}
	for _, tt := range tests {
		fsys := fstest.MapFS{}
		for _, f := range tt.files {
			fsys["migrations/"+f] = &fstest.MapFile{Data: []byte("SELECT 1;")}
		}
		if _, err := loadMigrations(fsys); (err == nil) != tt.ok {
			t.Errorf("%s: loadMigrations = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

func TestDSNEscapesPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "odd ?#%name")
	db, err := Open(context.Background(), filepath.Join(dir, "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var file string
	if err := db.db.QueryRow("SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&file); err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "catalog.db"); file != want {
		t.Errorf("database file = %q, want %q", file, want)
	}
}

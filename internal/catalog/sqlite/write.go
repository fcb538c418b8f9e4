package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/bakery-dev/bakery/internal/catalog"
)

// timeLayout is fixed width so that text order is time order.
const timeLayout = "2006-01-02T15:04:05.000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) (time.Time, error) { return time.Parse(timeLayout, s) }

// AddImage adds img and all its records in one transaction. See
// catalog.Writer.
func (d *DB) AddImage(ctx context.Context, img catalog.Image) error {
	if err := img.Validate(); err != nil {
		return fmt.Errorf("adding image: %w", err)
	}
	if err := d.addImage(ctx, img); err != nil {
		return fmt.Errorf("adding image %s: %w", img.Name, err)
	}
	return nil
}

func (d *DB) addImage(ctx context.Context, img catalog.Image) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := checkConflict(ctx, tx, img); err != nil {
		return err
	}
	id, err := insertImage(ctx, tx, img)
	if err != nil {
		return err
	}
	if err := insertChildren(ctx, tx, id, img); err != nil {
		return err
	}
	if err := enqueue(ctx, tx, catalog.BuiltPayload(img)); err != nil {
		return err
	}
	return tx.Commit()
}

// checkConflict names the image that already holds img's name or serial.
// The transaction holds the write lock, so the answer stays true until
// commit; the UNIQUE constraints are the backstop.
func checkConflict(ctx context.Context, tx *sql.Tx, img catalog.Image) error {
	var other string
	err := tx.QueryRowContext(ctx,
		"SELECT name FROM images WHERE name = ? OR (product = ? AND serial = ?) LIMIT 1",
		img.Name, img.Product, img.Serial).Scan(&other)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return err
	case other == img.Name:
		return fmt.Errorf("name %w", catalog.ErrConflict)
	default:
		return fmt.Errorf("serial %s of product %s is taken by image %s: %w", img.Serial, img.Product, other, catalog.ErrConflict)
	}
}

func insertImage(ctx context.Context, tx *sql.Tx, img catalog.Image) (int64, error) {
	tools, err := marshalTools(img.Tools)
	if err != nil {
		return 0, err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO images (name, product, version, serial, distro, release, arch,
		build_id, recipe_digest, recipe, created_at, build_duration_ns, tools)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		img.Name, img.Product, img.Version, img.Serial, img.Distro, img.Release, img.Arch,
		img.BuildID, img.RecipeDigest, nilIfEmpty(img.Recipe), formatTime(img.CreatedAt),
		int64(img.BuildDuration), tools)
	if sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT {
		return 0, fmt.Errorf("%w: %w", catalog.ErrConflict, err)
	}
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

func insertChildren(ctx context.Context, tx *sql.Tx, id int64, img catalog.Image) error {
	for i, a := range img.Artifacts {
		if _, err := tx.ExecContext(ctx,
			"INSERT INTO artifacts (image_id, position, kind, filename, digest, size) VALUES (?, ?, ?, ?, ?, ?)",
			id, i, a.Kind, a.Filename, a.Digest, a.Size); err != nil {
			return fmt.Errorf("recording artifact %s: %w", a.Filename, err)
		}
	}
	if err := insertPackages(ctx, tx, id, img.Packages); err != nil {
		return err
	}
	return insertChecks(ctx, tx, id, img.Hygiene)
}

func insertPackages(ctx context.Context, tx *sql.Tx, id int64, pkgs []catalog.Package) error {
	if len(pkgs) == 0 {
		return nil
	}
	stmt, err := tx.PrepareContext(ctx,
		"INSERT INTO packages (image_id, position, name, version, arch) VALUES (?, ?, ?, ?, ?)")
	if err != nil {
		return err
	}
	defer stmt.Close()
	for i, p := range pkgs {
		if _, err := stmt.ExecContext(ctx, id, i, p.Name, p.Version, p.Arch); err != nil {
			return fmt.Errorf("recording package %s: %w", p.Name, err)
		}
	}
	return nil
}

func insertChecks(ctx context.Context, tx *sql.Tx, id int64, checks []catalog.Check) error {
	for i, c := range checks {
		found, err := json.Marshal(nonNil(c.Found))
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx,
			"INSERT INTO hygiene_checks (image_id, position, name, passed, detail, found) VALUES (?, ?, ?, ?, ?, ?)",
			id, i, c.Name, c.Passed, c.Detail, string(found)); err != nil {
			return fmt.Errorf("recording hygiene check %s: %w", c.Name, err)
		}
	}
	return nil
}

func marshalTools(tools map[string]string) (string, error) {
	if tools == nil {
		tools = map[string]string{}
	}
	b, err := json.Marshal(tools)
	return string(b), err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nilIfEmpty(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// DeleteImage removes the image and its records. See catalog.Writer.
func (d *DB) DeleteImage(ctx context.Context, name string) error {
	res, err := d.db.ExecContext(ctx, "DELETE FROM images WHERE name = ?", name)
	if err != nil {
		return fmt.Errorf("deleting image %s: %w", name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("deleting image %s: %w", name, err)
	}
	if n == 0 {
		return fmt.Errorf("deleting image %s: %w", name, catalog.ErrNotFound)
	}
	return nil
}

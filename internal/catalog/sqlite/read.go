package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bakery-dev/bakery/internal/catalog"
)

const imageColumns = `id, name, product, version, serial, distro, release, arch,
	build_id, recipe_digest, recipe, created_at, build_duration_ns, tools`

// GetImage returns the named image. See catalog.Reader.
func (d *DB) GetImage(ctx context.Context, name string) (catalog.Image, error) {
	var img catalog.Image
	err := d.read(ctx, func(tx *sql.Tx) error {
		row := tx.QueryRowContext(ctx, "SELECT "+imageColumns+" FROM images WHERE name = ?", name)
		id, err := scanImage(row, &img)
		if err != nil {
			return err
		}
		return loadChildren(ctx, tx, id, &img)
	})
	if errors.Is(err, sql.ErrNoRows) {
		err = catalog.ErrNotFound
	}
	if err != nil {
		return catalog.Image{}, fmt.Errorf("getting image %s: %w", name, err)
	}
	return img, nil
}

// ListImages returns images newest first. See catalog.Reader.
func (d *DB) ListImages(ctx context.Context, opt catalog.ListOptions) ([]catalog.Image, error) {
	var imgs []catalog.Image
	err := d.read(ctx, func(tx *sql.Tx) error {
		var ids []int64
		var err error
		imgs, ids, err = listRows(ctx, tx, opt)
		if err != nil {
			return err
		}
		for i := range imgs {
			if err := loadChildren(ctx, tx, ids[i], &imgs[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing images: %w", err)
	}
	return imgs, nil
}

func listRows(ctx context.Context, tx *sql.Tx, opt catalog.ListOptions) ([]catalog.Image, []int64, error) {
	q := "SELECT " + imageColumns + " FROM images"
	var where []string
	var args []any
	if opt.Product != "" {
		where, args = append(where, "product = ?"), append(args, opt.Product)
	}
	if opt.BuildID != "" {
		where, args = append(where, "build_id = ?"), append(args, opt.BuildID)
	}
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY created_at DESC, name"
	if opt.Limit > 0 {
		q += " LIMIT ?"
		args = append(args, opt.Limit)
	}
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var imgs []catalog.Image
	var ids []int64
	for rows.Next() {
		var img catalog.Image
		id, err := scanImage(rows, &img)
		if err != nil {
			return nil, nil, err
		}
		imgs, ids = append(imgs, img), append(ids, id)
	}
	return imgs, ids, rows.Err()
}

// SerialsWithPrefix returns product's serials starting with prefix, in
// ascending string order. See catalog.Reader.
func (d *DB) SerialsWithPrefix(ctx context.Context, product, prefix string) ([]string, error) {
	rows, err := d.db.QueryContext(ctx,
		"SELECT serial FROM images WHERE product = ? AND substr(serial, 1, length(?)) = ? ORDER BY serial",
		product, prefix, prefix)
	if err != nil {
		return nil, fmt.Errorf("listing serials of %s: %w", product, err)
	}
	defer rows.Close()
	var serials []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("listing serials of %s: %w", product, err)
		}
		serials = append(serials, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing serials of %s: %w", product, err)
	}
	return serials, nil
}

// read runs fn in a read-only transaction, so that it sees one snapshot.
func (d *DB) read(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := d.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

func scanImage(row interface{ Scan(...any) error }, img *catalog.Image) (int64, error) {
	var (
		id        int64
		created   string
		duration  int64
		tools     string
		recipeRaw []byte
	)
	err := row.Scan(&id, &img.Name, &img.Product, &img.Version, &img.Serial, &img.Distro,
		&img.Release, &img.Arch, &img.BuildID, &img.RecipeDigest, &recipeRaw, &created, &duration, &tools)
	if err != nil {
		return 0, err
	}
	if img.CreatedAt, err = parseTime(created); err != nil {
		return 0, fmt.Errorf("image %s: bad creation time: %w", img.Name, err)
	}
	img.BuildDuration = time.Duration(duration)
	if len(recipeRaw) > 0 {
		img.Recipe = recipeRaw
	}
	if err := json.Unmarshal([]byte(tools), &img.Tools); err != nil {
		return 0, fmt.Errorf("image %s: bad tools: %w", img.Name, err)
	}
	if len(img.Tools) == 0 {
		img.Tools = nil
	}
	return id, nil
}

func loadChildren(ctx context.Context, tx *sql.Tx, id int64, img *catalog.Image) error {
	var err error
	if img.Artifacts, err = loadArtifacts(ctx, tx, id); err != nil {
		return fmt.Errorf("loading artifacts of %s: %w", img.Name, err)
	}
	if img.Packages, err = loadPackages(ctx, tx, id); err != nil {
		return fmt.Errorf("loading packages of %s: %w", img.Name, err)
	}
	if img.Hygiene, err = loadChecks(ctx, tx, id); err != nil {
		return fmt.Errorf("loading hygiene checks of %s: %w", img.Name, err)
	}
	return nil
}

// queryAll runs q with the image id and scans each row with scan.
func queryAll[T any](ctx context.Context, tx *sql.Tx, q string, id int64, scan func(*sql.Rows) (T, error)) ([]T, error) {
	return queryEach(ctx, tx, q, scan, id)
}

// queryEach runs q with args and scans each row with scan.
func queryEach[T any](ctx context.Context, tx *sql.Tx, q string, scan func(*sql.Rows) (T, error), args ...any) ([]T, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func loadArtifacts(ctx context.Context, tx *sql.Tx, id int64) ([]catalog.Artifact, error) {
	return queryAll(ctx, tx,
		"SELECT kind, filename, digest, size FROM artifacts WHERE image_id = ? ORDER BY position", id,
		func(r *sql.Rows) (a catalog.Artifact, err error) {
			err = r.Scan(&a.Kind, &a.Filename, &a.Digest, &a.Size)
			return a, err
		})
}

func loadPackages(ctx context.Context, tx *sql.Tx, id int64) ([]catalog.Package, error) {
	return queryAll(ctx, tx,
		"SELECT name, version, arch FROM packages WHERE image_id = ? ORDER BY position", id,
		func(r *sql.Rows) (p catalog.Package, err error) {
			err = r.Scan(&p.Name, &p.Version, &p.Arch)
			return p, err
		})
}

func loadChecks(ctx context.Context, tx *sql.Tx, id int64) ([]catalog.Check, error) {
	return queryAll(ctx, tx,
		"SELECT name, passed, detail, found FROM hygiene_checks WHERE image_id = ? ORDER BY position", id,
		func(r *sql.Rows) (c catalog.Check, err error) {
			var found string
			if err = r.Scan(&c.Name, &c.Passed, &c.Detail, &found); err != nil {
				return c, err
			}
			if err = json.Unmarshal([]byte(found), &c.Found); err != nil {
				return c, fmt.Errorf("check %s: bad found list: %w", c.Name, err)
			}
			if len(c.Found) == 0 {
				c.Found = nil
			}
			return c, nil
		})
}

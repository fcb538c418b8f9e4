package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// Generation returns a short string that changes whenever an image is
// added or deleted, a QA result recorded or a release action applied, so a
// server can tell cheaply
// whether documents it generated from the catalog are still current. It
// counts the rows of images and release events and takes their highest IDs
// and newest times: SQLite may reuse the ID of a deleted newest row, but
// an image added after it was built later. Nothing else in the catalog is
// covered (webhooks and tokens, for one).
func (d *DB) Generation(ctx context.Context) (string, error) {
	var gen string
	err := d.read(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT
			(SELECT count(*) || '.' || ifnull(max(id), 0) || '.' || ifnull(max(created_at), '') FROM images) || '/' ||
			(SELECT count(*) || '.' || ifnull(max(id), 0) FROM qa_runs) || '/' ||
			(SELECT count(*) || '.' || ifnull(max(id), 0) || '.' || ifnull(max(at), '') FROM release_events)`).Scan(&gen)
	})
	if err != nil {
		return "", fmt.Errorf("reading catalog generation: %w", err)
	}
	return gen, nil
}

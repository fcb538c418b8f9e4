package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/bakery-dev/bakery/internal/catalog"
)

// RecordQA adds a QA result to the named image in one transaction. See
// catalog.Writer.
func (d *DB) RecordQA(ctx context.Context, image string, res catalog.QAResult) error {
	if err := validateQA(image, res); err != nil {
		return fmt.Errorf("recording QA result of %s: %w", image, err)
	}
	if err := d.recordQA(ctx, image, res); err != nil {
		return fmt.Errorf("recording QA result of %s: %w", image, err)
	}
	return nil
}

func validateQA(image string, res catalog.QAResult) error {
	if res.Image != "" && res.Image != image {
		return fmt.Errorf("%w: the result names image %s", catalog.ErrInvalid, res.Image)
	}
	return res.Validate()
}

func (d *DB) recordQA(ctx context.Context, image string, res catalog.QAResult) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var imageID int64
	err = tx.QueryRowContext(ctx, "SELECT id FROM images WHERE name = ?", image).Scan(&imageID)
	if errors.Is(err, sql.ErrNoRows) {
		return catalog.ErrNotFound
	}
	if err != nil {
		return err
	}
	runID, err := insertRun(ctx, tx, imageID, res)
	if err != nil {
		return err
	}
	if err := insertRunChildren(ctx, tx, runID, res); err != nil {
		return err
	}
	return tx.Commit()
}

func insertRun(ctx context.Context, tx *sql.Tx, imageID int64, res catalog.QAResult) (int64, error) {
	fws, err := json.Marshal(nonNil(res.Firmwares))
	if err != nil {
		return 0, err
	}
	r, err := tx.ExecContext(ctx, `INSERT INTO qa_runs (image_id, tested_at, passed, accel, firmwares, boot_to_ssh_ns, duration_ns)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		imageID, formatTime(res.TestedAt), res.Passed, res.Accel, string(fws), int64(res.BootToSSH), int64(res.Duration))
	if err != nil {
		return 0, err
	}
	return r.LastInsertId()
}

func insertRunChildren(ctx context.Context, tx *sql.Tx, runID int64, res catalog.QAResult) error {
	for i, b := range res.Boots {
		if _, err := tx.ExecContext(ctx,
			"INSERT INTO qa_boots (run_id, position, firmware, passed, boot_to_ssh_ns) VALUES (?, ?, ?, ?, ?)",
			runID, i, b.Firmware, b.Passed, int64(b.BootToSSH)); err != nil {
			return fmt.Errorf("recording boot %s: %w", b.Firmware, err)
		}
	}
	for i, c := range res.Checks {
		if _, err := tx.ExecContext(ctx, `INSERT INTO qa_checks (run_id, position, name, firmware, passed, skipped, duration_ns, evidence)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			runID, i, c.Name, c.Firmware, c.Passed, c.Skipped, int64(c.Duration), c.Evidence); err != nil {
			return fmt.Errorf("recording check %s: %w", c.Name, err)
		}
	}
	for i, a := range res.Artifacts {
		if _, err := tx.ExecContext(ctx,
			"INSERT INTO qa_artifacts (run_id, position, kind, filename, digest, size) VALUES (?, ?, ?, ?, ?, ?)",
			runID, i, a.Kind, a.Filename, a.Digest, a.Size); err != nil {
			return fmt.Errorf("recording artifact %s: %w", a.Filename, err)
		}
	}
	return nil
}

// LatestQA returns the image's most recent QA result. See catalog.Reader.
func (d *DB) LatestQA(ctx context.Context, image string) (catalog.QAResult, error) {
	var res catalog.QAResult
	err := d.read(ctx, func(tx *sql.Tx) error {
		runID, err := latestRun(ctx, tx, image, &res)
		if err != nil {
			return err
		}
		return loadRunChildren(ctx, tx, runID, &res)
	})
	if errors.Is(err, sql.ErrNoRows) {
		err = catalog.ErrNotFound
	}
	if err != nil {
		return catalog.QAResult{}, fmt.Errorf("getting latest QA result of %s: %w", image, err)
	}
	return res, nil
}

func latestRun(ctx context.Context, tx *sql.Tx, image string, res *catalog.QAResult) (int64, error) {
	var (
		id                  int64
		tested, fws         string
		bootToSSH, duration int64
	)
	err := tx.QueryRowContext(ctx, `SELECT r.id, r.tested_at, r.passed, r.accel, r.firmwares, r.boot_to_ssh_ns, r.duration_ns
		FROM qa_runs r JOIN images i ON i.id = r.image_id
		WHERE i.name = ? ORDER BY r.tested_at DESC, r.id DESC LIMIT 1`, image).
		Scan(&id, &tested, &res.Passed, &res.Accel, &fws, &bootToSSH, &duration)
	if err != nil {
		return 0, err
	}
	res.Image = image
	res.BootToSSH, res.Duration = time.Duration(bootToSSH), time.Duration(duration)
	if res.TestedAt, err = parseTime(tested); err != nil {
		return 0, fmt.Errorf("bad test time: %w", err)
	}
	if err := json.Unmarshal([]byte(fws), &res.Firmwares); err != nil {
		return 0, fmt.Errorf("bad firmware list: %w", err)
	}
	if len(res.Firmwares) == 0 {
		res.Firmwares = nil
	}
	return id, nil
}

func loadRunChildren(ctx context.Context, tx *sql.Tx, runID int64, res *catalog.QAResult) error {
	var err error
	res.Boots, err = queryAll(ctx, tx,
		"SELECT firmware, passed, boot_to_ssh_ns FROM qa_boots WHERE run_id = ? ORDER BY position", runID,
		func(r *sql.Rows) (b catalog.QABoot, err error) {
			var ns int64
			err = r.Scan(&b.Firmware, &b.Passed, &ns)
			b.BootToSSH = time.Duration(ns)
			return b, err
		})
	if err != nil {
		return fmt.Errorf("loading boots: %w", err)
	}
	if res.Checks, err = loadQAChecks(ctx, tx, runID); err != nil {
		return fmt.Errorf("loading checks: %w", err)
	}
	res.Artifacts, err = queryAll(ctx, tx,
		"SELECT kind, filename, digest, size FROM qa_artifacts WHERE run_id = ? ORDER BY position", runID,
		func(r *sql.Rows) (a catalog.Artifact, err error) {
			err = r.Scan(&a.Kind, &a.Filename, &a.Digest, &a.Size)
			return a, err
		})
	if err != nil {
		return fmt.Errorf("loading artifacts: %w", err)
	}
	return nil
}

func loadQAChecks(ctx context.Context, tx *sql.Tx, runID int64) ([]catalog.QACheck, error) {
	return queryAll(ctx, tx,
		"SELECT name, firmware, passed, skipped, duration_ns, evidence FROM qa_checks WHERE run_id = ? ORDER BY position", runID,
		func(r *sql.Rows) (c catalog.QACheck, err error) {
			var ns int64
			err = r.Scan(&c.Name, &c.Firmware, &c.Passed, &c.Skipped, &ns, &c.Evidence)
			c.Duration = time.Duration(ns)
			return c, err
		})
}

package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/bakery-dev/bakery/internal/catalog"
)

// latestRuns selects the latest QA run of each of a product's images.
const latestRuns = `WITH latest AS (
	SELECT i.name AS image, (SELECT r.id FROM qa_runs r WHERE r.image_id = i.id
		ORDER BY r.tested_at DESC, r.id DESC LIMIT 1) AS run_id
	FROM images i WHERE i.product = ?)
`

// LatestQAs returns the latest QA result of every tested image of product,
// by image name: for each what LatestQA returns, read in four queries for
// listings of many images.
func (d *DB) LatestQAs(ctx context.Context, product string) (map[string]catalog.QAResult, error) {
	runs := map[int64]*catalog.QAResult{}
	err := d.read(ctx, func(tx *sql.Tx) error {
		if err := bulkRuns(ctx, tx, product, runs); err != nil {
			return err
		}
		return bulkChildren(ctx, tx, product, runs)
	})
	if err != nil {
		return nil, fmt.Errorf("getting latest QA results of %s: %w", product, err)
	}
	out := make(map[string]catalog.QAResult, len(runs))
	for _, r := range runs {
		out[r.Image] = *r
	}
	return out, nil
}

func bulkRuns(ctx context.Context, tx *sql.Tx, product string, runs map[int64]*catalog.QAResult) error {
	return eachRow(ctx, tx, latestRuns+`SELECT r.id, l.image, r.tested_at, r.passed, r.accel, r.firmwares, r.boot_to_ssh_ns, r.duration_ns
		FROM latest l JOIN qa_runs r ON r.id = l.run_id`, product, func(r *sql.Rows) error {
		var (
			res           catalog.QAResult
			id, boot, dur int64
			tested, fws   string
		)
		if err := r.Scan(&id, &res.Image, &tested, &res.Passed, &res.Accel, &fws, &boot, &dur); err != nil {
			return err
		}
		res.BootToSSH, res.Duration = time.Duration(boot), time.Duration(dur)
		var err error
		if res.TestedAt, err = parseTime(tested); err != nil {
			return fmt.Errorf("bad test time: %w", err)
		}
		if err := json.Unmarshal([]byte(fws), &res.Firmwares); err != nil {
			return fmt.Errorf("bad firmware list: %w", err)
		}
		if len(res.Firmwares) == 0 {
			res.Firmwares = nil
		}
		runs[id] = &res
		return nil
	})
}

// bulkChildren fills in the boots, checks and artifacts of runs.
func bulkChildren(ctx context.Context, tx *sql.Tx, product string, runs map[int64]*catalog.QAResult) error {
	q := func(table, cols string) string {
		return latestRuns + "SELECT c.run_id, " + cols + " FROM latest l JOIN " + table + " c ON c.run_id = l.run_id ORDER BY c.run_id, c.position"
	}
	err := eachRow(ctx, tx, q("qa_boots", "c.firmware, c.passed, c.boot_to_ssh_ns"), product, func(r *sql.Rows) error {
		var id, ns int64
		var b catalog.QABoot
		err := r.Scan(&id, &b.Firmware, &b.Passed, &ns)
		b.BootToSSH = time.Duration(ns)
		runs[id].Boots = append(runs[id].Boots, b)
		return err
	})
	if err != nil {
		return fmt.Errorf("loading boots: %w", err)
	}
	err = eachRow(ctx, tx, q("qa_checks", "c.name, c.firmware, c.passed, c.skipped, c.duration_ns, c.evidence"), product, func(r *sql.Rows) error {
		var id, ns int64
		var c catalog.QACheck
		err := r.Scan(&id, &c.Name, &c.Firmware, &c.Passed, &c.Skipped, &ns, &c.Evidence)
		c.Duration = time.Duration(ns)
		runs[id].Checks = append(runs[id].Checks, c)
		return err
	})
	if err != nil {
		return fmt.Errorf("loading checks: %w", err)
	}
	err = eachRow(ctx, tx, q("qa_artifacts", "c.kind, c.filename, c.digest, c.size"), product, func(r *sql.Rows) error {
		var id int64
		var a catalog.Artifact
		err := r.Scan(&id, &a.Kind, &a.Filename, &a.Digest, &a.Size)
		runs[id].Artifacts = append(runs[id].Artifacts, a)
		return err
	})
	if err != nil {
		return fmt.Errorf("loading artifacts: %w", err)
	}
	return nil
}

// eachRow runs q with arg and calls fn for every row.
func eachRow(ctx context.Context, tx *sql.Tx, q string, arg any, fn func(*sql.Rows) error) error {
	rows, err := tx.QueryContext(ctx, q, arg)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

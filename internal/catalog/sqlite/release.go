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

// ChannelHeads returns product's channel heads. See catalog.ReleaseReader.
func (d *DB) ChannelHeads(ctx context.Context, product string) ([]catalog.ChannelHead, error) {
	var heads []catalog.ChannelHead
	err := d.read(ctx, func(tx *sql.Tx) (err error) {
		heads, err = queryEach(ctx, tx,
			"SELECT product, channel, image, since FROM channel_heads WHERE product = ? ORDER BY channel",
			func(r *sql.Rows) (h catalog.ChannelHead, err error) {
				var since string
				if err = r.Scan(&h.Product, &h.Channel, &h.Image, &since); err == nil {
					h.Since, err = parseTime(since)
				}
				return h, err
			}, product)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading channels of %s: %w", product, err)
	}
	return heads, nil
}

// ChannelHistory returns the moves of product's channels, oldest first. See
// catalog.ReleaseReader.
func (d *DB) ChannelHistory(ctx context.Context, product, channel string) ([]catalog.HistoryEntry, error) {
	var hist []catalog.HistoryEntry
	err := d.read(ctx, func(tx *sql.Tx) (err error) {
		hist, err = queryEach(ctx, tx,
			`SELECT channel, image, at, event_id FROM channel_history
			 WHERE product = ? AND (? = '' OR channel = ?) ORDER BY id`,
			func(r *sql.Rows) (h catalog.HistoryEntry, err error) {
				var at string
				if err = r.Scan(&h.Channel, &h.Image, &at, &h.EventID); err == nil {
					h.At, err = parseTime(at)
				}
				return h, err
			}, product, channel, channel)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading channel history of %s: %w", product, err)
	}
	return hist, nil
}

// ImageMarks returns the marks of product's images. See
// catalog.ReleaseReader.
func (d *DB) ImageMarks(ctx context.Context, product string) (map[string]catalog.Marks, error) {
	type named struct {
		name  string
		marks catalog.Marks
	}
	var rows []named
	err := d.read(ctx, func(tx *sql.Tx) (err error) {
		rows, err = queryEach(ctx, tx,
			`SELECT i.name, m.marks FROM image_marks m JOIN images i ON i.id = m.image_id
			 WHERE i.product = ?`,
			func(r *sql.Rows) (n named, err error) {
				var raw string
				if err = r.Scan(&n.name, &raw); err == nil {
					err = json.Unmarshal([]byte(raw), &n.marks)
				}
				return n, err
			}, product)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading marks of %s: %w", product, err)
	}
	out := make(map[string]catalog.Marks, len(rows))
	for _, r := range rows {
		out[r.name] = r.marks
	}
	return out, nil
}

// Events returns the audit log, oldest first. See catalog.ReleaseReader.
func (d *DB) Events(ctx context.Context, product string) ([]catalog.Event, error) {
	var events []catalog.Event
	err := d.read(ctx, func(tx *sql.Tx) (err error) {
		events, err = queryEach(ctx, tx,
			`SELECT id, product, action, image, version, channel, actor, at, reason, forced, moves, marks
			 FROM release_events WHERE ? = '' OR product = ? ORDER BY id`,
			scanEvent, product, product)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading audit log of %s: %w", product, err)
	}
	return events, nil
}

func scanEvent(r *sql.Rows) (e catalog.Event, err error) {
	var at, forced, moves, marks string
	if err = r.Scan(&e.ID, &e.Product, &e.Action, &e.Image, &e.Version, &e.Channel, &e.Actor,
		&at, &e.Reason, &forced, &moves, &marks); err != nil {
		return e, err
	}
	if e.At, err = parseTime(at); err != nil {
		return e, err
	}
	for _, f := range []struct {
		raw string
		dst any
	}{{forced, &e.Forced}, {moves, &e.Moves}, {marks, &e.Marks}} {
		if err := json.Unmarshal([]byte(f.raw), f.dst); err != nil {
			return e, fmt.Errorf("event %d: %w", e.ID, err)
		}
	}
	return normalizeEvent(e), nil
}

// ApplyChange applies a release change in one transaction. See
// catalog.ReleaseWriter.
func (d *DB) ApplyChange(ctx context.Context, c catalog.Change) (catalog.Event, error) {
	if err := c.Validate(); err != nil {
		return catalog.Event{}, fmt.Errorf("applying %s: %w", c.Event.Action, err)
	}
	e, err := d.applyChange(ctx, c)
	if err != nil {
		return catalog.Event{}, fmt.Errorf("applying %s of %s %s: %w", c.Event.Action, c.Event.Product, c.Event.Version, err)
	}
	return e, nil
}

func (d *DB) applyChange(ctx context.Context, c catalog.Change) (catalog.Event, error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return catalog.Event{}, err
	}
	defer tx.Rollback()
	if err := checkImages(ctx, tx, c); err != nil {
		return catalog.Event{}, err
	}
	if err := checkHeads(ctx, tx, c.Event.Product, c.Moves); err != nil {
		return catalog.Event{}, err
	}
	if err := checkNotRevoked(ctx, tx, c); err != nil {
		return catalog.Event{}, err
	}
	e := c.Event
	e.Moves, e.Marks = c.Moves, c.Marks
	if e.ID, err = insertEvent(ctx, tx, e); err != nil {
		return catalog.Event{}, err
	}
	if err := moveHeads(ctx, tx, e); err != nil {
		return catalog.Event{}, err
	}
	if err := writeMarks(ctx, tx, c.Marks); err != nil {
		return catalog.Event{}, err
	}
	if p, ok := catalog.EventPayload(normalizeEvent(e)); ok {
		if err := enqueue(ctx, tx, p); err != nil {
			return catalog.Event{}, err
		}
	}
	if err := tx.Commit(); err != nil {
		return catalog.Event{}, err
	}
	e.At = e.At.UTC().Truncate(time.Microsecond)
	return normalizeEvent(e), nil
}

// normalizeEvent applies the round-trip contract: empty lists are nil.
func normalizeEvent(e catalog.Event) catalog.Event {
	if len(e.Forced) == 0 {
		e.Forced = nil
	}
	if len(e.Moves) == 0 {
		e.Moves = nil
	}
	if len(e.Marks) == 0 {
		e.Marks = nil
	}
	return e
}

// checkImages makes sure every image the change names is product's.
func checkImages(ctx context.Context, tx *sql.Tx, c catalog.Change) error {
	names := []string{c.Event.Image}
	for _, m := range c.Moves {
		names = append(names, m.To)
	}
	for _, m := range c.Marks {
		names = append(names, m.Image)
	}
	for _, name := range names {
		if name == "" {
			continue
		}
		var product string
		err := tx.QueryRowContext(ctx, "SELECT product FROM images WHERE name = ?", name).Scan(&product)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("image %s: %w", name, catalog.ErrNotFound)
		case err != nil:
			return err
		case product != c.Event.Product:
			return fmt.Errorf("%w: image %s belongs to product %s, not %s", catalog.ErrInvalid, name, product, c.Event.Product)
		}
	}
	return nil
}

// checkNotRevoked refuses to point a channel at a revoked image, whatever
// the marks were when the change was planned (a revocation may have won the
// race); the change's own marks count.
func checkNotRevoked(ctx context.Context, tx *sql.Tx, c catalog.Change) error {
	own := map[string]bool{}
	for _, m := range c.Marks {
		own[m.Image] = m.Marks.Revoked
	}
	for _, m := range c.Moves {
		if m.To == "" {
			continue
		}
		revoked, planned := own[m.To]
		if !planned {
			var raw string
			err := tx.QueryRowContext(ctx, `SELECT m.marks FROM image_marks m JOIN images i ON i.id = m.image_id
				WHERE i.name = ?`, m.To).Scan(&raw)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			var marks catalog.Marks
			if raw != "" {
				if err := json.Unmarshal([]byte(raw), &marks); err != nil {
					return err
				}
			}
			revoked = marks.Revoked
		}
		if revoked {
			return fmt.Errorf("channel %s cannot point at %s: it is revoked: %w", m.Channel, m.To, catalog.ErrConflict)
		}
	}
	return nil
}

// checkHeads is the compare of compare-and-set: the transaction holds the
// write lock, so the heads stay as read until commit.
func checkHeads(ctx context.Context, tx *sql.Tx, product string, moves []catalog.Move) error {
	for _, m := range moves {
		var head string
		err := tx.QueryRowContext(ctx,
			"SELECT image FROM channel_heads WHERE product = ? AND channel = ?", product, m.Channel).Scan(&head)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if head != m.From {
			return fmt.Errorf("channel %s is at %s, not %s: %w", m.Channel, orNone(head), orNone(m.From), catalog.ErrConflict)
		}
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func insertEvent(ctx context.Context, tx *sql.Tx, e catalog.Event) (int64, error) {
	forced, _ := json.Marshal(nonNil(e.Forced))
	moves, _ := json.Marshal(orEmpty(e.Moves))
	marks, _ := json.Marshal(orEmpty(e.Marks))
	res, err := tx.ExecContext(ctx, `INSERT INTO release_events
		(product, action, image, version, channel, actor, at, reason, forced, moves, marks)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Product, e.Action, e.Image, e.Version, e.Channel, e.Actor, formatTime(e.At), e.Reason,
		string(forced), string(moves), string(marks))
	if err != nil {
		return 0, fmt.Errorf("recording event: %w", err)
	}
	return res.LastInsertId()
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func moveHeads(ctx context.Context, tx *sql.Tx, e catalog.Event) error {
	at := formatTime(e.At)
	for _, m := range e.Moves {
		if _, err := tx.ExecContext(ctx, `INSERT INTO channel_heads (product, channel, image, since) VALUES (?, ?, ?, ?)
			ON CONFLICT (product, channel) DO UPDATE SET image = excluded.image, since = excluded.since`,
			e.Product, m.Channel, m.To, at); err != nil {
			return fmt.Errorf("moving channel %s: %w", m.Channel, err)
		}
		if _, err := tx.ExecContext(ctx,
			"INSERT INTO channel_history (product, channel, image, at, event_id) VALUES (?, ?, ?, ?, ?)",
			e.Product, m.Channel, m.To, at, e.ID); err != nil {
			return fmt.Errorf("recording history of channel %s: %w", m.Channel, err)
		}
	}
	return nil
}

func writeMarks(ctx context.Context, tx *sql.Tx, marks []catalog.Mark) error {
	for _, m := range marks {
		raw, err := json.Marshal(m.Marks)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO image_marks (image_id, marks)
			SELECT id, ? FROM images WHERE name = ?
			ON CONFLICT (image_id) DO UPDATE SET marks = excluded.marks`, string(raw), m.Image); err != nil {
			return fmt.Errorf("marking %s: %w", m.Image, err)
		}
	}
	return nil
}

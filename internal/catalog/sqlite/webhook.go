package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/bakery-dev/bakery/internal/catalog"
)

// AddWebhook records a webhook. See catalog.Outbox.
func (d *DB) AddWebhook(ctx context.Context, w catalog.Webhook) (catalog.Webhook, error) {
	if err := w.Validate(); err != nil {
		return catalog.Webhook{}, fmt.Errorf("adding webhook: %w", err)
	}
	w.CreatedAt = time.Now().UTC().Truncate(time.Microsecond)
	events, _ := json.Marshal(w.Events)
	res, err := d.db.ExecContext(ctx,
		"INSERT INTO webhooks (url, events, secret, created_at) VALUES (?, ?, ?, ?)",
		w.URL, string(events), w.Secret, formatTime(w.CreatedAt))
	if err == nil {
		w.ID, err = res.LastInsertId()
	}
	if err != nil {
		return catalog.Webhook{}, fmt.Errorf("adding webhook %s: %w", w.URL, err)
	}
	return w, nil
}

// Webhooks returns every webhook. See catalog.Outbox.
func (d *DB) Webhooks(ctx context.Context) ([]catalog.Webhook, error) {
	var hooks []catalog.Webhook
	err := d.read(ctx, func(tx *sql.Tx) (err error) {
		hooks, err = webhooks(ctx, tx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listing webhooks: %w", err)
	}
	return hooks, nil
}

func webhooks(ctx context.Context, tx *sql.Tx) ([]catalog.Webhook, error) {
	return queryEach(ctx, tx, "SELECT id, url, events, secret, created_at FROM webhooks ORDER BY id",
		func(r *sql.Rows) (w catalog.Webhook, err error) {
			var events, created string
			if err = r.Scan(&w.ID, &w.URL, &events, &w.Secret, &created); err != nil {
				return w, err
			}
			if err = json.Unmarshal([]byte(events), &w.Events); err != nil {
				return w, fmt.Errorf("webhook %d: %w", w.ID, err)
			}
			w.CreatedAt, err = parseTime(created)
			return w, err
		})
}

// DeleteWebhook removes a webhook and its deliveries. See catalog.Outbox.
func (d *DB) DeleteWebhook(ctx context.Context, id int64) error {
	res, err := d.db.ExecContext(ctx, "DELETE FROM webhooks WHERE id = ?", id)
	var n int64
	if err == nil {
		n, err = res.RowsAffected()
	}
	if err == nil && n == 0 {
		err = catalog.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("deleting webhook %d: %w", id, err)
	}
	return nil
}

// enqueue queues p for every webhook that subscribes to p.Event, inside
// the transaction that records the event.
func enqueue(ctx context.Context, tx *sql.Tx, p catalog.Payload) error {
	hooks, err := webhooks(ctx, tx)
	if err != nil {
		return fmt.Errorf("queueing %s deliveries: %w", p.Event, err)
	}
	now := formatTime(time.Now())
	for _, w := range hooks {
		if !w.Wants(p.Event) {
			continue
		}
		p.ID = newDeliveryID()
		body, err := json.Marshal(p)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries
			(delivery_id, webhook_id, event, payload, state, created_at, next_attempt_at)
			VALUES (?, ?, ?, ?, 'pending', ?, ?)`, p.ID, w.ID, p.Event, body, now, now); err != nil {
			return fmt.Errorf("queueing %s delivery to webhook %d: %w", p.Event, w.ID, err)
		}
	}
	return nil
}

// newDeliveryID returns a random (version 4) UUID.
func newDeliveryID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

const deliveryColumns = `d.delivery_id, d.webhook_id, w.url, d.event, d.payload, d.state, d.attempts,
	d.created_at, d.next_attempt_at, d.last_attempt_at, d.last_status_code, d.last_error, d.delivered_at`

func scanDelivery(r *sql.Rows) (dl catalog.Delivery, err error) {
	var created, next, last, delivered string
	var payload []byte
	if err = r.Scan(&dl.ID, &dl.Webhook, &dl.URL, &dl.Event, &payload, &dl.State, &dl.Attempts,
		&created, &next, &last, &dl.LastStatusCode, &dl.LastError, &delivered); err != nil {
		return dl, err
	}
	dl.Payload = payload
	for _, f := range []struct {
		raw string
		dst *time.Time
	}{{created, &dl.CreatedAt}, {next, &dl.NextAttemptAt}, {last, &dl.LastAttemptAt}, {delivered, &dl.DeliveredAt}} {
		if f.raw == "" {
			continue
		}
		if *f.dst, err = parseTime(f.raw); err != nil {
			return dl, fmt.Errorf("delivery %s: %w", dl.ID, err)
		}
	}
	return dl, nil
}

// Deliveries lists deliveries, oldest first. See catalog.Outbox.
func (d *DB) Deliveries(ctx context.Context, f catalog.DeliveryFilter) ([]catalog.Delivery, error) {
	q := "SELECT " + deliveryColumns + ` FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
		WHERE (? = 0 OR d.webhook_id = ?) AND (? = '' OR d.state = ?) ORDER BY d.id DESC`
	args := []any{f.Webhook, f.Webhook, f.State, f.State}
	if f.Limit > 0 {
		q += " LIMIT ?"
		args = append(args, f.Limit)
	}
	var out []catalog.Delivery
	err := d.read(ctx, func(tx *sql.Tx) (err error) {
		out, err = queryEach(ctx, tx, q, scanDelivery, args...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listing webhook deliveries: %w", err)
	}
	slices.Reverse(out)
	return out, nil
}

// ClaimDeliveries claims due deliveries for one attempt each. See
// catalog.Outbox.
func (d *DB) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]catalog.Delivery, error) {
	out, err := d.claim(ctx, now, lease, limit)
	if err != nil {
		return nil, fmt.Errorf("claiming webhook deliveries: %w", err)
	}
	return out, nil
}

func (d *DB) claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]catalog.Delivery, error) {
	tx, err := d.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: claimers take turns
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	due, err := queryEach(ctx, tx, "SELECT "+deliveryColumns+` FROM webhook_deliveries d
		JOIN webhooks w ON w.id = d.webhook_id
		WHERE d.state = 'pending' AND d.next_attempt_at <= ? ORDER BY d.next_attempt_at, d.id LIMIT ?`,
		scanDelivery, formatTime(now), max(limit, 1))
	if err != nil {
		return nil, err
	}
	now = now.UTC().Truncate(time.Microsecond)
	until := now.Add(lease)
	for i := range due {
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries
			SET attempts = attempts + 1, next_attempt_at = ?, last_attempt_at = ? WHERE delivery_id = ?`,
			formatTime(until), formatTime(now), due[i].ID); err != nil {
			return nil, err
		}
		due[i].Attempts++
		due[i].NextAttemptAt, due[i].LastAttemptAt = until, now
	}
	return due, tx.Commit()
}

// RecordAttempt records how an attempt went. See catalog.Outbox.
func (d *DB) RecordAttempt(ctx context.Context, id string, a catalog.Attempt) error {
	if !slices.Contains([]string{catalog.DeliveryPending, catalog.DeliveryDelivered, catalog.DeliveryFailed}, a.State) {
		return fmt.Errorf("recording attempt of delivery %s: %w: state %q", id, catalog.ErrInvalid, a.State)
	}
	if err := d.recordAttempt(ctx, id, a); err != nil {
		return fmt.Errorf("recording attempt %d of delivery %s: %w", a.Attempt, id, err)
	}
	return nil
}

func (d *DB) recordAttempt(ctx context.Context, id string, a catalog.Attempt) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var state string
	var attempts int
	err = tx.QueryRowContext(ctx, "SELECT state, attempts FROM webhook_deliveries WHERE delivery_id = ?", id).Scan(&state, &attempts)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return catalog.ErrNotFound
	case err != nil:
		return err
	case state != catalog.DeliveryPending:
		return fmt.Errorf("delivery is already %s: %w", state, catalog.ErrConflict)
	case attempts != a.Attempt:
		return fmt.Errorf("delivery was claimed again (attempt %d): %w", attempts, catalog.ErrConflict)
	}
	next, delivered := formatTime(a.NextAttemptAt), ""
	if a.State == catalog.DeliveryDelivered {
		delivered = formatTime(a.At)
	}
	if a.State != catalog.DeliveryPending {
		next = formatTime(a.At)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET state = ?, next_attempt_at = ?,
		last_attempt_at = ?, last_status_code = ?, last_error = ?, delivered_at = ? WHERE delivery_id = ?`,
		a.State, next, formatTime(a.At), a.StatusCode, a.Error, delivered, id); err != nil {
		return err
	}
	return tx.Commit()
}

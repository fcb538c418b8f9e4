-- Webhooks and their outbox: a delivery row per subscribed webhook is
-- written in the transaction that adds the image or applies the release
-- change it announces; the deliverer claims due rows (a lease in
-- next_attempt_at), posts them and records the outcome.

CREATE TABLE webhooks (
	id         INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: listings name webhooks by ID
	url        TEXT    NOT NULL,
	events     TEXT    NOT NULL, -- JSON array of event names
	secret     TEXT    NOT NULL,
	created_at TEXT    NOT NULL
) STRICT;

CREATE TABLE webhook_deliveries (
	id               INTEGER PRIMARY KEY AUTOINCREMENT,
	delivery_id      TEXT    NOT NULL UNIQUE, -- random, sent as X-Bakery-Delivery
	webhook_id       INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
	event            TEXT    NOT NULL,
	payload          BLOB    NOT NULL, -- the JSON body, fixed at enqueue
	state            TEXT    NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
	attempts         INTEGER NOT NULL DEFAULT 0,
	created_at       TEXT    NOT NULL,
	next_attempt_at  TEXT    NOT NULL,
	last_attempt_at  TEXT    NOT NULL DEFAULT '',
	last_status_code INTEGER NOT NULL DEFAULT 0,
	last_error       TEXT    NOT NULL DEFAULT '',
	delivered_at     TEXT    NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at, id);
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, id);

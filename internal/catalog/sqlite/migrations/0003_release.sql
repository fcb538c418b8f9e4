-- Release state: what the release process said about images (marks), where
-- each product's channels point (heads, moved by compare-and-set), every
-- move of a head (history) and the audit log of release actions (events).
-- Images are named by text: the audit log outlives deleted images.

CREATE TABLE image_marks (
	image_id INTEGER PRIMARY KEY REFERENCES images (id) ON DELETE CASCADE,
	marks    TEXT    NOT NULL -- JSON catalog.Marks
) STRICT;

CREATE TABLE release_events (
	id      INTEGER PRIMARY KEY,
	product TEXT    NOT NULL,
	action  TEXT    NOT NULL,
	image   TEXT    NOT NULL,
	version TEXT    NOT NULL,
	channel TEXT    NOT NULL,
	actor   TEXT    NOT NULL,
	at      TEXT    NOT NULL,
	reason  TEXT    NOT NULL,
	forced  TEXT    NOT NULL DEFAULT '[]', -- JSON array of gate names
	moves   TEXT    NOT NULL DEFAULT '[]', -- JSON array of catalog.Move
	marks   TEXT    NOT NULL DEFAULT '[]'  -- JSON array of catalog.Mark
) STRICT;

CREATE INDEX release_events_by_product ON release_events (product, id);

CREATE TABLE channel_heads (
	product TEXT NOT NULL,
	channel TEXT NOT NULL,
	image   TEXT NOT NULL, -- '' when emptied
	since   TEXT NOT NULL,
	PRIMARY KEY (product, channel)
) STRICT;

CREATE TABLE channel_history (
	id       INTEGER PRIMARY KEY,
	product  TEXT    NOT NULL,
	channel  TEXT    NOT NULL,
	image    TEXT    NOT NULL,
	at       TEXT    NOT NULL,
	event_id INTEGER NOT NULL REFERENCES release_events (id)
) STRICT;

CREATE INDEX channel_history_by_channel ON channel_history (product, channel, id);

-- Boot-test (QA) verdicts: one qa_runs row per `bakery test` of an image,
-- with its boots, checks and the artifacts it kept (report, JUnit, consoles).
-- Release gates ask for the latest run of an image: qa_runs_by_image.

CREATE TABLE qa_runs (
	id             INTEGER PRIMARY KEY,
	image_id       INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,
	tested_at      TEXT    NOT NULL,
	passed         INTEGER NOT NULL,
	accel          TEXT    NOT NULL,
	firmwares      TEXT    NOT NULL DEFAULT '[]', -- JSON array of strings, boot order
	boot_to_ssh_ns INTEGER NOT NULL,
	duration_ns    INTEGER NOT NULL
) STRICT;

CREATE INDEX qa_runs_by_image ON qa_runs (image_id, tested_at DESC, id DESC);

CREATE TABLE qa_boots (
	run_id         INTEGER NOT NULL REFERENCES qa_runs (id) ON DELETE CASCADE,
	position       INTEGER NOT NULL,
	firmware       TEXT    NOT NULL,
	passed         INTEGER NOT NULL,
	boot_to_ssh_ns INTEGER NOT NULL,
	PRIMARY KEY (run_id, position)
) STRICT;

CREATE TABLE qa_checks (
	run_id      INTEGER NOT NULL REFERENCES qa_runs (id) ON DELETE CASCADE,
	position    INTEGER NOT NULL,
	name        TEXT    NOT NULL,
	firmware    TEXT    NOT NULL,
	passed      INTEGER NOT NULL,
	skipped     INTEGER NOT NULL,
	duration_ns INTEGER NOT NULL,
	evidence    TEXT    NOT NULL,
	PRIMARY KEY (run_id, position)
) STRICT;

CREATE TABLE qa_artifacts (
	run_id   INTEGER NOT NULL REFERENCES qa_runs (id) ON DELETE CASCADE,
	position INTEGER NOT NULL,
	kind     TEXT    NOT NULL,
	filename TEXT    NOT NULL,
	digest   TEXT    NOT NULL,
	size     INTEGER NOT NULL,
	PRIMARY KEY (run_id, position),
	UNIQUE (run_id, filename)
) STRICT;

CREATE INDEX qa_artifacts_by_digest ON qa_artifacts (digest);

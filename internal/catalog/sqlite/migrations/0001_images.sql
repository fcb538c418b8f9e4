-- Images, what they produced, what they contain and how their hygiene checks went.
-- Times are UTC text "YYYY-MM-DDTHH:MM:SS.ffffffZ" (fixed width, so they sort).

CREATE TABLE images (
	id                INTEGER PRIMARY KEY,
	name              TEXT    NOT NULL UNIQUE,
	product           TEXT    NOT NULL,
	version           TEXT    NOT NULL,
	serial            TEXT    NOT NULL,
	distro            TEXT    NOT NULL,
	release           TEXT    NOT NULL,
	arch              TEXT    NOT NULL,
	build_id          TEXT    NOT NULL,
	recipe_digest     TEXT    NOT NULL,
	recipe            BLOB,
	created_at        TEXT    NOT NULL,
	build_duration_ns INTEGER NOT NULL,
	tools             TEXT    NOT NULL DEFAULT '{}', -- JSON object: tool -> version
	UNIQUE (product, serial)
) STRICT;

CREATE INDEX images_by_created ON images (created_at DESC, name);
CREATE INDEX images_by_product_created ON images (product, created_at DESC, name);

CREATE TABLE artifacts (
	image_id INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,
	position INTEGER NOT NULL,
	kind     TEXT    NOT NULL,
	filename TEXT    NOT NULL,
	digest   TEXT    NOT NULL,
	size     INTEGER NOT NULL,
	PRIMARY KEY (image_id, position),
	UNIQUE (image_id, filename)
) STRICT;

-- Which images reference a blob (garbage collection, verification).
CREATE INDEX artifacts_by_digest ON artifacts (digest);

CREATE TABLE packages (
	image_id INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,
	position INTEGER NOT NULL,
	name     TEXT    NOT NULL,
	version  TEXT    NOT NULL,
	arch     TEXT    NOT NULL,
	PRIMARY KEY (image_id, position),
	UNIQUE (image_id, name, arch)
) STRICT;

-- Which images contain a package (security releases).
CREATE INDEX packages_by_name ON packages (name, version);

CREATE TABLE hygiene_checks (
	image_id INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,
	position INTEGER NOT NULL,
	name     TEXT    NOT NULL,
	passed   INTEGER NOT NULL,
	detail   TEXT    NOT NULL,
	found    TEXT    NOT NULL DEFAULT '[]', -- JSON array of strings
	PRIMARY KEY (image_id, position)
) STRICT;

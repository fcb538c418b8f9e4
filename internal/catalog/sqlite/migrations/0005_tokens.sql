-- API bearer tokens: only the SHA-256 of each token is kept. A revoked
-- token keeps its row (and its name) so the audit log's "token:NAME"
-- stays unambiguous.

CREATE TABLE api_tokens (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	name       TEXT NOT NULL UNIQUE,
	role       TEXT NOT NULL,
	hash       TEXT NOT NULL UNIQUE,
	created_at TEXT NOT NULL,
	expires_at TEXT NOT NULL DEFAULT '', -- '': never
	revoked_at TEXT NOT NULL DEFAULT ''  -- '': not revoked
) STRICT;

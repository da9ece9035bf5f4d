-- keywatch schema, version 1, for both stores. {{blob}} becomes BLOB for
-- SQLite and BYTEA for PostgreSQL (schema.Migrations); everything else is
-- the same SQL. Times are Unix microseconds, UTC.

CREATE TABLE keys (
	id              TEXT PRIMARY KEY,
	provider        TEXT NOT NULL DEFAULT '',
	name            TEXT NOT NULL DEFAULT '',
	owner           TEXT NOT NULL DEFAULT '',
	team            TEXT NOT NULL DEFAULT '',
	service         TEXT NOT NULL DEFAULT '',
	env             TEXT NOT NULL DEFAULT '',
	oncall          TEXT,            -- JSON object
	created         BIGINT,
	expires         BIGINT,
	rotated         BIGINT,
	status          TEXT NOT NULL DEFAULT 'active',
	models          TEXT,            -- JSON array
	operations      TEXT,            -- JSON array
	countries       TEXT,            -- JSON array
	cidrs           TEXT,            -- JSON array
	quotas          TEXT,            -- JSON object
	labels          TEXT,            -- JSON object
	provider_key_id TEXT NOT NULL DEFAULT '',
	fingerprint     TEXT NOT NULL DEFAULT '',
	last4           TEXT NOT NULL DEFAULT '',
	redacted        TEXT NOT NULL DEFAULT '',
	last_used       BIGINT,
	updated_at      BIGINT
);
CREATE INDEX keys_fingerprint ON keys (fingerprint);
CREATE INDEX keys_service ON keys (service);
CREATE INDEX keys_status ON keys (status);

-- Fingerprints of secrets rotated away, oldest first (pos), so that a leaked
-- old secret still maps to its key.
CREATE TABLE key_fingerprints (
	key_id      TEXT NOT NULL REFERENCES keys (id) ON DELETE CASCADE,
	fingerprint TEXT NOT NULL,
	pos         BIGINT NOT NULL,
	retired_at  BIGINT,
	PRIMARY KEY (key_id, fingerprint)
);
CREATE INDEX key_fingerprints_fingerprint ON key_fingerprints (fingerprint);

CREATE TABLE alerts (
	id      TEXT PRIMARY KEY,
	time    BIGINT,
	key_id  TEXT NOT NULL DEFAULT '',
	rule    TEXT NOT NULL DEFAULT '',
	status  TEXT NOT NULL DEFAULT 'open',
	service TEXT NOT NULL DEFAULT '',
	body    TEXT NOT NULL        -- the whole alert, JSON
);
CREATE INDEX alerts_time ON alerts (time, id);
CREATE INDEX alerts_key_id ON alerts (key_id, time);
CREATE INDEX alerts_status ON alerts (status, time);

-- The append-only, hash-chained audit log (keywatch.AuditEntry). detail is
-- TEXT so that the bytes the hash covers are kept exactly.
CREATE TABLE audit (
	seq       BIGINT PRIMARY KEY,
	time      BIGINT NOT NULL,
	actor     TEXT NOT NULL,
	action    TEXT NOT NULL,
	subject   TEXT NOT NULL,
	reason    TEXT NOT NULL,
	detail    TEXT,
	prev_hash TEXT NOT NULL,
	hash      TEXT NOT NULL
);

CREATE TABLE snapshots (
	name       TEXT PRIMARY KEY,
	data       {{blob}} NOT NULL,
	updated_at BIGINT NOT NULL
);

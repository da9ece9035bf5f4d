-- API tokens of keywatch itself (keywatch.Token). Only the SHA-256 of a
-- token's secret is kept.
CREATE TABLE tokens (
	id      TEXT PRIMARY KEY,
	name    TEXT NOT NULL DEFAULT '',
	role    TEXT NOT NULL,
	hash    TEXT NOT NULL UNIQUE,
	created BIGINT NOT NULL,
	revoked BIGINT
);

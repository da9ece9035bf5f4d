-- What detection observed of each key's use (keywatch.KeyUsage as JSON):
-- the environments, models and operations seen, for keys audit.
CREATE TABLE key_usage (
	key_id TEXT PRIMARY KEY REFERENCES keys (id) ON DELETE CASCADE,
	usage  TEXT NOT NULL
);

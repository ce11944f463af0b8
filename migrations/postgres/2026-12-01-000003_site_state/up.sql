-- One row: a counter bumped by every write that can change what the public reads. Public
-- responses cached in the server are valid while it (and the latest publication time that
-- has come) stays the same.
CREATE TABLE site_state (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    generation BIGINT NOT NULL
);
INSERT INTO site_state (id, generation) VALUES (1, 0);

-- Delta sync: every change to an article stamps it with the generation of that change (the
-- row lock on site_state orders generations as commits). A scheduled article is stamped again
-- when its time has come (pending_live); an article removed for good leaves a tombstone.
ALTER TABLE articles ADD COLUMN sync_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE articles ADD COLUMN pending_live BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX articles_sync_idx ON articles (sync_seq, id);
CREATE INDEX articles_pending_live_idx ON articles (pending_live, published_at);
CREATE TABLE article_tombstones (
    article_id INTEGER PRIMARY KEY,
    sync_seq   BIGINT NOT NULL
);
CREATE INDEX article_tombstones_sync_idx ON article_tombstones (sync_seq, article_id);

-- The event log: every change anyone else can observe, appended in the transaction of the
-- change. `seq` comes from site_state.generation, bumped under the one write lock, so seqs
-- follow commit order with no gaps. `public` marks what the public stream carries.
CREATE TABLE events (
    seq              BIGINT PRIMARY KEY,
    type             TEXT NOT NULL,
    -- When it happened: the commit, or for a scheduled publication the scheduled time.
    occurred_at      TIMESTAMP NOT NULL,
    -- When it was written (retention goes by this).
    recorded_at      TIMESTAMP NOT NULL,
    actor_id         INTEGER,
    article_id       INTEGER,
    article_slug     TEXT,
    article_status   TEXT,
    article_language TEXT,
    topic_id         INTEGER,
    topic_slug       TEXT,
    author_id        INTEGER,
    author_slug      TEXT,
    -- A JSON array of field names, or NULL.
    changed          TEXT,
    public           BOOLEAN NOT NULL,
    -- The surrogate keys a public event invalidates, space-separated (src/keys.rs).
    purge_keys       TEXT
);
-- One index beside the key, for the log of one article. The public stream reads by seq (most
-- events are public); retention, once a day, may scan.
CREATE INDEX events_article_idx ON events (article_id, seq);

-- The last seq removed by retention: a reader asking for less is told to resync (410).
ALTER TABLE site_state ADD COLUMN purged_through BIGINT NOT NULL DEFAULT 0;

-- Whether the public has ever been able to read the article: its permanent deletion is then
-- public news (the stream, delta sync's `removed`).
ALTER TABLE articles ADD COLUMN was_public BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE articles SET was_public = TRUE
    WHERE status = 'published' AND deleted_at IS NULL AND published_at <= CURRENT_TIMESTAMP;

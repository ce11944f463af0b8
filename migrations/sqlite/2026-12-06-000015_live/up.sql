-- Live blogs: an article's format, and a live one's state.
ALTER TABLE articles ADD COLUMN format TEXT NOT NULL DEFAULT 'standard';
ALTER TABLE articles ADD COLUMN live_state TEXT;
ALTER TABLE articles ADD COLUMN live_started_at TIMESTAMP;
ALTER TABLE articles ADD COLUMN live_ended_at TIMESTAMP;
-- Breaking news: marked at, and shown until.
ALTER TABLE articles ADD COLUMN breaking_at TIMESTAMP;
ALTER TABLE articles ADD COLUMN breaking_until TIMESTAMP;
CREATE INDEX articles_breaking_idx ON articles (breaking_until);

-- The entries of live articles, newest first by their time.
CREATE TABLE live_entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    title TEXT,
    body TEXT NOT NULL,
    key_event BOOLEAN NOT NULL DEFAULT FALSE,
    pinned BOOLEAN NOT NULL DEFAULT FALSE,
    published_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by INTEGER REFERENCES users (id),
    version INTEGER NOT NULL
);
CREATE INDEX live_entries_time_idx ON live_entries (article_id, published_at, id);
CREATE INDEX live_entries_key_idx ON live_entries (article_id, key_event, published_at, id);

-- Each entry's earlier states, as articles keep theirs.
CREATE TABLE live_entry_revisions (
    entry_id INTEGER NOT NULL REFERENCES live_entries (id) ON DELETE CASCADE,
    revision INTEGER NOT NULL,
    title TEXT,
    body TEXT NOT NULL,
    key_event BOOLEAN NOT NULL,
    pinned BOOLEAN NOT NULL,
    published_at TIMESTAMP NOT NULL,
    changed_at TIMESTAMP NOT NULL,
    changed_by INTEGER REFERENCES users (id),
    PRIMARY KEY (entry_id, revision)
);

-- Events name the entry they are about.
ALTER TABLE events ADD COLUMN entry_id INTEGER;

-- Cards now show the format, the live state and the breaking time: rendered anew at start.
DELETE FROM article_cards;

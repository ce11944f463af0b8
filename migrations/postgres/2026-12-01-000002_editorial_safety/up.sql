-- Revisions: the state an article had before each change, who changed it and when.
CREATE TABLE article_revisions (
    id           SERIAL PRIMARY KEY,
    article_id   INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    -- 1, 2, 3, ... per article, in the order of the changes.
    revision     INTEGER NOT NULL,
    -- The article's version while it had this state.
    version      INTEGER NOT NULL,
    slug         TEXT NOT NULL,
    title        TEXT NOT NULL,
    subtitle     TEXT,
    summary      TEXT,
    body         TEXT NOT NULL,
    status       TEXT NOT NULL,
    published_at TIMESTAMP,
    -- JSON arrays of ids, in order.
    topic_ids    TEXT NOT NULL,
    author_ids   TEXT NOT NULL,
    changed_by   INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at   TIMESTAMP NOT NULL,
    UNIQUE (article_id, revision)
);

-- Trash: articles.deleted_at (already present) marks a trashed article; the purge finds old ones.
CREATE INDEX articles_trash_idx ON articles (deleted_at);

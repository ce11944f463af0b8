-- Timestamps are UTC, stored as TIMESTAMP (without time zone) so that one diesel code path
-- serves PostgreSQL and SQLite alike.

CREATE TABLE users (
    id               SERIAL PRIMARY KEY,
    email            TEXT NOT NULL UNIQUE,
    name             TEXT NOT NULL,
    slug             TEXT NOT NULL UNIQUE,
    bio              TEXT,
    role             TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'author')),
    password_hash    TEXT NOT NULL,
    active           BOOLEAN NOT NULL DEFAULT TRUE,
    -- Bumped whenever every live session of the user must end (password change, deactivation).
    token_generation INTEGER NOT NULL DEFAULT 0,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);

CREATE TABLE topics (
    id          SERIAL PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    description TEXT,
    parent_id   INTEGER REFERENCES topics (id) ON DELETE RESTRICT,
    position    INTEGER NOT NULL DEFAULT 0,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
CREATE INDEX topics_parent_idx ON topics (parent_id, position);

CREATE TABLE articles (
    id                   SERIAL PRIMARY KEY,
    slug                 TEXT NOT NULL UNIQUE,
    title                TEXT NOT NULL,
    subtitle             TEXT,
    summary              TEXT,
    body                 TEXT NOT NULL,
    -- A scheduled article is stored as 'published' with a future published_at: it turns public
    -- at that instant with no background job.
    status               TEXT NOT NULL CHECK (status IN ('draft', 'review', 'published', 'archived')),
    published_at         TIMESTAMP,
    language             TEXT NOT NULL DEFAULT 'en',
    primary_topic_id     INTEGER REFERENCES topics (id) ON DELETE SET NULL,
    cover_image_url      TEXT,
    cover_image_alt      TEXT,
    cover_image_caption  TEXT,
    cover_image_credit   TEXT,
    source               TEXT,
    seo_title            TEXT,
    seo_description      TEXT,
    seo_canonical_url    TEXT,
    word_count           INTEGER NOT NULL DEFAULT 0,
    reading_time_minutes INTEGER NOT NULL DEFAULT 0,
    version              INTEGER NOT NULL DEFAULT 1,
    created_by           INTEGER REFERENCES users (id) ON DELETE SET NULL,
    deleted_at           TIMESTAMP,
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL
);
-- The public feed: status = 'published' AND published_at <= now ORDER BY published_at DESC, id DESC.
CREATE INDEX articles_feed_idx ON articles (status, published_at, id);
CREATE INDEX articles_language_feed_idx ON articles (language, status, published_at, id);
CREATE INDEX articles_updated_idx ON articles (updated_at, id);

-- feed_published_at mirrors articles.published_at while the article is published and is NULL
-- otherwise, so a topic or author feed is one range scan of these indexes.
-- article_topics holds an article's own topics (direct) and all their ancestors (not direct), so
-- a topic's feed and article count include its descendants without walking the tree.
CREATE TABLE article_topics (
    article_id        INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    topic_id          INTEGER NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    position          INTEGER NOT NULL DEFAULT 0,
    direct            BOOLEAN NOT NULL DEFAULT TRUE,
    feed_published_at TIMESTAMP,
    PRIMARY KEY (article_id, topic_id)
);
CREATE INDEX article_topics_feed_idx ON article_topics (topic_id, feed_published_at, article_id);

CREATE TABLE article_authors (
    article_id        INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    user_id           INTEGER NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    position          INTEGER NOT NULL DEFAULT 0,
    feed_published_at TIMESTAMP,
    PRIMARY KEY (article_id, user_id)
);
CREATE INDEX article_authors_feed_idx ON article_authors (user_id, feed_published_at, article_id);

CREATE TABLE related_links (
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    target_id  INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    relation   TEXT NOT NULL DEFAULT 'related'
        CHECK (relation IN ('related', 'follow_up', 'background', 'correction', 'opinion')),
    position   INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (article_id, target_id),
    CHECK (article_id <> target_id)
);
CREATE INDEX related_links_order_idx ON related_links (article_id, position);
CREATE INDEX related_links_target_idx ON related_links (target_id);

-- Former slugs of articles, answered with a redirect to the current one.
CREATE TABLE article_slugs (
    slug       TEXT PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX article_slugs_article_idx ON article_slugs (article_id);

-- Opaque refresh tokens, stored as SHA-256 hashes. A family is one sign-in's rotation chain.
CREATE TABLE refresh_tokens (
    id         SERIAL PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id  TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at    TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

-- Failed sign-ins, for throttling by account and by client address.
CREATE TABLE login_failures (
    id         SERIAL PRIMARY KEY,
    email      TEXT NOT NULL,
    client_ip  TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX login_failures_email_idx ON login_failures (email, created_at);
CREATE INDEX login_failures_ip_idx ON login_failures (client_ip, created_at);

-- Full-text search: one document per article, in the article's language where PostgreSQL has a
-- stemmer for it (english, russian), else 'simple'. Written by the application on every change.
CREATE TABLE article_search (
    article_id INTEGER PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
    document   TSVECTOR NOT NULL
);
CREATE INDEX article_search_document_idx ON article_search USING GIN (document);

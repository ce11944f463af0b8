-- The photo library (src/media). Each item's files are named from `name`, 128 random bits in
-- hex: the original `<name>.<ext>`, renditions `<name>-<width>w.<ext>`, crops
-- `<name>-<aspect>-<focal>-<width>w.<ext>` (src/media/files.rs), so nobody can guess them and a
-- name always stands for the same bytes.
CREATE TABLE media (
    id          SERIAL PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    -- What the bytes are: jpeg, png, webp or gif (src/media/process.rs).
    format      TEXT NOT NULL CHECK (format IN ('jpeg', 'png', 'webp', 'gif')),
    width       INTEGER NOT NULL,
    height      INTEGER NOT NULL,
    -- The size of the stored original.
    bytes       BIGINT NOT NULL,
    alt         TEXT,
    caption     TEXT,
    credit      TEXT,
    -- The focal point, 0..1 from the left and from the top; the middle by default.
    focal_x     DOUBLE PRECISION NOT NULL,
    focal_y     DOUBLE PRECISION NOT NULL,
    blurhash    TEXT NOT NULL,
    -- Whether every rendition of the current focal point is stored.
    ready       BOOLEAN NOT NULL,
    -- alt, caption and credit, lowercased: what `q` matches.
    search_text TEXT NOT NULL,
    uploaded_by INTEGER NOT NULL REFERENCES users (id),
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
CREATE INDEX media_created_idx ON media (created_at DESC, id DESC);
CREATE INDEX media_uploader_idx ON media (uploaded_by, created_at DESC, id DESC);

ALTER TABLE events ADD COLUMN media_id INTEGER;

-- A cover from the library; `cover_image_url` is then null and the cover_image_* texts override
-- the photo's own. No foreign key: deleting a photo clears it from drafts in the same
-- transaction and is refused (409) while a published article shows it.
ALTER TABLE articles ADD COLUMN cover_media_id INTEGER;
CREATE INDEX articles_cover_media_idx ON articles (cover_media_id) WHERE cover_media_id IS NOT NULL;

-- The photos of the library an article's body shows (its <img> tags), written with the body:
-- a photo a published article shows is not deleted (409).
CREATE TABLE article_media (
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    media_id   INTEGER NOT NULL REFERENCES media (id) ON DELETE CASCADE,
    PRIMARY KEY (article_id, media_id)
);
CREATE INDEX article_media_media_idx ON article_media (media_id, article_id);

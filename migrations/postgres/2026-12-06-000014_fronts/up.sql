-- Fronts: curated pages (the home page, section fronts). A front's sections are one JSON
-- document, written whole by each PUT and read whole by each read.
CREATE TABLE fronts (
    -- SERIAL where SQLite has INTEGER PRIMARY KEY AUTOINCREMENT.
    id SERIAL PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    sections TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    updated_by INTEGER REFERENCES users (id)
);
-- The end of each pinned item: the clock of public caches moves at the earliest to come.
CREATE TABLE front_pins (
    front_id INTEGER NOT NULL REFERENCES fronts (id) ON DELETE CASCADE,
    pinned_until TIMESTAMP NOT NULL,
    PRIMARY KEY (front_id, pinned_until)
);
CREATE INDEX front_pins_until_idx ON front_pins (pinned_until);
-- The photos fronts show in place of a cover: a change of one changes those fronts.
CREATE TABLE front_media (
    front_id INTEGER NOT NULL REFERENCES fronts (id) ON DELETE CASCADE,
    media_id INTEGER NOT NULL,
    PRIMARY KEY (front_id, media_id)
);
CREATE INDEX front_media_media_idx ON front_media (media_id);
-- Events name the front they are about.
ALTER TABLE events ADD COLUMN front_id INTEGER;
ALTER TABLE events ADD COLUMN front_slug TEXT;

DROP TABLE events;
ALTER TABLE site_state DROP COLUMN purged_through;
ALTER TABLE articles DROP COLUMN was_public;

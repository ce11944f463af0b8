ALTER TABLE events DROP COLUMN media_id;
DROP TABLE media;

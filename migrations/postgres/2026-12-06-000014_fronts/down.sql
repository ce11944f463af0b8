ALTER TABLE events DROP COLUMN front_slug;
ALTER TABLE events DROP COLUMN front_id;
DROP TABLE front_media;
DROP TABLE front_pins;
DROP TABLE fronts;

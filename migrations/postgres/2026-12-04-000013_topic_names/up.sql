-- A topic's name and description in other languages: JSON objects by BCP 47 tag.
ALTER TABLE topics ADD COLUMN names TEXT NOT NULL DEFAULT '{}';
ALTER TABLE topics ADD COLUMN descriptions TEXT NOT NULL DEFAULT '{}';

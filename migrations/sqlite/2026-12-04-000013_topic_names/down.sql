ALTER TABLE topics DROP COLUMN descriptions;
ALTER TABLE topics DROP COLUMN names;

DROP INDEX articles_translation_idx;
ALTER TABLE articles DROP COLUMN translation_group;
DROP TABLE translation_groups;

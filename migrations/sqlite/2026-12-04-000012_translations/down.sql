DROP INDEX article_cards_translation_idx;
ALTER TABLE article_cards DROP COLUMN translation_group;
DROP INDEX articles_translation_idx;
ALTER TABLE articles DROP COLUMN translation_group;
DROP TABLE translation_groups;

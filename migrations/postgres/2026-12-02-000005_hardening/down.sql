ALTER TABLE article_search DROP COLUMN visible_at;

-- Search pools hold only what the caller may read. The public time of each document (its feed
-- time: the publication time while published and out of the trash) sits beside it, so the GIN
-- scan filters within this table. SQLite joins `articles` instead (its FTS5 table is
-- contentless and holds no other columns).
ALTER TABLE article_search ADD COLUMN visible_at TIMESTAMP;
UPDATE article_search SET visible_at = articles.published_at
    FROM articles
    WHERE articles.id = article_search.article_id
      AND articles.status = 'published' AND articles.deleted_at IS NULL;

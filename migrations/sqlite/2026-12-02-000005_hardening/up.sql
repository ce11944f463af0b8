-- Search pools hold only what the caller may read: SQLite joins `articles` (its FTS5 table is
-- contentless and holds no other columns), where PostgreSQL keeps a `visible_at` beside each
-- document. Nothing to change here.
SELECT 1;

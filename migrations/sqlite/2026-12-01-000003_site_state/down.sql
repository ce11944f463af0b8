DROP TABLE article_tombstones;
DROP INDEX articles_pending_live_idx;
DROP INDEX articles_sync_idx;
ALTER TABLE articles DROP COLUMN pending_live;
ALTER TABLE articles DROP COLUMN sync_seq;
DROP TABLE site_state;

DROP INDEX articles_trash_idx;
DROP TABLE article_revisions;

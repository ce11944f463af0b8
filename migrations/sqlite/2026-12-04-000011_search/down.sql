DROP TABLE article_search_visible;
DROP TABLE article_texts;
DROP TABLE article_search;
CREATE VIRTUAL TABLE article_search USING fts5(
    title, summary, body,
    content = '', contentless_delete = 1,
    tokenize = 'porter unicode61 remove_diacritics 2'
);

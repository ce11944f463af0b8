-- Search terms are made by the application (Snowball stemming in the article's language, the
-- same on both databases) and indexed as they are: the tokenizer only splits on spaces. The
-- documents are rebuilt at start-up from the articles (every article without a row in
-- article_texts). Rowid is the article id; contentless: the text lives in articles.
DROP TABLE article_search;
CREATE VIRTUAL TABLE article_search USING fts5(
    title, summary, body,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 0'
);

-- The plain text of each article's body, for search snippets.
CREATE TABLE article_texts (
    article_id INTEGER PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
    body_text  TEXT NOT NULL
);

-- When each document is public (the article's feed time: while published and out of the
-- trash), in rows narrow enough that a public search checks its 1,000 candidates in a few
-- pages instead of reading 1,000 articles. PostgreSQL keeps this in article_search.
CREATE TABLE article_search_visible (
    article_id INTEGER PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
    visible_at TIMESTAMP
);

-- Search terms are made by the application (Snowball stemming in the article's language, the
-- same on both databases) and indexed as they are ('simple'). The documents are rebuilt at
-- start-up from the articles (every article without a row in article_texts).
DELETE FROM article_search;

-- The plain text of each article's body, for search snippets.
CREATE TABLE article_texts (
    article_id INTEGER PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
    body_text  TEXT NOT NULL
);

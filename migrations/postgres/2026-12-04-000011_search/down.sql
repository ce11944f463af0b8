DROP TABLE article_texts;

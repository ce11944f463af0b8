-- Translations: articles in one group are the same story in other languages, one per language.
CREATE TABLE translation_groups (
    id SERIAL PRIMARY KEY
);
ALTER TABLE articles ADD COLUMN translation_group INTEGER REFERENCES translation_groups (id);
CREATE UNIQUE INDEX articles_translation_idx ON articles (translation_group, language);

-- Feeds show each group once in a reader's preferred language: the cards know their group.
ALTER TABLE article_cards ADD COLUMN translation_group INTEGER;
CREATE INDEX article_cards_translation_idx ON article_cards (translation_group, public_from);

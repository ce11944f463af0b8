-- Translations: articles in one group are the same story in other languages, one per language.
CREATE TABLE translation_groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT
);
ALTER TABLE articles ADD COLUMN translation_group INTEGER REFERENCES translation_groups (id);
CREATE UNIQUE INDEX articles_translation_idx ON articles (translation_group, language);

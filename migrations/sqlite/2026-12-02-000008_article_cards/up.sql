-- Each article's card: its summary as the public sees it (the JSON a feed item, a related item
-- or the head of its page shows) and the surrogate keys of that card, space-separated, with
-- what the public lists filter and order by: `public_from` is the publication time while the
-- article is published and out of the trash (NULL otherwise), so it is public at `now` exactly
-- when `public_from <= now`. Written in the transaction of every change that alters it
-- (`changes::Tx`), so a public list reads one narrow row per item, and never the article, its
-- topics or its bylines. Built for the articles already stored at start-up
-- (`articles::cards::build_missing`).
CREATE TABLE article_cards (
    article_id  INTEGER PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
    public_from TIMESTAMP,
    language    TEXT NOT NULL,
    card        TEXT NOT NULL,
    keys        TEXT NOT NULL
);
CREATE INDEX article_cards_public_idx ON article_cards (public_from, article_id);
CREATE INDEX article_cards_language_idx ON article_cards (language, public_from, article_id);

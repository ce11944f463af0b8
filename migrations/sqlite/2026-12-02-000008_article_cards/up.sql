-- Each article's card: its summary as the public sees it (the JSON a feed item, a related item
-- or the head of its page shows) and the surrogate keys of that card, space-separated. Written
-- in the transaction of every change that alters it (`changes::Tx`), so public lists read one
-- narrow row per item instead of the article, its topics and its bylines. Built for the
-- articles already stored at start-up (`articles::cards::build_missing`).
CREATE TABLE article_cards (
    article_id INTEGER PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
    card       TEXT NOT NULL,
    keys       TEXT NOT NULL
);

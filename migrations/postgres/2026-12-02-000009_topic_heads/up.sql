-- Each topic's head: its newest articles filed under it directly that are published and out
-- of the trash (scheduled ones included, at their time), newest first, at most 64, each with
-- its publication time and its own topics, as JSON `[[article_id, unix_micros, [topic_id,
-- ...]], ...]`; `complete` when that is all of them. Related suggestions are ranked from the
-- heads of an article's topics in one statement instead of reading each topic's feed index
-- and every candidate's topics (`topics::heads`). Written in the transaction of every change
-- to an article's topics or feed time (`articles::cards::refresh`); a topic without a row has
-- no such article. Built for topics that lack one at start-up.
CREATE TABLE topic_heads (
    topic_id INTEGER PRIMARY KEY REFERENCES topics (id) ON DELETE CASCADE,
    entries  TEXT NOT NULL,
    complete BOOLEAN NOT NULL
);

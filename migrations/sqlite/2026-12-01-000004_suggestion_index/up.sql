-- Related suggestions read the newest articles filed directly under a topic (not those that
-- inherit it from a subtopic): a partial index keeps that a range scan of direct rows only.
CREATE INDEX article_topics_direct_feed_idx
    ON article_topics (topic_id, feed_published_at, article_id) WHERE direct;

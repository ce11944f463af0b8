DROP TABLE topic_heads;

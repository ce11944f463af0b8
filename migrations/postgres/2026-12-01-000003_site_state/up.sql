-- One row: a counter bumped by every write that can change what the public reads. Public
-- responses cached in the server are valid while it (and the latest publication time that
-- has come) stays the same.
CREATE TABLE site_state (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    generation BIGINT NOT NULL
);
INSERT INTO site_state (id, generation) VALUES (1, 0);

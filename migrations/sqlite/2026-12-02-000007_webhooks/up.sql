-- Webhooks: endpoints subscribed to events, the messages the dispatcher made for them from the
-- event log (one per event and endpoint), and each attempt to deliver one.
CREATE TABLE webhooks (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    url             TEXT NOT NULL,
    -- JSON arrays: event types (or "*"), topic ids (NULL: every topic).
    events          TEXT NOT NULL,
    topic_ids       TEXT,
    description     TEXT,
    active          BOOLEAN NOT NULL DEFAULT TRUE,
    disabled_reason TEXT,
    -- The signing secret, as handed out once (whsec_...).
    secret          TEXT NOT NULL,
    -- Since when every attempt has failed (NULL: the last one succeeded).
    failing_since   TIMESTAMP,
    -- It is told of the events after this seq (set when made and when enabled again).
    after_seq       BIGINT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);

CREATE TABLE webhook_messages (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The webhook-id header: the same for every attempt.
    message_id      TEXT NOT NULL UNIQUE,
    webhook_id      INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    -- The event it carries (NULL for a ping).
    seq             BIGINT,
    type            TEXT NOT NULL,
    -- The exact body sent, the same for every attempt.
    body            TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    -- A delivery worker holds it until then (a crash lets it go again).
    claimed_until   TIMESTAMP,
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX webhook_messages_due_idx ON webhook_messages (status, next_attempt_at);
CREATE INDEX webhook_messages_webhook_idx ON webhook_messages (webhook_id, id);

CREATE TABLE webhook_attempts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id   INTEGER NOT NULL REFERENCES webhook_messages (id) ON DELETE CASCADE,
    attempted_at TIMESTAMP NOT NULL,
    status_code  INTEGER,
    error        TEXT,
    duration_ms  INTEGER NOT NULL,
    -- The first 1 KiB of the response body.
    response     TEXT
);
CREATE INDEX webhook_attempts_message_idx ON webhook_attempts (message_id, id);

-- How far the webhook dispatcher and the CDN purger have read the event log; the purger's
-- lease (one process at a time) and its back-off.
ALTER TABLE site_state ADD COLUMN webhooks_through BIGINT NOT NULL DEFAULT 0;
ALTER TABLE site_state ADD COLUMN purges_through BIGINT NOT NULL DEFAULT 0;
ALTER TABLE site_state ADD COLUMN purge_lease_until TIMESTAMP;
ALTER TABLE site_state ADD COLUMN purge_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE site_state ADD COLUMN purge_retry_at TIMESTAMP;
-- Both start where the log stands: events before them had no subscribers.
UPDATE site_state SET webhooks_through = generation, purges_through = generation;

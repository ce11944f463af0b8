DROP TABLE webhook_attempts;
DROP TABLE webhook_messages;
DROP TABLE webhooks;
ALTER TABLE site_state DROP COLUMN webhooks_through;
ALTER TABLE site_state DROP COLUMN purges_through;
ALTER TABLE site_state DROP COLUMN purge_lease_until;
ALTER TABLE site_state DROP COLUMN purge_failures;
ALTER TABLE site_state DROP COLUMN purge_retry_at;

-- Up Migration
-- Notification delivery (spec §6, §7.4) and read receipts; row-level security as in 0006.

-- One row per email/sms/push notification still waiting for delivery; deleted when it ends sent,
-- failed or dlq. The delivery worker's dispatcher publishes a row's next attempt to RabbitMQ once
-- next_attempt_at has come (a retry waits out retryDelayMs of spec §7.4 here), and publishes it
-- again if that message seems lost (dispatched long ago, attempt still not made): a crash between
-- the API's insert and its publish, or a broker that lost the message, delays a notification but
-- never loses it.
CREATE TABLE notification_deliveries (
  tenant_id          uuid        NOT NULL,
  notification_id    uuid        NOT NULL REFERENCES notifications ON DELETE CASCADE,
  next_attempt_at    timestamptz NOT NULL DEFAULT now(),
  -- The attempt number last published to the delivery queue (0: none yet).
  dispatched_attempt integer     NOT NULL DEFAULT 0 CHECK (dispatched_attempt >= 0),
  dispatched_at      timestamptz,
  PRIMARY KEY (tenant_id, notification_id),
  UNIQUE (notification_id)
);
CREATE INDEX notification_deliveries_due ON notification_deliveries (next_attempt_at);

-- Every delivery attempt, for operators and for the tests that prove the retry schedule.
-- outcome: sent; retry (failed, next attempt after retry_delay_ms); failed (permanent error, no
-- retry); dlq (failed and it was the last attempt).
CREATE TABLE notification_attempts (
  tenant_id       uuid        NOT NULL,
  notification_id uuid        NOT NULL REFERENCES notifications ON DELETE CASCADE,
  attempt         integer     NOT NULL CHECK (attempt > 0),
  channel         text        NOT NULL,
  started_at      timestamptz NOT NULL,
  finished_at     timestamptz NOT NULL,
  outcome         text        NOT NULL CHECK (outcome IN ('sent', 'retry', 'failed', 'dlq')),
  error           text,
  retry_delay_ms  integer     CHECK (retry_delay_ms >= 0),
  PRIMARY KEY (tenant_id, notification_id, attempt),
  CHECK ((outcome = 'retry') = (retry_delay_ms IS NOT NULL))
);

-- A notification addressed to one user keeps its read time in notifications.read_at; one for the
-- whole tenant (user_id null) is read per user, here.
CREATE TABLE notification_reads (
  tenant_id       uuid        NOT NULL,
  notification_id uuid        NOT NULL REFERENCES notifications ON DELETE CASCADE,
  user_id         uuid        NOT NULL,
  read_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, notification_id, user_id),
  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX notification_reads_user ON notification_reads (tenant_id, user_id);

-- The inbox pages a user's own and the tenant-wide in_app notifications (two index scans merged).
CREATE INDEX notifications_inbox_in_app ON notifications (tenant_id, user_id, created_at DESC, id DESC)
  WHERE channel = 'in_app';

GRANT SELECT, INSERT, UPDATE ON notification_deliveries TO farmiq_app;
GRANT SELECT ON notification_attempts TO farmiq_app;
GRANT SELECT, INSERT ON notification_reads TO farmiq_app;

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['notification_deliveries', 'notification_attempts', 'notification_reads'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format(
      'CREATE POLICY tenant_isolation ON %I TO PUBLIC
         USING (tenant_id = nullif(current_setting(''farmiq.tenant_id'', true), '''')::uuid)
         WITH CHECK (tenant_id = nullif(current_setting(''farmiq.tenant_id'', true), '''')::uuid)', t);
  END LOOP;
END
$$;

-- Down Migration
DROP INDEX notifications_inbox_in_app;
DROP TABLE notification_reads;
DROP TABLE notification_attempts;
DROP TABLE notification_deliveries;

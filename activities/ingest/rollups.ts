/**
 * Publishes closed telemetry rollup windows as `telemetry.aggregated` events (spec §8.1).
 *
 * The MQTT bridge keeps telemetry_rollup current inside each ingest transaction and bumps
 * `revision` on every change. A window is published once it has been closed for the grace period;
 * a late reading after that bumps the revision again and the window is published once more with
 * the new revision (the cloud keeps the highest).
 *
 * Exactly-once into the outbox comes from the rollup row itself: the window is locked, appended and
 * marked `published_revision = revision` in one transaction, so a (window, revision) is appended
 * once. sync_outbox deliberately has no unique index on (tenant_id, event_id) (it would cost the
 * ingest path a quarter of its rate); the event_id is still derived from window and revision, so
 * even a repeated append would be one event to the cloud's (tenant_id, event_id) dedupe.
 *
 * One window never holds up the others: a window whose event the database refuses to store (or
 * whose row it refuses to mark) is narrowed out of the batch inside the same transaction, logged
 * with its key and marked published without an event — the rest of the batch commits, and the
 * window is not selected first on every later run. Transient failures are thrown as they are (the
 * edgeDatabase preset retries them); a refusal that cannot be narrowed to a window (the select
 * itself) is a non-retryable DataRefused (activities/failures.ts).
 */
import type { Pool, PoolClient } from 'pg';
import { ApplicationFailure, log } from '@temporalio/activity';
import { isDataRefusal, refusalReason } from '../../db/errors';
import { farmEventSchema, type TelemetryAggregatedEvent } from '../../domain/contracts';
import { uuidV5 } from '../../domain/ids';
import { inSavepoint, inTransaction } from '../../db/transaction';
import { appendEvents, outboxEvent, outboxPriority } from '../../sync/outbox';
import { markRollupsPublished, selectClosedRollups, type RollupRow } from '../../ingest/telemetry-rollup';
import { narrowRefusals } from '../../db/narrow';
import { refusalsAreFinal } from '../failures';

export interface PublishClosedRollupsInput {
  /** A window is published once it ended at least this long ago (late readings grace). */
  graceSeconds: number;
  /** Most windows published in one transaction. */
  limit: number;
  /** trace_id of the events; the workflow passes one that names its run. */
  traceId: string;
}

export interface PublishClosedRollupsResult {
  /** Windows appended to the outbox and marked published. */
  published: number;
  /** Windows whose envelope failed validation: logged, marked published, not sent (see below). */
  invalid: number;
  /**
   * Windows the database refused to store the event of (or to mark): logged with the refusal,
   * marked published where it allowed that, not sent. Absent when none.
   */
  refused?: number;
  /** The batch was full, so more closed windows may be waiting. */
  hasMore: boolean;
}

/** The event a closed window becomes. Pure: the same row and revision always give the same event. */
export function rollupEvent(row: RollupRow, traceId: string): TelemetryAggregatedEvent {
  const windowStart = row.bucket_start.toISOString();
  const windowEnd = row.bucket_end.toISOString();
  const count = Number(row.reading_count);
  // '|' cannot occur in any of these (topic segments, a uuid, an ISO time), so the key is unambiguous.
  const key = [row.tenant_id, row.farm_id, row.barn_id, row.device_id, row.metric, row.bucket_width, windowStart, row.revision].join('|');
  return {
    schema_version: '1.0',
    event_id: uuidV5(key),
    trace_id: traceId,
    event_type: 'telemetry.aggregated',
    tenant_id: row.tenant_id,
    device_id: row.device_id,
    ts: windowEnd,
    payload: {
      farm_id: row.farm_id,
      barn_id: row.barn_id,
      metric: row.metric,
      unit: row.unit,
      window: row.bucket_width,
      window_start: windowStart,
      window_end: windowEnd,
      count,
      mean: row.value_sum / count,
      min: row.value_min,
      max: row.value_max,
      revision: row.revision,
    },
  };
}

/** The key of a window, for logs. */
function windowKey(row: RollupRow) {
  return {
    tenantId: row.tenant_id,
    farmId: row.farm_id,
    barnId: row.barn_id,
    deviceId: row.device_id,
    metric: row.metric,
    window: row.bucket_width,
    windowStart: row.bucket_start instanceof Date && !Number.isNaN(row.bucket_start.getTime()) ? row.bucket_start.toISOString() : String(row.bucket_start),
    revision: row.revision,
  };
}

interface Window {
  row: RollupRow;
  /** Absent when the window does not make a valid event. */
  event?: TelemetryAggregatedEvent;
}

/** Appends the windows' events and marks the windows published; returns the events appended. */
async function writeWindows(client: PoolClient, windows: readonly Window[]): Promise<number> {
  const events = windows.flatMap((w) => (w.event ? [w.event] : []));
  await appendEvents(
    client,
    events.map((e) => outboxEvent(e, outboxPriority.normal, e.payload.window_end)),
  );
  if (windows.length > 0)
    await markRollupsPublished(
      client,
      windows.map((w) => w.row),
    );
  return events.length;
}

export function createRollupActivities({ pool, edgeId }: { pool: Pool; edgeId: string }) {
  /** The windows the database refused: marked published without an event where it allows that. */
  async function quarantine(client: PoolClient, refused: readonly { item: Window; err: unknown }[]): Promise<void> {
    for (const { item, err } of refused) {
      let marked = true;
      try {
        await inSavepoint(client, () => markRollupsPublished(client, [item.row]));
      } catch (markErr) {
        if (!isDataRefusal(markErr)) throw markErr;
        marked = false;
      }
      log.error(
        marked
          ? 'the database refused to store this rollup window; marked published without an event, the rest of the batch goes on'
          : 'the database refused to store this rollup window, and to mark it; it is narrowed out of every run that selects it',
        { edgeId, ...windowKey(item.row), reason: refusalReason(err), err: (err as Error).message },
      );
    }
  }

  return {
    async publishClosedRollups({ graceSeconds, limit, traceId }: PublishClosedRollupsInput): Promise<PublishClosedRollupsResult> {
      if (!Number.isInteger(limit) || limit < 1 || !(graceSeconds >= 0) || !traceId) {
        throw ApplicationFailure.nonRetryable(
          `publishClosedRollups needs limit >= 1, graceSeconds >= 0 and a traceId (got ${limit}, ${graceSeconds}, ${JSON.stringify(traceId)})`,
          'InvalidRollupRequest',
        );
      }
      // The statement timeout is well inside the activity's start-to-close timeout, so a stuck query
      // fails this attempt (and is retried) instead of running on beside the next attempt.
      return refusalsAreFinal('publishClosedRollups', async () => {
        const { result, selected } = await inTransaction(
          pool,
          async (client) => {
            const rows = await selectClosedRollups(client, graceSeconds, limit);

            const windows: Window[] = [];
            let invalid = 0;
            for (const row of rows) {
              let event: TelemetryAggregatedEvent | undefined;
              let issue: string | undefined;
              try {
                event = rollupEvent(row, traceId);
                const check = farmEventSchema.safeParse(event);
                if (!check.success) issue = check.error.issues[0]?.message;
              } catch (err) {
                // A time JavaScript cannot print (a row written by hand): no event either.
                issue = (err as Error).message;
              }
              if (issue === undefined) {
                windows.push({ row, event });
              } else {
                // Cannot happen for rows the bridge wrote from valid readings, short of a sum that
                // overflows to Infinity. Such a window is logged with its key and marked published:
                // left unpublished it would be selected first on every run and block the rest.
                invalid++;
                windows.push({ row });
                log.error('rollup window does not make a valid telemetry.aggregated event; not published', { edgeId, ...windowKey(row), issue });
              }
            }

            let published = 0;
            let refused = 0;
            if (windows.length > 0) {
              try {
                published = await inSavepoint(client, () => writeWindows(client, windows));
              } catch (err) {
                if (!isDataRefusal(err)) throw err;
                const n = await narrowRefusals(windows, (part) => inSavepoint(client, () => writeWindows(client, part)));
                published = n.changed;
                refused = n.refused.length;
                await quarantine(client, n.refused);
              }
            }
            const result: PublishClosedRollupsResult = { published, invalid, ...(refused > 0 ? { refused } : {}), hasMore: rows.length === limit };
            return { result, selected: rows.length };
          },
          { statementTimeout: '20s' },
        );
        if (selected > 0) log.info('published telemetry rollups', { edgeId, ...result });
        return result;
      });
    },
  };
}

export type RollupActivities = ReturnType<typeof createRollupActivities>;

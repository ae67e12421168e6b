/**
 * The farm server's record of the downlink (migration edge/0011): the only writer of
 * downlink_commands and downlink_device_passwords. A command's row is inserted in the transaction
 * that applies it (./applier.ts), so "is it recorded?" answers "was it applied?" exactly.
 */
import type { Queryable } from '../../db/transaction';
import type { CommandOutcome, EdgeCommand } from '../../domain/downlink/commands';

export interface RecordedCommand {
  commandId: string;
  seq: number;
  tenantId: string;
  type: string;
  payload: unknown;
  createdBy: string;
  createdAt: Date;
  status: 'applied' | 'refused';
  result: string;
  appliedAt: Date;
  hasEffect: boolean;
  effectDoneAt: Date | null;
  effectAttempts: number;
  effectError: string | null;
  reportedAt: Date | null;
}

interface CommandRow {
  command_id: string;
  seq: string;
  tenant_id: string;
  type: string;
  payload: unknown;
  created_by: string;
  created_at: Date;
  status: 'applied' | 'refused';
  result: string;
  applied_at: Date;
  has_effect: boolean;
  effect_done_at: Date | null;
  effect_attempts: number;
  effect_error: string | null;
  reported_at: Date | null;
}

const columns = `command_id::text, seq, tenant_id::text, type, payload, created_by, created_at, status, result, applied_at,
  has_effect, effect_done_at, effect_attempts, effect_error, reported_at`;

const toRecorded = (r: CommandRow): RecordedCommand => ({
  commandId: r.command_id,
  seq: Number(r.seq),
  tenantId: r.tenant_id,
  type: r.type,
  payload: r.payload,
  createdBy: r.created_by,
  createdAt: r.created_at,
  status: r.status,
  result: r.result,
  appliedAt: r.applied_at,
  hasEffect: r.has_effect,
  effectDoneAt: r.effect_done_at,
  effectAttempts: r.effect_attempts,
  effectError: r.effect_error,
  reportedAt: r.reported_at,
});

/** The command as recorded, locked for the rest of the transaction (a concurrent apply of it waits). */
export async function findCommand(tx: Queryable, commandId: string): Promise<RecordedCommand | undefined> {
  const { rows } = await tx.query<CommandRow>(`SELECT ${columns} FROM downlink_commands WHERE command_id = $1 FOR UPDATE`, [commandId]);
  return rows[0] ? toRecorded(rows[0]) : undefined;
}

/**
 * Records the command first thing in its transaction. False when it is already there (another
 * apply of the same command got there first; this one must do nothing).
 */
export async function recordCommand(
  tx: Queryable,
  edgeId: string,
  c: EdgeCommand,
  outcome: { status: 'applied' | 'refused'; result: string; hasEffect: boolean },
): Promise<boolean> {
  const r = await tx.query(
    `INSERT INTO downlink_commands (command_id, edge_id, seq, tenant_id, type, payload, created_by, created_at, status, result, has_effect)
     VALUES ($1, $11, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (command_id) DO NOTHING`,
    [
      c.command_id,
      c.seq,
      c.tenant_id,
      c.type,
      JSON.stringify(c.payload ?? null),
      c.created_by,
      c.created_at,
      outcome.status,
      outcome.result,
      outcome.hasEffect,
      edgeId,
    ],
  );
  return r.rowCount === 1;
}

/** Sets the outcome of a command recorded earlier in the same transaction (the handler ran after the record). */
export async function settleCommand(
  tx: Queryable,
  commandId: string,
  outcome: { status: 'applied' | 'refused'; result: string; hasEffect: boolean },
): Promise<void> {
  await tx.query('UPDATE downlink_commands SET status = $2, result = $3, has_effect = $4 WHERE command_id = $1', [
    commandId,
    outcome.status,
    outcome.result,
    outcome.hasEffect,
  ]);
}

/** The highest seq recorded for the edge id: the cloud answers the commands after it. */
export async function highestSeq(q: Queryable, edgeId: string): Promise<number> {
  const { rows } = await q.query<{ seq: string | null }>('SELECT max(seq) AS seq FROM downlink_commands WHERE edge_id = $1', [edgeId]);
  return Number(rows[0]?.seq ?? 0);
}

/** Outcomes the cloud has not been told yet, oldest first; an applied command only once its effect is done. */
export async function unreportedOutcomes(q: Queryable, edgeId: string, limit: number): Promise<CommandOutcome[]> {
  const { rows } = await q.query<{ command_id: string; status: 'applied' | 'refused'; result: string; applied_at: Date }>(
    `SELECT command_id::text, status, result, applied_at FROM downlink_commands
     WHERE edge_id = $1 AND reported_at IS NULL AND (NOT has_effect OR effect_done_at IS NOT NULL)
     ORDER BY seq LIMIT $2`,
    [edgeId, limit],
  );
  return rows.map((r) => ({ command_id: r.command_id, status: r.status, result: r.result, applied_at: r.applied_at.toISOString() }));
}

export async function markReported(q: Queryable, commandIds: readonly string[]): Promise<void> {
  if (commandIds.length === 0) return;
  await q.query('UPDATE downlink_commands SET reported_at = now() WHERE command_id = ANY($1::uuid[]) AND reported_at IS NULL', [commandIds]);
}

/** The cloud sent the command again: it has not got the outcome, so tell it again. */
export async function markUnreported(q: Queryable, commandId: string): Promise<void> {
  await q.query('UPDATE downlink_commands SET reported_at = NULL WHERE command_id = $1', [commandId]);
}

/** Applied commands whose effect has not succeeded yet, in seq order. */
export async function pendingEffects(q: Queryable, edgeId: string, limit: number): Promise<RecordedCommand[]> {
  const { rows } = await q.query<CommandRow>(
    `SELECT ${columns} FROM downlink_commands WHERE edge_id = $1 AND has_effect AND effect_done_at IS NULL ORDER BY seq LIMIT $2`,
    [edgeId, limit],
  );
  return rows.map(toRecorded);
}

export async function markEffectDone(q: Queryable, commandId: string): Promise<void> {
  await q.query('UPDATE downlink_commands SET effect_done_at = now(), effect_attempts = effect_attempts + 1, effect_error = NULL WHERE command_id = $1', [
    commandId,
  ]);
}

export async function markEffectFailed(q: Queryable, commandId: string, error: string): Promise<void> {
  await q.query('UPDATE downlink_commands SET effect_attempts = effect_attempts + 1, effect_error = $2 WHERE command_id = $1', [
    commandId,
    error.slice(0, 1000),
  ]);
}

/** The farm server's recent downlink, newest first (operator views, tests). */
export async function listRecordedCommands(q: Queryable, edgeId: string, limit = 100): Promise<RecordedCommand[]> {
  const { rows } = await q.query<CommandRow>(`SELECT ${columns} FROM downlink_commands WHERE edge_id = $1 ORDER BY seq DESC LIMIT $2`, [edgeId, limit]);
  return rows.map(toRecorded);
}

export interface DevicePassword {
  tenantId: string;
  farmId: string;
  barnId: string;
  deviceId: string;
  username: string;
  password: string;
  commandId: string;
  createdAt: Date;
}

/** Keeps the password a device.provision made (a re-provision replaces it). */
export async function keepDevicePassword(tx: Queryable, p: Omit<DevicePassword, 'createdAt'>): Promise<void> {
  await tx.query('DELETE FROM downlink_device_passwords WHERE username = $1', [p.username]);
  await tx.query(
    `INSERT INTO downlink_device_passwords (tenant_id, farm_id, barn_id, device_id, username, password, command_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (tenant_id, farm_id, barn_id, device_id)
     DO UPDATE SET username = EXCLUDED.username, password = EXCLUDED.password, command_id = EXCLUDED.command_id, created_at = now()`,
    [p.tenantId, p.farmId, p.barnId, p.deviceId, p.username, p.password, p.commandId],
  );
}

const passwordColumns = 'tenant_id::text, farm_id, barn_id, device_id, username, password, command_id::text, created_at';
type PasswordRow = {
  tenant_id: string;
  farm_id: string;
  barn_id: string;
  device_id: string;
  username: string;
  password: string;
  command_id: string;
  created_at: Date;
};
const toPassword = (r: PasswordRow): DevicePassword => ({
  tenantId: r.tenant_id,
  farmId: r.farm_id,
  barnId: r.barn_id,
  deviceId: r.device_id,
  username: r.username,
  password: r.password,
  commandId: r.command_id,
  createdAt: r.created_at,
});

/** The password the command stored (what its effect provisions the broker with). */
export async function devicePasswordOfCommand(q: Queryable, commandId: string): Promise<DevicePassword | undefined> {
  const { rows } = await q.query<PasswordRow>(`SELECT ${passwordColumns} FROM downlink_device_passwords WHERE command_id = $1`, [commandId]);
  return rows[0] ? toPassword(rows[0]) : undefined;
}

/** The password of a device the downlink provisioned, for `farmiq devices show` on the farm server. */
export async function devicePassword(q: Queryable, username: string): Promise<DevicePassword | undefined> {
  const { rows } = await q.query<PasswordRow>(`SELECT ${passwordColumns} FROM downlink_device_passwords WHERE username = $1`, [username]);
  return rows[0] ? toPassword(rows[0]) : undefined;
}

/** Forgets the passwords kept for the tenant's device (any barn); the usernames they were for. */
export async function forgetDevicePasswords(tx: Queryable, tenantId: string, deviceId: string): Promise<string[]> {
  const { rows } = await tx.query<{ username: string }>('DELETE FROM downlink_device_passwords WHERE tenant_id = $1 AND device_id = $2 RETURNING username', [
    tenantId,
    deviceId,
  ]);
  return rows.map((r) => r.username);
}

/**
 * The tenants this farm server serves: EDGE_TENANTS when set, else those it already holds devices
 * or flocks of (read, not written, here).
 */
export async function servedTenants(q: Queryable, configured: readonly string[]): Promise<Set<string>> {
  if (configured.length > 0) return new Set(configured.map((t) => t.toLowerCase()));
  const { rows } = await q.query<{ tenant_id: string }>('SELECT tenant_id::text FROM edge_devices UNION SELECT tenant_id::text FROM flocks');
  return new Set(rows.map((r) => r.tenant_id));
}

/**
 * db/transaction.ts, the one transaction kit, against the real edge test database: commit,
 * rollback on a throw, the broken-connection policy (a connection whose ROLLBACK failed is
 * destroyed, a healthy one goes back to the pool), the transaction-local settings (statement
 * timeout, RLS tenant, read only) and savepoints.
 */
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { inSavepoint, inTransaction } from '../../db/transaction';
import { testEdgeDatabaseUrl } from '../support/stack';

const table = `tx_kit_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
let pool: Pool;

beforeAll(async () => {
  // One connection: whether the next transaction gets the same backend says what became of it.
  pool = new Pool({ connectionString: testEdgeDatabaseUrl, max: 1 });
  pool.on('error', () => undefined);
  await pool.query(`CREATE TABLE ${table} (v text PRIMARY KEY)`);
});

afterAll(async () => {
  await pool.query(`DROP TABLE IF EXISTS ${table}`);
  await pool.end();
});

beforeEach(async () => {
  await pool.query(`TRUNCATE ${table}`);
});

async function values(): Promise<string[]> {
  const { rows } = await pool.query<{ v: string }>(`SELECT v FROM ${table} ORDER BY v`);
  return rows.map((r) => r.v);
}

async function backendPid(): Promise<number> {
  return inTransaction(pool, async (c) => (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid);
}

test('commits the work and returns its result', async () => {
  const result = await inTransaction(pool, async (c) => {
    await c.query(`INSERT INTO ${table} VALUES ('a'), ('b')`);
    return 'done';
  });
  expect(result).toBe('done');
  expect(await values()).toEqual(['a', 'b']);
});

test('rolls back when the work throws, rethrows its error, and gives the healthy connection back', async () => {
  const before = await backendPid();
  const released: (Error | undefined)[] = [];
  const onRelease = (err: Error | undefined) => released.push(err);
  pool.on('release', onRelease);
  const boom = new Error('boom');
  await expect(
    inTransaction(pool, async (c) => {
      await c.query(`INSERT INTO ${table} VALUES ('a')`);
      throw boom;
    }),
  ).rejects.toBe(boom);
  pool.off('release', onRelease);
  expect(released).toEqual([undefined]);
  expect(await values()).toEqual([]);
  expect(pool.totalCount).toBe(1);
  expect(await backendPid()).toBe(before);
});

test('a statement the database refuses rolls back the whole transaction; the connection is reused', async () => {
  const before = await backendPid();
  await expect(
    inTransaction(pool, async (c) => {
      await c.query(`INSERT INTO ${table} VALUES ('a')`);
      await c.query(`INSERT INTO ${table} VALUES ('a')`);
    }),
  ).rejects.toMatchObject({ code: '23505' });
  expect(await values()).toEqual([]);
  expect(await backendPid()).toBe(before);
});

test('a connection whose ROLLBACK fails is destroyed, not returned to the pool', async () => {
  const before = await backendPid();
  const released: (Error | undefined)[] = [];
  const onRelease = (err: Error | undefined) => released.push(err);
  pool.on('release', onRelease);
  // The backend ends itself mid-transaction: the statement fails, and so does the ROLLBACK after it.
  const failure = inTransaction(pool, async (c) => {
    await c.query(`INSERT INTO ${table} VALUES ('a')`);
    await c.query('SELECT pg_terminate_backend(pg_backend_pid())');
  });
  await expect(failure).rejects.toMatchObject({ code: '57P01' });
  pool.off('release', onRelease);
  // Released with an error: pg-pool destroys the client.
  expect(released).toHaveLength(1);
  expect(released[0]).toBeInstanceOf(Error);
  expect(pool.totalCount).toBe(0);
  const after = await backendPid();
  expect(after).not.toBe(before);
  expect(await values()).toEqual([]);
});

test('statementTimeout bounds each statement of this transaction only', async () => {
  const before = await backendPid();
  await expect(inTransaction(pool, (c) => c.query('SELECT pg_sleep(2)'), { statementTimeout: '100ms' })).rejects.toMatchObject({ code: '57014' });
  // The timeout ended with the transaction, and the connection is healthy.
  const { pid, timeout } = await inTransaction(pool, async (c) => {
    const { rows } = await c.query<{ pid: number; timeout: string }>(`SELECT pg_backend_pid() AS pid, current_setting('statement_timeout') AS timeout`);
    return rows[0];
  });
  expect(pid).toBe(before);
  expect(timeout).toBe('0');
  const inside = await inTransaction(pool, async (c) => (await c.query<{ t: string }>(`SELECT current_setting('statement_timeout') AS t`)).rows[0].t, {
    statementTimeout: '20s',
  });
  expect(inside).toBe('20s');
});

test('settings are local to the transaction (the RLS tenant of auth/tenant-db.ts)', async () => {
  const tenant = randomUUID();
  const seen = await inTransaction(pool, async (c) => (await c.query<{ t: string }>(`SELECT current_setting('farmiq.tenant_id', true) AS t`)).rows[0].t, {
    settings: { 'farmiq.tenant_id': tenant },
  });
  expect(seen).toBe(tenant);
  const after = await inTransaction(
    pool,
    async (c) => (await c.query<{ t: string | null }>(`SELECT current_setting('farmiq.tenant_id', true) AS t`)).rows[0].t,
  );
  expect(after ?? '').toBe('');
});

test('readOnly refuses writes', async () => {
  await expect(inTransaction(pool, (c) => c.query(`INSERT INTO ${table} VALUES ('a')`), { readOnly: true })).rejects.toMatchObject({ code: '25006' });
  expect(await inTransaction(pool, async (c) => (await c.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n, { readOnly: true })).toBe(0);
});

describe('inSavepoint', () => {
  test('a failure undoes the savepoint alone; the rest of the transaction commits', async () => {
    await inTransaction(pool, async (c) => {
      await c.query(`INSERT INTO ${table} VALUES ('a')`);
      await expect(
        inSavepoint(c, async () => {
          await c.query(`INSERT INTO ${table} VALUES ('b')`);
          await c.query(`INSERT INTO ${table} VALUES ('a')`); // duplicate key
        }),
      ).rejects.toMatchObject({ code: '23505' });
      await c.query(`INSERT INTO ${table} VALUES ('c')`);
    });
    expect(await values()).toEqual(['a', 'c']);
  });

  test('success keeps the work and returns its result; savepoints nest', async () => {
    const result = await inTransaction(pool, (c) =>
      inSavepoint(c, async () => {
        await c.query(`INSERT INTO ${table} VALUES ('outer')`);
        await expect(inSavepoint(c, () => c.query(`INSERT INTO ${table} VALUES ('outer')`))).rejects.toMatchObject({ code: '23505' });
        await inSavepoint(c, () => c.query(`INSERT INTO ${table} VALUES ('inner')`));
        return 7;
      }),
    );
    expect(result).toBe(7);
    expect(await values()).toEqual(['inner', 'outer']);
  });
});

/**
 * The demo's sign-in details, generated once per install and kept in $FARMIQ_HOME/demo/
 * (mode 0600 like secrets.env), so `make down` / `make up` and a reset keep the same sign-in. The
 * users themselves live in the cloud database (auth/admin.ts ensureUser sets these passwords).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Role } from '../auth/roles';
import { newOperatorToken } from '../gateways/http/operator-credentials';

/** The tenant's name; its id is the farm description's tenant_id (demo/farm.json). */
export const demoTenantName = 'FarmIQ demo';

const accountsSchema = z.object({
  users: z.array(z.object({ role: z.enum(['admin', 'operator', 'viewer']), email: z.string(), password: z.string().min(16) })).length(3),
  /** The farm server's operator API token of the demo operator (edge_operators keeps its hash). */
  edge_operator: z.object({ name: z.string(), token: z.string().min(32) }),
});

export type DemoAccounts = z.infer<typeof accountsSchema>;

export function demoPaths(farmiqHome: string) {
  const dir = path.join(farmiqHome, 'demo');
  return {
    dir,
    accountsFile: path.join(dir, 'accounts.json'),
    /** The farm server's Ed25519 key the cloud registered for it (EDGE_SIGNING_KEY_FILE). */
    edgeKeyFile: path.join(dir, 'edge-key.pem'),
    /** Present once the history was played, so a second `make up` does not play it again. */
    backfillMarker: path.join(dir, 'backfill.json'),
  };
}

const secret = (bytes: number) => randomBytes(bytes).toString('base64url');

function newAccounts(): DemoAccounts {
  const roles: Role[] = ['admin', 'operator', 'viewer'];
  return {
    users: roles.map((role) => ({ role: role, email: `${role}@demo.farmiq.local`, password: secret(12) })),
    edge_operator: { name: 'demo-operator', token: newOperatorToken() },
  };
}

/** Reads the accounts file, or writes a new one (exclusive create, so two starts agree). */
export function demoAccounts(farmiqHome: string): DemoAccounts {
  const { dir, accountsFile } = demoPaths(farmiqHome);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!fs.existsSync(accountsFile)) {
    try {
      fs.writeFileSync(accountsFile, `${JSON.stringify(newAccounts(), null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  const parsed = accountsSchema.safeParse(JSON.parse(fs.readFileSync(accountsFile, 'utf8')));
  if (!parsed.success) throw new Error(`${accountsFile} is not a demo accounts file (${parsed.error.issues[0]?.message}); remove the demo and start again`);
  return parsed.data;
}

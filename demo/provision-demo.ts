/**
 * Brings the demo farm into being, idempotently, before the FarmIQ processes start (`make up`,
 * `farmiq demo provision`): on the cloud side the demo tenant, its admin, operator and viewer, the
 * farm and its barns, and this farm server registered for the tenant with its signing key; on the
 * farm server the simulated farm's flocks and device credentials (simulator/provision.ts), the
 * broker's password file re-rendered and reloaded, and an operator token. Running it again changes
 * nothing that exists, so a second `make up` finds the same sign-in and no duplicate data.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Pool } from 'pg';
import { ensureNamedTenant, ensureUser } from '../auth/admin';
import { addEdgeTenant, edgeExists, provisionEdge, rotateEdgeKey } from '../cloud/edges';
import { createBarn, createFarm, DirectoryRefusal } from '../cloud/farm-directory';
import type { Settings } from '../config/settings';
import { addOperator, listOperators } from '../gateways/http/operator-credentials';
import { breeds } from '../simulator/models/breeds';
import { provisionConfiguredFarm, type FarmDescription } from '../simulator';
import { demoAccounts, demoPaths, demoTenantName, type DemoAccounts } from './demo-accounts';

export interface DemoProvisioned {
  tenantId: string;
  farmId: string;
  barns: string[];
  accounts: DemoAccounts;
  edgeKeyFile: string;
  devicesProvisioned: number;
  flocksPlaced: number;
  edgeRegistered: 'new' | 'existing' | 'key_rotated';
}

/** A farm-directory row that is already there is the demo from an earlier run. */
async function unlessExists(work: () => Promise<unknown>): Promise<void> {
  try {
    await work();
  } catch (err) {
    if (!(err instanceof DirectoryRefusal && (err.code === 'farm_exists' || err.code === 'barn_exists'))) throw err;
  }
}

function farmSpecies(farm: FarmDescription): 'broiler' | 'swine' {
  // farms.species is one per farm; each barn's flock carries its own, which the KPIs use.
  return breeds[farm.barns[0].flock.breed].species;
}

async function provisionCloud(cloud: Pool, s: Settings, farm: FarmDescription, accounts: DemoAccounts, edgeKeyFile: string) {
  await ensureNamedTenant(cloud, { id: farm.tenant_id, name: demoTenantName });
  for (const u of accounts.users) {
    await ensureUser(cloud, { tenantId: farm.tenant_id, email: u.email, role: u.role, displayName: `Demo ${u.role}`, password: u.password });
  }
  await unlessExists(() =>
    createFarm(cloud, { tenantId: farm.tenant_id, farmId: farm.farm_id, name: 'Demo farm', species: farmSpecies(farm), timezone: farm.time_zone }),
  );
  for (const b of farm.barns) {
    await unlessExists(() => createBarn(cloud, { tenantId: farm.tenant_id, farmId: farm.farm_id, barnId: b.barn_id, name: b.name ?? b.barn_id }));
  }
  // The farm server's cloud identity: registered once; a lost key file gets a new key.
  let edgeRegistered: DemoProvisioned['edgeRegistered'] = 'existing';
  let pem: string | undefined;
  if (!(await edgeExists(cloud, s.EDGE_ID))) {
    pem = (await provisionEdge(cloud, { edgeId: s.EDGE_ID, tenants: [farm.tenant_id], name: 'demo farm server' })).privateKeyPem;
    edgeRegistered = 'new';
  } else {
    await addEdgeTenant(cloud, s.EDGE_ID, farm.tenant_id);
    // A farm server with a key of its own (EDGE_SIGNING_KEY_FILE elsewhere) keeps it: only the demo's own is replaced.
    const ownKey = s.EDGE_SIGNING_KEY_FILE !== undefined && path.resolve(s.EDGE_SIGNING_KEY_FILE) !== path.resolve(edgeKeyFile);
    if (!ownKey && !fs.existsSync(edgeKeyFile)) {
      pem = (await rotateEdgeKey(cloud, s.EDGE_ID)).privateKeyPem;
      edgeRegistered = 'key_rotated';
    }
  }
  if (pem) {
    fs.writeFileSync(`${edgeKeyFile}.tmp`, pem, { mode: 0o600 });
    fs.renameSync(`${edgeKeyFile}.tmp`, edgeKeyFile);
  }
  return edgeRegistered;
}

export async function provisionDemo(edge: Pool, cloud: Pool, s: Settings): Promise<DemoProvisioned> {
  const paths = demoPaths(s.FARMIQ_HOME);
  const accounts = demoAccounts(s.FARMIQ_HOME);
  const provisioned = await provisionConfiguredFarm(edge, s);
  const { farm } = provisioned;
  const edgeRegistered = await provisionCloud(cloud, s, farm, accounts, paths.edgeKeyFile);
  const operators = await listOperators(edge);
  if (!operators.some((o) => o.name === accounts.edge_operator.name)) await addOperator(edge, accounts.edge_operator);

  return {
    tenantId: farm.tenant_id,
    farmId: farm.farm_id,
    barns: farm.barns.map((b) => b.barn_id),
    accounts,
    edgeKeyFile: paths.edgeKeyFile,
    devicesProvisioned: provisioned.devicesProvisioned,
    flocksPlaced: provisioned.flocksPlaced,
    edgeRegistered,
  };
}

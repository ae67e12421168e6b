/**
 * `farmiq demo`: the living demo farm `make up` brings (FARMIQ_DEMO=0 switches it off) —
 * provision it (idempotent: the same sign-in every time), play its history once, show its sign-in
 * details, remove it, or reset it. demo/ holds the logic; this file only reads and prints.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { repoRoot } from '../../config/local-secrets';
import { demoAccounts, demoPaths } from '../../demo/demo-accounts';
import { provisionDemo } from '../../demo/provision-demo';
import { demoRemovedMarker, removeDemo } from '../../demo/remove-demo';
import { loadFarmDescription, simulatorSettings } from '../../simulator';
import type { CliContext, CommandGroup } from '../context';
import { notFound } from '../errors';
import { backfill, countRows, parseDays } from './simulator';
import { table } from '../output';

function signIn(ctx: CliContext) {
  const s = ctx.settings();
  const { users, edge_operator } = demoAccounts(s.FARMIQ_HOME);
  return {
    users: users.map((u) => ({ role: u.role, email: u.email, password: u.password })),
    edge_operator_token: edge_operator.token,
    edge_key_file: demoPaths(s.FARMIQ_HOME).edgeKeyFile,
  };
}

const signInText = (x: ReturnType<typeof signIn>) =>
  [table(x.users), `edge operator API token: ${x.edge_operator_token}`, `farm server signing key: ${x.edge_key_file}`].join('\n');

async function provision(ctx: CliContext) {
  const s = ctx.settings();
  fs.rmSync(demoRemovedMarker(s.FARMIQ_HOME), { force: true });
  const r = await ctx.edge((edge) => ctx.cloud((cloud) => provisionDemo(edge, cloud, s)));
  return {
    tenant_id: r.tenantId,
    farm_id: r.farmId,
    barns: r.barns,
    devices_provisioned: r.devicesProvisioned,
    flocks_placed: r.flocksPlaced,
    edge_registration: r.edgeRegistered,
    ...signIn(ctx),
  };
}

/** The demo's simulator process, if `make up` started one: it must not publish while its rows go. */
function stopSimulator(): void {
  spawnSync('bash', [path.join(repoRoot, 'scripts', 'apps.sh'), 'stop', 'simulator'], { stdio: ['ignore', 'ignore', 'inherit'] });
}

function register(program: Command, ctx: CliContext): void {
  const demo = program.command('demo').description('the demo farm: tenant, users, farm, flocks, devices and their simulator');

  demo
    .command('provision')
    .description('create what is missing of the demo (cloud tenant, users, farm, barns, edge registration; flocks and devices); prints the sign-in')
    .action(async () => {
      const r = await provision(ctx);
      ctx.out.data(r, (x) => `demo farm ${x.farm_id} (tenant ${x.tenant_id}), barns ${x.barns.join(', ')}\n${signInText(x)}`);
    });

  demo
    .command('backfill')
    .description("play the demo farm's past days once (again with --again), so the cloud has history to chart")
    .option('--days <n>', 'days to play', parseDays, 21)
    .option('--again', 'play them even if the history was played before')
    .action(async (o: { days: number; again?: boolean }) => {
      const { backfillMarker } = demoPaths(ctx.settings().FARMIQ_HOME);
      if (fs.existsSync(backfillMarker) && !o.again) {
        const done = JSON.parse(fs.readFileSync(backfillMarker, 'utf8')) as { days: number; at: string };
        ctx.out.data({ skipped: true, ...done }, (x) => `history already played (${x.days} days, at ${x.at}); --again plays it again`);
        return;
      }
      const counts = await backfill(ctx, o.days);
      // The marker says what was sent, so a later `make up` (and a test) can tell the history is all there.
      const played = { days: o.days, at: new Date().toISOString(), barns: countRows(counts) };
      fs.writeFileSync(backfillMarker, `${JSON.stringify(played)}\n`);
      ctx.out.data({ skipped: false, ...played }, (x) => table(x.barns));
    });

  demo
    .command('sign-in')
    .description("the demo users' sign-in details and the edge operator token")
    .action(() => {
      if (!fs.existsSync(demoPaths(ctx.settings().FARMIQ_HOME).accountsFile)) throw notFound('the demo is not provisioned: farmiq demo provision');
      ctx.out.data(signIn(ctx), signInText);
    });

  demo
    .command('remove')
    .description("delete every row of the demo tenant on the farm server and in the cloud, its devices' logins and files; `make up` then leaves it out")
    .action(async () => {
      const s = ctx.settings();
      const tenantId = loadFarmDescription(simulatorSettings(s).farmFile).tenant_id;
      stopSimulator();
      const r = await ctx.edge((edge) => ctx.cloud((cloud) => removeDemo(edge, cloud, s, tenantId)));
      ctx.out.data(
        { tenant_id: tenantId, edge_rows: r.edgeRows, cloud_rows: r.cloudRows },
        (x) => `demo removed: ${x.edge_rows} farm server rows, ${x.cloud_rows} cloud rows`,
      );
      ctx.out.note('`make up` leaves the demo out from now on; `farmiq demo provision` (or FARMIQ_DEMO=1 make up) brings it back.');
    });

  demo
    .command('reset')
    .description('remove the demo and provision it afresh: new flocks, devices and sign-in passwords; `make up` then starts its simulator')
    .action(async () => {
      const s = ctx.settings();
      const tenantId = loadFarmDescription(simulatorSettings(s).farmFile).tenant_id;
      stopSimulator();
      await ctx.edge((edge) => ctx.cloud((cloud) => removeDemo(edge, cloud, s, tenantId)));
      const r = await provision(ctx);
      ctx.out.data(r, (x) => `demo farm ${x.farm_id} provisioned afresh; run \`farmiq demo backfill\` for its history\n${signInText(x)}`);
    });
}

export const group: CommandGroup = { name: 'demo', register };

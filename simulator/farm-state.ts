/**
 * What provisioning resolved from a farm description, kept between runs: each barn's flock (its
 * id and placement day, fixed once so a relative `placed_days_ago` does not move every day) and
 * each device's broker credentials (shown once by the farm server, so kept here, mode 0600).
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { farmDescriptionSchema, type FarmDescription } from './farm-description';

export const farmStateSchema = z.object({
  farm: farmDescriptionSchema,
  flocks: z.record(z.string(), z.object({ flock_id: z.uuid(), placed_day: z.iso.date() })),
  /** Keyed `<barn>/<device>`. */
  credentials: z.record(z.string(), z.object({ username: z.string().min(1), password: z.string().min(1) })),
});

export type FarmState = z.infer<typeof farmStateSchema>;

export const deviceKey = (barnId: string, deviceId: string) => `${barnId}/${deviceId}`;

export function readFarmState(file: string): FarmState | undefined {
  if (!fs.existsSync(file)) return undefined;
  const r = farmStateSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
  if (!r.success) throw new Error(`simulator state ${file} is not valid: ${r.error.issues[0]?.message ?? ''}; provision the farm again`);
  return r.data;
}

/** Written to a temporary file and renamed, so a reader never sees half a file. */
export function writeFarmState(file: string, state: FarmState): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/** The description the state was made from, to tell whether it still fits. */
export function sameFarm(a: FarmDescription, b: FarmDescription): boolean {
  return a.tenant_id === b.tenant_id && a.farm_id === b.farm_id;
}

/** No state for the described farm yet: provision it first. */
export class FarmNotProvisioned extends Error {}

/** The provisioned state of the described farm, with the description's current cadences and faults. */
export function provisionedState(farm: FarmDescription, stateFile: string): FarmState {
  const state = readFarmState(stateFile);
  if (!state || !sameFarm(state.farm, farm)) {
    throw new FarmNotProvisioned(`no provisioned state for farm ${farm.farm_id} in ${stateFile}: provision the farm first (farmiq simulator provision)`);
  }
  // The description's cadences and faults may change between runs; flocks and credentials stay as provisioned.
  return { ...state, farm };
}

/**
 * What every command gets: the output (--json or text), the two databases (opened on first use,
 * closed when the command ends) and the progress bar. Database URLs come from --edge-url /
 * --cloud-url or the settings every process reads (config/settings.ts: EDGE_DATABASE_URL,
 * CLOUD_DATABASE_URL, FARMIQ_CONFIG).
 */
import type { Command } from 'commander';
import type { Pool } from 'pg';
import { settings, type Settings } from '../config/settings';
import { createPool, safeDatabaseName } from '../db/pool';
import { databaseProblem } from './errors';
import { output, type Output } from './output';
import { startProgress, type Progress } from './progress';

export interface RootOptions {
  json?: boolean;
  edgeUrl?: string;
  cloudUrl?: string;
}

export class CliContext {
  private readonly pools = new Map<string, Pool>();

  constructor(private readonly root: Command) {}

  private get opts(): RootOptions {
    return this.root.opts<RootOptions>();
  }

  get out(): Output {
    return output(Boolean(this.opts.json));
  }

  settings(): Settings {
    return settings();
  }

  progress(label: string, total: number): Progress {
    return startProgress(label, total, { json: Boolean(this.opts.json) });
  }

  /** Runs `work` on the edge (farm server) database; a database that is not there is one clear error. */
  edge<T>(work: (pool: Pool) => Promise<T>): Promise<T> {
    return this.withPool('edge', this.opts.edgeUrl ?? settings().EDGE_DATABASE_URL, work);
  }

  /** Runs `work` on the cloud database as its owner (the role the admin tools use, not subject to RLS). */
  cloud<T>(work: (pool: Pool) => Promise<T>): Promise<T> {
    return this.withPool('cloud', this.opts.cloudUrl ?? settings().CLOUD_DATABASE_URL, work);
  }

  private async withPool<T>(side: 'edge' | 'cloud', url: string, work: (pool: Pool) => Promise<T>): Promise<T> {
    let pool = this.pools.get(side);
    if (!pool) {
      pool = createPool(url, { applicationName: 'farmiq-cli', max: 2 });
      this.pools.set(side, pool);
    }
    try {
      return await work(pool);
    } catch (err) {
      throw databaseProblem(err, `${side} database ${safeDatabaseName(url)}`) ?? err;
    }
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.end()));
  }
}

/** One command group (`farmiq <name> …`): a file in cli/commands/ exporting `group`. */
export interface CommandGroup {
  name: string;
  /** Adds the group's command and subcommands to the root program. */
  register(program: Command, ctx: CliContext): void;
}

/**
 * The progress bar of a long operation (replay of many histories, requeueing a dead-letter queue,
 * a bulk import): count, rate and ETA on stderr, drawn only when stderr is a terminal and the
 * output is not --json, so pipes, logs and scripts never see it.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  /** `n` more items done. */
  tick(n?: number): void;
  stop(): void;
}

const silent: Progress = { tick: () => undefined, stop: () => undefined };

export interface ProgressOptions {
  json: boolean;
  /** Where to draw (default stderr); drawn only if it is a TTY. */
  stream?: NodeJS.WriteStream;
  /** Elapsed time source, for the rate (default Date.now). */
  now?: () => number;
}

export function startProgress(label: string, total: number, opts: ProgressOptions): Progress {
  const stream = opts.stream ?? process.stderr;
  if (opts.json || !stream.isTTY || total < 1) return silent;
  const now = opts.now ?? Date.now;
  const started = now();
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `${label} [{bar}] {value}/{total} | {rate}/s | ETA {eta_formatted}`,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  let done = 0;
  bar.start(total, 0, { rate: '0.0' });
  return {
    tick(n = 1) {
      done += n;
      const seconds = Math.max((now() - started) / 1000, 0.001);
      bar.update(done, { rate: (done / seconds).toFixed(1) });
    },
    stop() {
      bar.stop();
    },
  };
}

/**
 * The progress bar of long commands: drawn with count, rate and ETA on a terminal; nothing at all
 * on a pipe or with --json (so scripts and logs never see it).
 */
import { PassThrough } from 'node:stream';
import { startProgress } from '../../cli/progress';

function stream(isTTY: boolean): NodeJS.WriteStream & { text: () => string } {
  const s = new PassThrough() as unknown as NodeJS.WriteStream & { text: () => string };
  const chunks: string[] = [];
  (s as unknown as PassThrough).on('data', (c: Buffer) => chunks.push(c.toString()));
  Object.assign(s, { isTTY, columns: 120, cursorTo: () => true, clearLine: () => true, moveCursor: () => true, text: () => chunks.join('') });
  return s;
}

test('on a terminal: value/total, a rate and an ETA', () => {
  const tty = stream(true);
  let now = 0;
  const bar = startProgress('replay', 8, { json: false, stream: tty, now: () => now });
  now = 2000;
  bar.tick(4); // 4 done in 2 s: 2.0 per second, 4 left: ETA 2 s
  bar.stop();
  expect(tty.text()).toContain('replay [');
  expect(tty.text()).toContain('4/8 | 2.0/s | ETA');
});

test('not a terminal, or --json: nothing is written', () => {
  const pipe = stream(false);
  const p = startProgress('replay', 8, { json: false, stream: pipe });
  p.tick(8);
  p.stop();
  const tty = stream(true);
  const j = startProgress('replay', 8, { json: true, stream: tty });
  j.tick(8);
  j.stop();
  expect(pipe.text()).toBe('');
  expect(tty.text()).toBe('');
});

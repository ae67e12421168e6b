/** The Temporal → pino log bridge keeps what an on-call engineer needs from SDK log entries. */
import { Writable } from 'node:stream';
import pino from 'pino';
import { ApplicationFailure } from '@temporalio/common';
import { PinoTemporalLogger } from '../../temporal/runtime';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  return { lines, logger: new PinoTemporalLogger(pino({ level: 'debug' }, stream)) };
}

it('maps levels and keeps metadata', () => {
  const { lines, logger } = capture();
  logger.info('Worker state changed', { taskQueue: 'farmiq-edge', state: 'RUNNING' });
  logger.trace('below the level');
  logger.warn('careful');
  expect(lines).toEqual([
    expect.objectContaining({ level: 30, msg: 'Worker state changed', taskQueue: 'farmiq-edge', state: 'RUNNING' }),
    expect.objectContaining({ level: 40, msg: 'careful' }),
  ]);
});

it('serializes a failure with its message and type instead of {}', () => {
  const { lines, logger } = capture();
  logger.warn('Activity failed', {
    activityType: 'publishClosedRollups',
    error: ApplicationFailure.nonRetryable('limit must be >= 1', 'InvalidRollupRequest'),
  });
  expect(lines[0]).toMatchObject({
    msg: 'Activity failed',
    activityType: 'publishClosedRollups',
    failureType: 'InvalidRollupRequest',
    err: { message: 'limit must be >= 1', type: 'ApplicationFailure', nonRetryable: true, stack: expect.any(String) },
  });
});

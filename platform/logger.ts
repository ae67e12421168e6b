/** One structured JSON logger per process (pino); child loggers carry the component name. */
import pino from 'pino';
import { settings } from '../config/settings';

let root: pino.Logger | undefined;

/** LOG_LEVEL, or `info` when the settings themselves are invalid: a main's catch must still log why. */
function level(): string {
  try {
    return settings().LOG_LEVEL;
  } catch {
    return 'info';
  }
}

export function logger(component: string): pino.Logger {
  root ??= pino({ level: level(), base: { pid: process.pid } });
  return root.child({ component });
}

export type Logger = pino.Logger;

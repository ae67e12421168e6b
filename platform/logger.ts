/** One structured JSON logger per process (pino); child loggers carry the component name. */
import pino from 'pino';
import { settings } from '../config/settings';

let root: pino.Logger | undefined;

export function logger(component: string): pino.Logger {
  root ??= pino({ level: settings().LOG_LEVEL, base: { pid: process.pid } });
  return root.child({ component });
}

export type Logger = pino.Logger;

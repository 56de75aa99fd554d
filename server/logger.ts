import pino from 'pino';
import type { Config } from './config.js';

/** The slice of pino that the plugin host and plugins use; a pino logger satisfies it. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export function createLogger(level: Config['logLevel']) {
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime });
}

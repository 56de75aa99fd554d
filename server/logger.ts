import pino from 'pino';
import type { Config } from './config.js';

export function createLogger(level: Config['logLevel']) {
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime });
}

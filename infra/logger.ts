import pino, { type Logger } from 'pino';
import type { AppConfig } from '../config';

/** Structured JSON logs with a component name, so worker and API lines can be told apart. */
export function createLogger(config: Pick<AppConfig, 'logLevel'>, component: string): Logger {
  return pino({ level: config.logLevel, base: { component } });
}

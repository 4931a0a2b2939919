import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * The process-wide root logger every snoopy component derives its child from
 * (`rootLogger().child({ component: 'consumer', topic })`). JSON lines on stderr; level from
 * `SNOOPY_LOG_LEVEL` (default `info`). Replace it with `setRootLogger` before creating components.
 */
let root: Logger | undefined;

export function rootLogger(): Logger {
  root ??= pino({ name: 'snoopy', level: process.env.SNOOPY_LOG_LEVEL ?? 'info' }, pino.destination(2));
  return root;
}

export function setRootLogger(logger: Logger): void {
  root = logger;
}

#!/usr/bin/env node
import { main } from './main.js';

/** One line: the code, the message, and the cause's message when the message does not already say it. */
function describeFailure(err: unknown): string {
  if (!(err instanceof Error)) return `snoopy: ${String(err)}`;
  const code = (err as { code?: unknown }).code;
  let line = `snoopy: ${typeof code === 'string' && code.startsWith('SNOOPY_') ? `${code}: ` : ''}${err.message}`;
  const cause = err.cause instanceof Error ? err.cause.message : undefined;
  if (cause && !err.message.includes(cause)) line += `: ${cause}`;
  if (process.env.SNOOPY_LOG_LEVEL === 'debug' || process.env.SNOOPY_LOG_LEVEL === 'trace') line += `\n${err.stack ?? ''}`;
  return line;
}

// A command's own output is the point: the library's info lines (partitions assigned...) only
// when asked for with SNOOPY_LOG_LEVEL.
process.env.SNOOPY_LOG_LEVEL ||= 'warn';

const controller = new AbortController();
let signals = 0;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    signals += 1;
    if (signals > 1) process.exit(sig === 'SIGINT' ? 130 : 143);
    controller.abort(new Error(`received ${sig}`));
  });
}

main(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  signal: controller.signal,
}).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    process.stderr.write(`${describeFailure(err)}\n`);
    process.exitCode = 1;
  },
);

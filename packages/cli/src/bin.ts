#!/usr/bin/env node
import { main } from './main.js';

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
    process.stderr.write(`snoopy: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);

import { describe, expect, it } from 'vitest';
import { commands } from '@snoopy/cli';
import { snoopy } from './io.js';

describe('snoopy', () => {
  it('lists every command with --help (exit 0) and without a command (exit 2)', async () => {
    const help = await snoopy(['--help']);
    expect(help.code).toBe(0);
    for (const name of ['tail', 'produce', 'topics', 'lag', 'cache']) expect(help.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
    expect((await snoopy([])).code).toBe(2);
  });

  it('an unknown command is exit code 2', async () => {
    const ran = await snoopy(['tial']);
    expect(ran.code).toBe(2);
    expect(ran.stderr).toContain('unknown command `tial`');
  });

  it('every command has a --help of its own', async () => {
    for (const name of Object.keys(commands)) {
      const ran = await snoopy([name, '--help']);
      expect(ran.code, name).toBe(0);
      expect(ran.stdout, name).toMatch(new RegExp(`^Usage: snoopy ${name}`));
    }
  });

  it('a wrong command line is exit code 2 with the usage', async () => {
    const env = { KAFKA_BOOTSTRAP_SERVERS: '127.0.0.1:1' };
    const cases: [string[], RegExp][] = [
      [['tail'], /missing <topic>/],
      [['tail', 't', '--limit', '0'], /Expected `--limit` to be an integer >= 1, got `0`/],
      [['tail', 't', '--from', 'yesterday'], /Expected `--from` to be earliest, latest/],
      [['tail', 't', '--codec', 'xml'], /Expected `--codec` to be json, string/],
      [['tail', 't', '--codec', 'avro:/no/such/schema.avsc'], /cannot read an Avro schema/],
      [['tail', 't', '--where', 'total'], /Expected `--where`/],
      [['tail', 't', '--bogus'], /Unknown option '--bogus'/],
      [['produce'], /missing <topic>/],
      [['topics', 'drop', 't'], /unknown action `drop`/],
      [['topics', 'create'], /missing <topic>/],
      [['topics', 'create', 't', '--config', 'retention'], /Expected `--config` to be key=value/],
      [['lag'], /missing <group>/],
      [['cache'], /missing <path>/],
      [['cache', '/tmp', 'put'], /unknown action `put`/],
      [['cache', '/tmp', 'get'], /missing <key>/],
    ];
    for (const [argv, message] of cases) {
      const ran = await snoopy(argv, { env });
      expect(ran.code, argv.join(' ')).toBe(2);
      expect(ran.stderr, argv.join(' ')).toMatch(message);
      expect(ran.stderr, argv.join(' ')).toContain(`Usage: snoopy ${argv[0]}`);
    }
  });

  it('without --brokers or KAFKA_BOOTSTRAP_SERVERS a Kafka command says so (exit 2)', async () => {
    for (const argv of [['tail', 't'], ['produce', 't'], ['topics'], ['lag', 'g']]) {
      const ran = await snoopy(argv, { env: {} });
      expect(ran.code, argv.join(' ')).toBe(2);
      expect(ran.stderr).toContain('pass --brokers host:port or set KAFKA_BOOTSTRAP_SERVERS');
    }
  });
});

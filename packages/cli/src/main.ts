import { commands } from './commands.js';
import { UsageError, type CommandIo } from './command.js';

function overview(): string {
  const width = Math.max(0, ...Object.keys(commands).map((n) => n.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return ['Usage: snoopy <command> [options]', '', 'Commands:', ...lines, '', 'Run `snoopy <command> --help` for a command\'s options.', ''].join('\n');
}

/** Runs `snoopy <argv>`; resolves with the exit code (0 ok, 1 failed, 2 bad command line). */
export async function main(argv: readonly string[], io: CommandIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(overview());
    return name === undefined ? 2 : 0;
  }
  const entry = commands[name];
  if (!entry || !Object.hasOwn(commands, name)) {
    io.stderr.write(`snoopy: unknown command \`${name}\`\n\n${overview()}`);
    return 2;
  }
  const command = await entry.load();
  try {
    if (rest.includes('--help') || rest.includes('-h')) {
      const text = command.help ? await command.help(rest) : command.usage;
      io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
      return 0;
    }
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string } | null)?.code?.startsWith?.('ERR_PARSE_ARGS')) {
      io.stderr.write(`snoopy ${name}: ${(err as Error).message}\n\n${command.usage}\n`);
      return 2;
    }
    throw err;
  }
}

import type { Command } from './command.js';

/**
 * Every `snoopy` subcommand, loaded only when it runs (so `snoopy cache` never loads the Kafka
 * client). Add one line per subcommand.
 */
export const commands: Readonly<Record<string, { readonly summary: string; load(): Promise<Command> }>> = {
};

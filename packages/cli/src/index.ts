export { main } from './main.js';
export { commands } from './commands.js';
export { UsageError, type Command, type CommandIo } from './command.js';

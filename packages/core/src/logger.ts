import { pino, type DestinationStream, type Logger } from 'pino';
import { OptionsError, describeValue } from './errors.js';

export type { Logger };

/** The levels `SNOOPY_LOG_LEVEL` accepts, most severe first. */
export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

/** `json`: one JSON object a line. `pretty`: `12:00:01.123 INFO  consumer orders: message k=v`. */
export const logFormats = ['json', 'pretty'] as const;
export type LogFormat = (typeof logFormats)[number];

/** `SNOOPY_LOG_LEVEL`, checked: a wrong level names the valid ones. @default 'info' */
export function logLevelFromEnv(env: NodeJS.ProcessEnv = process.env): LogLevel {
  const level = env.SNOOPY_LOG_LEVEL === undefined || env.SNOOPY_LOG_LEVEL === '' ? 'info' : env.SNOOPY_LOG_LEVEL.toLowerCase();
  if (!(logLevels as readonly string[]).includes(level)) {
    throw new OptionsError(`Expected \`SNOOPY_LOG_LEVEL\` to be one of ${logLevels.join(', ')}, got ${describeValue(env.SNOOPY_LOG_LEVEL)}`);
  }
  return level as LogLevel;
}

/** `SNOOPY_LOG_FORMAT`, checked. @default 'pretty' when the destination is a TTY, else 'json' */
export function logFormatFromEnv(env: NodeJS.ProcessEnv = process.env, isTTY = process.stderr.isTTY === true): LogFormat {
  const format = env.SNOOPY_LOG_FORMAT === undefined || env.SNOOPY_LOG_FORMAT === '' ? (isTTY ? 'pretty' : 'json') : env.SNOOPY_LOG_FORMAT.toLowerCase();
  if (!(logFormats as readonly string[]).includes(format)) {
    throw new OptionsError(`Expected \`SNOOPY_LOG_FORMAT\` to be one of ${logFormats.join(', ')}, got ${describeValue(env.SNOOPY_LOG_FORMAT)}`);
  }
  return format as LogFormat;
}

const levelNames: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const quiet = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'component', 'topic', 'err']);

function clock(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

function shown(value: unknown): string {
  if (typeof value === 'string') return /[\s"=]/.test(value) || value === '' ? JSON.stringify(value) : value;
  return JSON.stringify(value) ?? String(value);
}

/** One JSON log line as a person reads it: time, level, component and topic, message, then the rest as key=value. */
export function formatPretty(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const parts = [clock(Number(entry.time ?? Date.now())), (levelNames[Number(entry.level)] ?? String(entry.level)).padEnd(5)];
  const where = [entry.component, entry.topic].filter((v) => v !== undefined).map(String).join(' ');
  if (where) parts.push(`${where}:`);
  if (entry.msg !== undefined) parts.push(String(entry.msg));
  for (const [key, value] of Object.entries(entry)) if (!quiet.has(key)) parts.push(`${key}=${shown(value)}`);
  let out = parts.join(' ');
  const err = entry.err as { type?: string; message?: string; code?: string; stack?: string } | undefined;
  if (err) out += ` ${err.code ?? err.type ?? 'Error'}: ${err.message ?? ''}${err.stack && Number(entry.level) <= 20 ? `\n${err.stack}` : ''}`;
  return `${out}\n`;
}

/** A pino destination that writes `formatPretty` lines to `stream` (stderr by default). */
export function prettyDestination(stream: NodeJS.WritableStream = process.stderr): DestinationStream {
  return { write: (line: string) => void stream.write(formatPretty(line)) };
}

/** The logger snoopy makes when none is given: level and format from the environment, on stderr. */
export function createLogger(env: NodeJS.ProcessEnv = process.env): Logger {
  const level = logLevelFromEnv(env);
  const format = logFormatFromEnv(env);
  return pino({ name: 'snoopy', level }, format === 'pretty' ? prettyDestination(process.stderr) : pino.destination(2));
}

let root: Logger | undefined;
/** Bumped by every setRootLogger: children made before it rebuild their real logger on next use. */
let generation = 0;

function currentRoot(): Logger {
  root ??= createLogger();
  return root;
}

interface Node {
  readonly bindings: Record<string, unknown>;
  readonly options: Record<string, unknown>;
  real: Logger | undefined;
  generation: number;
  /** The real logger's methods, bound once per real logger (no allocation per log call). */
  readonly methods: Map<PropertyKey, unknown>;
}

function realOf(node: Node): Logger {
  if (node.real === undefined || node.generation !== generation) {
    const base = currentRoot();
    node.real = Object.keys(node.bindings).length === 0 && Object.keys(node.options).length === 0 ? base : base.child(node.bindings, node.options);
    node.generation = generation;
    node.methods.clear();
  }
  return node.real;
}

/**
 * A logger that follows the root: what it logs goes to whatever `setRootLogger` installed last,
 * also when it was made before. `child()` merges bindings into one object, so a key bound twice
 * (`component`) appears once per line, with the innermost value.
 */
function follower(node: Node): Logger {
  return new Proxy({} as Logger, {
    get(_target, prop) {
      if (prop === 'child') {
        return (bindings: Record<string, unknown> = {}, options: Record<string, unknown> = {}) =>
          follower({ bindings: { ...node.bindings, ...bindings }, options: { ...node.options, ...options }, real: undefined, generation: -1, methods: new Map() });
      }
      const real = realOf(node);
      const value = Reflect.get(real, prop, real) as unknown;
      if (typeof value !== 'function') return value;
      // pino swaps a level's method when the level changes: keep the bound one only while it is the same.
      const cached = node.methods.get(prop) as { fn: unknown; bound: unknown } | undefined;
      if (cached?.fn === value) return cached.bound;
      const bound = (value as (...args: unknown[]) => unknown).bind(real);
      node.methods.set(prop, { fn: value, bound });
      return bound;
    },
    set(_target, prop, value) {
      return Reflect.set(realOf(node), prop, value);
    },
    has(_target, prop) {
      return Reflect.has(realOf(node), prop);
    },
  });
}

const rootFollower = follower({ bindings: {}, options: {}, real: undefined, generation: -1, methods: new Map() });

/**
 * The logger every snoopy component derives its child from
 * (`rootLogger().child({ component: 'consumer', topic })`). By default pino on stderr, level from
 * `SNOOPY_LOG_LEVEL` (default `info`; a wrong level throws an `OptionsError` naming the valid
 * ones), format from `SNOOPY_LOG_FORMAT` (`pretty` on a TTY, else `json`). Children follow
 * `setRootLogger`, whenever they were made.
 */
export function rootLogger(): Logger {
  currentRoot(); // a wrong SNOOPY_LOG_LEVEL fails here, where the component is made
  return rootFollower;
}

/**
 * Gives snoopy your logger (pino, or anything with pino's interface): every component logs
 * through it from now on, those made before included. `undefined` goes back to the default.
 */
export function setRootLogger(logger: Logger | undefined): void {
  if (logger !== undefined && (logger === null || typeof logger !== 'object' || typeof (logger as { child?: unknown }).child !== 'function')) {
    throw new OptionsError(`setRootLogger: Expected \`logger\` to be a pino logger, got ${describeValue(logger)}`);
  }
  root = logger;
  generation += 1;
}

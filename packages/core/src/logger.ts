import { createRequire } from 'node:module';
import type { DestinationStream, Logger, pino as Pino } from 'pino';
import { OptionsError, describeValue } from './errors.js';
import { writeAbove } from './internal/terminal.js';

export type { Logger };

const require = createRequire(import.meta.url);

let pinoModule: typeof Pino | undefined;

/**
 * pino, loaded when the default logger is first made rather than when `@snoopy/core` is imported:
 * its ~20 modules cost ~50 ms of start-up, which a program that gives its own logger, or that
 * only imports a package, need not pay. pino is CommonJS, so a synchronous `require`.
 */
function loadPino(): typeof Pino {
  pinoModule ??= (require('pino') as { pino: typeof Pino }).pino;
  return pinoModule;
}

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

/**
 * A pino destination that writes `formatPretty` lines to `stream` (stderr by default), above the
 * progress bars a stream draws there: a bar clears its lines before a log line and redraws after.
 */
export function prettyDestination(stream: NodeJS.WritableStream = process.stderr): DestinationStream {
  return { write: (line: string) => writeAbove(stream, formatPretty(line)) };
}

/** The logger snoopy makes when none is given: level and format from the environment, on stderr. */
export function createLogger(env: NodeJS.ProcessEnv = process.env): Logger {
  const level = logLevelFromEnv(env);
  const format = logFormatFromEnv(env);
  // JSON on a terminal (SNOOPY_LOG_FORMAT=json) goes above the bars too; elsewhere pino's own fast destination.
  const pino = loadPino();
  const json = process.stderr.isTTY === true ? { write: (line: string) => writeAbove(process.stderr, line) } : pino.destination(2);
  return pino({ name: 'snoopy', level }, format === 'pretty' ? prettyDestination(process.stderr) : json);
}

/** The real root: the one given to `setRootLogger`, or the default once something needs it. */
let root: Logger | undefined;

function currentRoot(): Logger {
  if (root === undefined) {
    root = createLogger();
    repointAll(); // followers waiting for the default move onto it
  }
  return root;
}

const follows = Symbol('snoopy.logger.follows');

interface FollowerState {
  readonly bindings: Record<string, unknown>;
  readonly options: Record<string, unknown>;
}

interface Follower {
  readonly [follows]: FollowerState;
}

/** Every follower alive, to move onto a new root; dropped when collected. */
const followers = new Set<WeakRef<Logger & Follower>>();
const forget = new FinalizationRegistry<WeakRef<Logger & Follower>>((ref) => followers.delete(ref));

function realFor(f: FollowerState): Logger {
  const base = currentRoot();
  return Object.keys(f.bindings).length === 0 && Object.keys(f.options).length === 0 ? base : base.child(f.bindings, f.options);
}

/**
 * A logger that follows the root: an object whose prototype is the real pino logger (as pino's
 * own children are), moved onto a new real logger by `setRootLogger`, so a component made before
 * the logger was given logs through it, at the cost of pino's own call. `child()` merges bindings
 * into one object, so a key bound twice (`component`) appears once per line, the innermost value.
 *
 * Until the default logger is needed, a follower waits for it (pino is not loaded): a call at a
 * level below `SNOOPY_LOG_LEVEL` (or the child's `level`) does nothing, `isLevelEnabled` and `level`
 * answer from the level; a line to write, or anything else asked of the logger, makes the default
 * logger and moves every follower onto it. A worker that never logs never loads pino.
 */
const methods = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

const levelValues: Readonly<Record<string, number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

/** Stands in for the real logger under a waiting follower: whatever is looked up on it makes the default and asks that. */
const waiting: object = new Proxy(Object.create(null) as object, {
  get: (_target, key, receiver: object) => {
    awake(receiver);
    return Reflect.get(receiver, key);
  },
  set: (_target, key, value, receiver: object) => {
    awake(receiver);
    return Reflect.set(receiver, key, value);
  },
  has: (_target, key) => key in currentRoot(),
});

/** Makes the default logger (moving every follower onto it) and makes sure `receiver` no longer waits. */
function awake(receiver: object): void {
  currentRoot();
  if (Object.getPrototypeOf(receiver) === waiting) point(receiver as Logger & Follower, (receiver as Logger & Follower)[follows]);
}

/** The options a waiting follower can honour without pino: none, or a standard `level`. */
function canWait(options: Record<string, unknown>): boolean {
  for (const key in options) if (key !== 'level' || typeof options.level !== 'string' || !(options.level in levelValues)) return false;
  return true;
}

/** Points `f` at the root: a waiting stand-in while the default is not made yet (and `f` can wait), else the real logger. */
function point(f: Logger & Follower, state: FollowerState): void {
  if (root === undefined && canWait(state.options)) pointWaiting(f, state);
  else pointReal(f, realFor(state));
}

/** Points `f` at `real`: its prototype, and the level methods bound to it (pino's own call, no extra lookups). */
function pointReal(f: Logger & Follower, real: Logger): void {
  Object.setPrototypeOf(f, real);
  delete (f as { level?: unknown }).level; // the waiting stand-ins, if any
  delete (f as { isLevelEnabled?: unknown }).isLevelEnabled;
  for (const level of methods) {
    Object.defineProperty(f, level, { value: real[level].bind(real), writable: true, configurable: true });
  }
}

function pointWaiting(f: Logger & Follower, state: FollowerState): void {
  // A wrong SNOOPY_LOG_LEVEL or SNOOPY_LOG_FORMAT fails here, as making the default would.
  const level = (state.options.level as string | undefined) ?? logLevelFromEnv();
  logFormatFromEnv();
  const threshold = levelValues[level]!;
  Object.setPrototypeOf(f, waiting);
  for (const method of methods) {
    const value = levelValues[method]!;
    // `arguments`, not a rest parameter: a call below the level allocates nothing.
    const call = function (): void {
      if (value < threshold) return;
      awake(f);
      (f[method] as (...args: unknown[]) => void).apply(f, arguments as unknown as unknown[]);
    };
    Object.defineProperty(f, method, { value: call, writable: true, configurable: true });
  }
  Object.defineProperty(f, 'isLevelEnabled', {
    value: (asked: string): boolean => {
      if (asked in levelValues && asked !== 'silent') return levelValues[asked]! >= threshold;
      awake(f);
      return f.isLevelEnabled(asked);
    },
    writable: true,
    configurable: true,
  });
  Object.defineProperty(f, 'level', {
    get: () => level,
    set: (next: string) => {
      awake(f);
      f.level = next;
    },
    configurable: true,
  });
}

function repointAll(): void {
  for (const ref of followers) {
    const f = ref.deref();
    if (f) point(f, f[follows]);
  }
}

function follower(bindings: Record<string, unknown>, options: Record<string, unknown>): Logger {
  const state = { bindings, options };
  const f = Object.create(null) as Logger & Follower;
  Object.defineProperty(f, follows, { value: state });
  point(f, state);
  Object.defineProperty(f, 'child', {
    value: (more: Record<string, unknown> = {}, moreOptions: Record<string, unknown> = {}) =>
      follower({ ...bindings, ...more }, { ...options, ...moreOptions }),
  });
  const ref = new WeakRef(f);
  followers.add(ref);
  forget.register(f, ref);
  return f;
}

let rootFollower: Logger | undefined;

/**
 * The logger every snoopy component derives its child from
 * (`rootLogger().child({ component: 'consumer', topic })`). By default pino on stderr, level from
 * `SNOOPY_LOG_LEVEL` (default `info`; a wrong level throws an `OptionsError` naming the valid
 * ones), format from `SNOOPY_LOG_FORMAT` (`pretty` on a TTY, else `json`), made when the first
 * line is written. Children follow `setRootLogger`, whenever they were made.
 */
export function rootLogger(): Logger {
  rootFollower ??= follower({}, {}); // a wrong SNOOPY_LOG_LEVEL fails here, where the component is made
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
  if (logger === undefined) {
    // A wrong SNOOPY_LOG_LEVEL or SNOOPY_LOG_FORMAT fails here; the default itself is made when needed.
    logLevelFromEnv();
    logFormatFromEnv();
  }
  root = logger;
  repointAll();
}

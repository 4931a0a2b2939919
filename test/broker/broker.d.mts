// Types for broker.mjs (plain JavaScript so that it runs without a build).

export interface BrokerOptions {
  /** Folder for the broker's config, data and logs. @default a fresh temp folder, removed on stop() */
  readonly dir?: string;
  /** Keep the temp folder on stop() (for post-mortems). @default false */
  readonly keepDir?: boolean;
  /** Client port on 127.0.0.1. @default a free port chosen at start */
  readonly port?: number;
  /** Controller port on 127.0.0.1. @default a free port chosen at start */
  readonly controllerPort?: number;
  /** Partitions of auto-created topics. @default 1 */
  readonly partitions?: number;
  /** Extra or overriding server.properties entries. @default {} */
  readonly config?: Readonly<Record<string, string>>;
  /** How long to wait for the broker to start. @default 90000 */
  readonly timeoutMs?: number;
  /** How long stop() waits after SIGTERM before SIGKILL. @default 20000 */
  readonly stopTimeoutMs?: number;
}

export interface Broker extends AsyncDisposable {
  /** `127.0.0.1:<port>` */
  readonly bootstrapServers: string;
  readonly port: number;
  readonly controllerPort: number;
  readonly dir: string;
  /** The java process's pid (changes on restart()). */
  readonly pid: number;
  isRunning(): boolean;
  /** The last lines of the broker's logs. */
  logTail(lines?: number): string;
  /** Stops the broker and starts it again on the same ports with the same data. */
  restart(options?: { readonly downMs?: number }): Promise<void>;
  /** SIGTERM, then SIGKILL after `stopTimeoutMs`; removes the temp folder. Idempotent. */
  stop(): Promise<void>;
}

export const KAFKA_VERSION: string;
export function startBroker(options?: BrokerOptions): Promise<Broker>;
/** Downloads the broker's jars once into the cache; returns their folder. */
export function fetchBroker(options?: { readonly quiet?: boolean }): string;
export function cacheDir(): string;
export function libsDir(): string;
export function freePort(): Promise<number>;
export function logTail(dir: string, lines?: number): string;
export function stopPid(pid: number, timeoutMs?: number): Promise<void>;

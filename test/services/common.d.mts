export function freePort(): Promise<number>;
export function canConnect(port: number, host?: string): Promise<boolean>;
export function isAlive(pid: number): boolean;
export function stopPid(pid: number, options?: { readonly sig?: NodeJS.Signals; readonly timeoutMs?: number }): Promise<void>;
export function userIds(name: string): { uid: number; gid: number } | undefined;
export function waitForPort(port: number, options: { pid?: number; timeoutMs: number; what: string; logTail?: () => string }): Promise<void>;
export function tailFile(file: string, lines?: number): string;
export function serverHandle<F extends object>(options: F & { pid: number; dir: string; log: string; keepDir: boolean; sig?: NodeJS.Signals; timeoutMs?: number }):
  F & { dir: string; pid: number; logTail(lines?: number): string; stop(): Promise<void>; [Symbol.asyncDispose](): Promise<void> };
export function serviceCli(options: { command: string | undefined; usage: string; stateFile: string; start(options: { keepDir: boolean }): Promise<{ pid: number; dir: string; url: string }>; sig?: NodeJS.Signals; timeoutMs?: number }): Promise<void>;

/** What the launchers (test/postgres, test/redis) return. */
export interface LocalServer extends AsyncDisposable {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly dir: string;
  readonly pid: number;
  /** The last lines of the server's log. */
  logTail(lines?: number): string;
  /** Stops the server, then removes its temp folder (unless `keepDir`). Idempotent. */
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly timeoutMs?: number;
  /** Keep the temp folder on stop() (for post-mortems). @default false */
  readonly keepDir?: boolean;
}

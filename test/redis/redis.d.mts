// Types for redis.mjs (plain JavaScript so that it runs without a build).
export interface Redis extends AsyncDisposable {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly dir: string;
  readonly pid: number;
  logTail(lines?: number): string;
  /** SIGTERM (SIGKILL after 10 s), then removes the temp folder. Idempotent. */
  stop(): Promise<void>;
}
export function startRedis(options?: { readonly timeoutMs?: number; readonly keepDir?: boolean }): Promise<Redis>;

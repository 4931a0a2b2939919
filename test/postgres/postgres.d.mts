// Types for postgres.mjs (plain JavaScript so that it runs without a build).
export interface Postgres extends AsyncDisposable {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust authentication, loopback only) */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly dir: string;
  readonly pid: number;
  logTail(lines?: number): string;
  /** Fast shutdown (SIGINT), then removes the temp folder. Idempotent. */
  stop(): Promise<void>;
}
export function startPostgres(options?: { readonly timeoutMs?: number; readonly keepDir?: boolean }): Promise<Postgres>;
export function binDir(): string;

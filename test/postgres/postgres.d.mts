// Types for postgres.mjs (plain JavaScript so that it runs without a build).
import type { LocalServer, StartOptions } from '../services/common.mjs';

/**
 * `url` is `postgres://postgres@127.0.0.1:<port>/postgres` (trust authentication, loopback only);
 * `stop()` is PostgreSQL's fast shutdown (SIGINT).
 */
export type Postgres = LocalServer;
export function startPostgres(options?: StartOptions): Promise<Postgres>;
export function binDir(): string;

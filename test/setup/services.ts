// Vitest globalSetup: one real PostgreSQL and one real Redis for the whole run, like the broker in
// kafka.ts. SNOOPY_PG_URL / SNOOPY_REDIS_URL, when set, name servers to use instead, and nothing
// is started. SNOOPY_SERVICES=off starts neither (their suites then skip, or fail when CI=true).
// The URLs go into process.env, which the forked test workers inherit.
import { startPostgres } from '../postgres/postgres.mjs';
import { startRedis } from '../redis/redis.mjs';

interface Service { stop(): Promise<void> }

async function start(name: 'postgres' | 'redis', envName: string, launch: () => Promise<Service & { url: string }>): Promise<Service | undefined> {
  if (process.env[envName]) return undefined;
  if (process.env.SNOOPY_SERVICES === 'off') return undefined;
  try {
    const service = await launch();
    process.env[envName] = service.url;
    return service;
  } catch (err) {
    if (process.env.CI === 'true') throw err;
    const message = err instanceof Error ? err.message : String(err);
    console.warn(`[${name}] not started, its suites will skip: ${message}`);
    process.env[`${envName}_ERROR`] = message;
    return undefined;
  }
}

export default async function setup(): Promise<() => Promise<void>> {
  const [pg, redis] = await Promise.all([
    start('postgres', 'SNOOPY_PG_URL', () => startPostgres()),
    start('redis', 'SNOOPY_REDIS_URL', () => startRedis()),
  ]);
  return async () => {
    await Promise.all([pg?.stop(), redis?.stop()]);
  };
}

// Helpers for suites that need the PostgreSQL or Redis started by test/setup/services.ts.
//
//   const url = postgresUrl();
//   describe.skipIf(!url)('postgres store', () => { ... });
//
// With CI=true there must be a server: these throw instead of returning undefined, so a suite
// that would be skipped fails.

function serviceUrl(envName: string, what: string): string | undefined {
  const url = process.env[envName];
  if (url) return url;
  if (process.env.CI === 'true') {
    const why = process.env[`${envName}_ERROR`] ?? 'test/setup/services.ts did not run';
    throw new Error(`CI=true and no ${what} is available, so this suite fails instead of skipping: ${why}`);
  }
  return undefined;
}

/** `postgres://postgres@127.0.0.1:<port>/postgres`, or undefined when there is no server. */
export function postgresUrl(): string | undefined {
  return serviceUrl('SNOOPY_PG_URL', 'PostgreSQL server');
}

/** `redis://127.0.0.1:<port>`, or undefined when there is no server. */
export function redisUrl(): string | undefined {
  return serviceUrl('SNOOPY_REDIS_URL', 'Redis server');
}

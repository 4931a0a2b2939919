// Types for redis.mjs (plain JavaScript so that it runs without a build).
import type { LocalServer, StartOptions } from '../services/common.mjs';

/** `url` is `redis://127.0.0.1:<port>`; `stop()` sends SIGTERM (SIGKILL after 10 s). */
export type Redis = LocalServer;
export function startRedis(options?: StartOptions): Promise<Redis>;

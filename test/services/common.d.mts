export function freePort(): Promise<number>;
export function canConnect(port: number, host?: string): Promise<boolean>;
export function isAlive(pid: number): boolean;
export function stopPid(pid: number, options?: { readonly sig?: NodeJS.Signals; readonly timeoutMs?: number }): Promise<void>;
export function userIds(name: string): { uid: number; gid: number } | undefined;
export function waitForPort(port: number, options: { pid?: number; timeoutMs: number; what: string; logTail?: () => string }): Promise<void>;

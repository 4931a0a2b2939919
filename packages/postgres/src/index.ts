export { install, uninstall, type InstalledTable } from './install.js';
export { Changes, changes } from './changes.js';
export { Pull, pull, type PullStats } from './pull.js';
export { rowEvent, type RowEvent } from './row-event.js';
export {
  changesDefaults,
  installDefaults,
  pullDefaults,
  resolveChangesOptions,
  resolveInstallOptions,
  resolvePullOptions,
  resolveUninstallOptions,
  type ChangesFrom,
  type ChangesOptions,
  type InstallOptions,
  type PullMode,
  type PullOptions,
  type ResolvedChangesOptions,
  type ResolvedInstallOptions,
  type ResolvedPullOptions,
  type ResolvedUninstallOptions,
  type UninstallOptions,
} from './options.js';
export { PgNotInstalledError, PgPageError, PgQueryError } from './errors.js';
export type { Change, ChangeOp, ChangesStats, Page, PageFunction, PgQuery } from './types.js';

export {
  BufferedWriter,
  bufferedWriter,
  type Batch,
  type CloseOptions,
  type CloseReport,
  type Send,
  type SendContext,
  type WriterEvents,
  type WriterStats,
} from './buffered-writer.js';
export {
  DataSource,
  type DataSourceClass,
  type DataSourceEvents,
  type SourceLog,
  type SourceProgress,
} from './data-source.js';
export { checkParamSpecs, validateParams, flagName, type ParamSpec, type ParamType } from './params.js';
export {
  loadDataSource,
  paramFlags,
  paramsFromFlags,
  paramsUsage,
  runDataSource,
  type RunDataSourceOptions,
  type RunDataSourceResult,
} from './run-source.js';
export {
  bufferedWriterDefaults,
  dataSourceDefaults,
  resolveBufferedWriterOptions,
  resolveDataSourceOptions,
  type BufferedWriterOptions,
  type DataSourceOptions,
  type ResolvedBufferedWriterOptions,
  type ResolvedDataSourceOptions,
} from './options.js';
export { ParamError, ReadError, RecordTooLargeError, SendError, SourceModuleError, UnsentError } from './errors.js';
export type { Unsubscribe } from './internal/listeners.js';

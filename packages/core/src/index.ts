export { snap, stream, defaultRegistry } from './snap.js';
export { Registry, withSnaps } from './registry.js';
export type {
  HandlerResult,
  SinkInput,
  SnapDecorator,
  SnapFunction,
  SnapHandler,
  SnapInput,
  SnapOutput,
  SnappedFunction,
  SourceItem,
} from './snap-types.js';
export {
  resolveSnapOptions,
  resolveStreamOptions,
  snapDefaults,
  streamDefaults,
  type ErrorPolicy,
  type ResolvedSnapOptions,
  type ResolvedStreamOptions,
  type Sink,
  type SnapOptions,
  type Source,
  type StreamOptions,
} from './options.js';
export type { SnapContext, SnapSummary, StreamSummary } from './context.js';
export { DeadLetter } from './dead-letter.js';
export { errorCodes, type ErrorCode } from './codes.js';
export {
  SnoopyError,
  OptionsError,
  ClosedError,
  AbortError,
  TimeoutError,
  SnapError,
  describeValue,
  type MessageLocation,
  type SnoopyErrorOptions,
} from './errors.js';
export {
  ack,
  deliver,
  describe,
  flush,
  progress,
  take,
  open,
  FailedItem,
  isAcknowledging,
  isDeferredSink,
  isDescribing,
  isFlushing,
  isOpening,
  isReporting,
  type Acknowledging,
  type Completion,
  type DeferredSink,
  type Describing,
  type Flushing,
  type MessageMeta,
  type ProgressReport,
  type Reporting,
  type Taking,
  type Opening,
} from './protocol.js';
export { rootLogger, setRootLogger, type Logger } from './logger.js';

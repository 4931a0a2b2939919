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
  FailedItem,
  isAcknowledging,
  isDeferredSink,
  isDescribing,
  isFlushing,
  type Acknowledging,
  type Completion,
  type DeferredSink,
  type Describing,
  type Flushing,
  type MessageMeta,
} from './protocol.js';
export { rootLogger, setRootLogger, type Logger } from './logger.js';

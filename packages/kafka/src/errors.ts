import { SnoopyError, type ErrorCode, type MessageLocation, type SnoopyErrorOptions } from '@snoopy/core';

/** The codes a `KafkaError` can carry; each is in core's table of codes (a test checks both ways). */
export const kafkaErrorCodes = [
  'SNOOPY_KAFKA_CONNECT',
  'SNOOPY_KAFKA_CONFIG',
  'SNOOPY_KAFKA_PRODUCE',
  'SNOOPY_KAFKA_CONSUME',
  'SNOOPY_KAFKA_COMMIT',
  'SNOOPY_KAFKA_ADMIN',
  'SNOOPY_KAFKA_TRANSACTION',
  'SNOOPY_KAFKA_TOPIC_MISSING',
] as const satisfies readonly ErrorCode[];

export type KafkaErrorCode = (typeof kafkaErrorCodes)[number];

export interface KafkaErrorOptions extends SnoopyErrorOptions {
  /** librdkafka's numeric error code, when librdkafka reported the error. */
  readonly kafkaCode?: number;
  /** The configuration property at fault (`SNOOPY_KAFKA_CONFIG`). */
  readonly property?: string;
}

/**
 * Everything the Kafka package fails with, apart from bad options (`OptionsError`) and use after
 * close (`ClosedError`). Branch on `code`; `kafkaCode` is librdkafka's own code when there is one.
 */
export class KafkaError extends SnoopyError {
  override name = 'KafkaError';
  readonly kafkaCode: number | undefined;
  /** The configuration property at fault, for `SNOOPY_KAFKA_CONFIG`. */
  readonly property: string | undefined;

  constructor(code: KafkaErrorCode, message: string, options: KafkaErrorOptions = {}) {
    super(code, message, options);
    this.kafkaCode = options.kafkaCode;
    this.property = options.property;
  }
}

/** librdkafka's error object, as the callback API hands it over. */
export interface NativeError {
  readonly message: string;
  readonly code: number;
  readonly isRetriable?: boolean;
  readonly isFatal?: boolean;
}

/** @internal Wraps a librdkafka error with a code and a sentence saying what was being done. */
export function wrapNative(code: KafkaErrorCode, what: string, cause: unknown, location?: MessageLocation): KafkaError {
  const native = cause as Partial<NativeError> | null | undefined;
  const reason = native?.message ?? String(cause);
  const options: { cause: unknown; kafkaCode?: number; retriable?: boolean; location?: MessageLocation } = { cause };
  if (typeof native?.code === 'number') options.kafkaCode = native.code;
  if (typeof native?.isRetriable === 'boolean') options.retriable = native.isRetriable;
  if (location) options.location = location;
  return new KafkaError(code, `${what}: ${reason}`, options);
}

/** librdkafka error codes this package branches on. */
export const nativeCodes = Object.freeze({
  QUEUE_FULL: -184,
  ASSIGN_PARTITIONS: -175,
  REVOKE_PARTITIONS: -174,
  NO_OFFSET: -168,
  TIMED_OUT: -185,
  TRANSPORT: -195,
  ALL_BROKERS_DOWN: -187,
  PARTITION_EOF: -191,
  STATE: -172,
  MAX_POLL_EXCEEDED: -147,
  UNKNOWN_TOPIC_OR_PART: 3,
  ILLEGAL_GENERATION: 22,
  REBALANCE_IN_PROGRESS: 27,
  TOPIC_ALREADY_EXISTS: 36,
});

/** @internal Broker connection problems librdkafka recovers from by itself (logged at debug). */
export function isTransient(err: { readonly code?: number; readonly message?: string }): boolean {
  return (
    err.code === nativeCodes.TRANSPORT ||
    err.code === nativeCodes.ALL_BROKERS_DOWN ||
    /transport failure|broker connections are down|Connection refused|Disconnected|Connect to/i.test(err.message ?? '')
  );
}

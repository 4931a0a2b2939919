/**
 * The one table of error codes for every snoopy package. Each code names the area and what went
 * wrong; `retriable` says whether trying the same operation again may succeed.
 * A test checks every error class against this table.
 */
export const errorCodes = {
  // core
  SNOOPY_OPTIONS_INVALID: { retriable: false, summary: 'An option or argument has the wrong type or value' },
  SNOOPY_CLOSED: { retriable: false, summary: 'A resource was used after close()' },
  SNOOPY_ABORTED: { retriable: false, summary: 'A wait or operation was aborted by its signal' },
  SNOOPY_TIMEOUT: { retriable: true, summary: 'A wait did not finish in time' },
  SNOOPY_SNAP_HANDLER: { retriable: false, summary: 'A snap handler threw or rejected' },
  SNOOPY_SNAP_SINK: { retriable: true, summary: 'A sink threw or rejected' },
  SNOOPY_SOURCE_FAILED: { retriable: true, summary: 'A source iterator threw' },
  SNOOPY_SOURCE_ITEM: { retriable: false, summary: 'A source yielded an item it could not deliver (for example undecodable bytes)' },
  SNOOPY_STREAM_RUNNING: { retriable: false, summary: 'stream() was called while the registry is already streaming' },
  // core (issue 14: logs and diagnostics)
  SNOOPY_STREAM_EMPTY: { retriable: false, summary: 'stream() was called with no snap registered (often: a class with instance snaps never instantiated)' },
  // codecs
  SNOOPY_CODEC_DECODE: { retriable: false, summary: 'Bytes could not be decoded' },
  SNOOPY_CODEC_ENCODE: { retriable: false, summary: 'A value could not be encoded' },
  SNOOPY_CODEC_SCHEMA: { retriable: false, summary: 'A schema is invalid or a reader/writer pair is incompatible' },
  SNOOPY_REGISTRY_REQUEST: { retriable: true, summary: 'The schema registry could not be reached or answered with an error' },
  SNOOPY_REGISTRY_NOT_FOUND: { retriable: false, summary: 'The schema registry has no such schema id or subject' },
  // cache
  SNOOPY_CACHE_LOCKED: { retriable: false, summary: 'The cache directory is held by another process' },
  SNOOPY_CACHE_SINK_INPUT: { retriable: false, summary: 'A cache sink was given something other than a [key, value] tuple' },
  SNOOPY_CACHE_KEY: { retriable: false, summary: 'A cache key is not a string, number or Buffer' },
  SNOOPY_CACHE_IO: { retriable: true, summary: 'LevelDB failed to read or write' },
  SNOOPY_CACHE_NOT_OPEN: { retriable: true, summary: 'A synchronous cache read came before the cache finished opening (await cache.open())' },
  // kafka
  SNOOPY_KAFKA_CONNECT: { retriable: true, summary: 'The Kafka brokers could not be reached in time' },
  SNOOPY_KAFKA_CONFIG: { retriable: false, summary: 'Kafka configuration is missing or invalid (for example no group.id)' },
  SNOOPY_KAFKA_PRODUCE: { retriable: true, summary: 'A message could not be delivered to Kafka' },
  SNOOPY_KAFKA_CONSUME: { retriable: true, summary: 'Consuming from Kafka failed' },
  SNOOPY_KAFKA_COMMIT: { retriable: true, summary: 'Committing offsets failed' },
  SNOOPY_KAFKA_ADMIN: { retriable: true, summary: 'An admin operation (create topic, metadata) failed' },
  SNOOPY_KAFKA_TRANSACTION: { retriable: false, summary: 'A Kafka transaction failed or was aborted' },
  // kafka (issue 8)
  SNOOPY_KAFKA_TOPIC_MISSING: { retriable: false, summary: 'A consumed topic does not exist (create it, or give the Topic `create: true`)' },
  // connect
  SNOOPY_CONNECT_RECORD_TOO_LARGE: { retriable: false, summary: 'A record encodes to more bytes than a buffered writer\'s maxBytes' },
  SNOOPY_CONNECT_SEND: { retriable: false, summary: 'A buffered writer\'s batch failed with a non-retriable error or on every attempt' },
  SNOOPY_CONNECT_UNSENT: { retriable: true, summary: 'A buffered writer closed with its timeout expired and the record still unsent' },
  SNOOPY_CONNECT_PARAM: { retriable: false, summary: 'A data source parameter is missing or has the wrong type' },
  SNOOPY_CONNECT_READ: { retriable: false, summary: 'A data source\'s read failed with a non-retriable error or on every attempt' },
  SNOOPY_CONNECT_MODULE: { retriable: false, summary: 'snoopy run: the module cannot be loaded or exports no DataSource class' },
  // feed
  SNOOPY_FEED_EVENT: { retriable: false, summary: 'A feed event cannot be stored (not an object, a non-scalar indexed value, a bad `at`)' },
  SNOOPY_FEED_FILTER: { retriable: false, summary: 'A feed filter names a key that is not indexed, or has a value that cannot match' },
  SNOOPY_FEED_FANOUT: { retriable: false, summary: 'A feed query or event expands to more index combinations than the bound allows' },
  SNOOPY_FEED_STORE: { retriable: true, summary: 'A feed store (LevelDB, Redis, PostgreSQL) failed to read or write' },
  SNOOPY_FEED_RPC: { retriable: false, summary: 'A feed JSON-RPC call failed: the server answered with an error, or could not be reached' },
  // http
  SNOOPY_HTTP_DELIVERY: { retriable: true, summary: 'A webhook delivery still failed (non-2xx, timeout or network error) after its retry schedule' },
  SNOOPY_HTTP_GONE: { retriable: false, summary: 'A webhook endpoint answered 410 Gone and is disabled' },
  SNOOPY_HTTP_ADDRESS_REFUSED: { retriable: false, summary: 'A URL is not http(s) or resolves to a loopback, private, link-local or metadata address (SSRF guard)' },
  SNOOPY_HTTP_SIGNATURE: { retriable: false, summary: 'A webhook signature is missing, malformed or does not match any secret' },
  SNOOPY_HTTP_TIMESTAMP: { retriable: false, summary: 'A webhook timestamp is not a number or is outside the tolerance' },
  SNOOPY_HTTP_FILTER: { retriable: false, summary: 'A filter is outside the supported WHERE subset, or a parameter is missing or not a scalar' },
  SNOOPY_HTTP_GRANT: { retriable: false, summary: 'A grant token is missing, forged, expired, revoked, or for another topic or scope' },
  // postgres
  SNOOPY_PG_QUERY: { retriable: true, summary: 'A PostgreSQL query failed (retriable for lost connections, shutdowns, serialization failures)' },
  SNOOPY_PG_NOT_INSTALLED: { retriable: false, summary: 'changes() found no change table in its schema: install() was not run' },
  SNOOPY_PG_PAGE: { retriable: false, summary: 'A pull() cursor function returned something other than { items, next }' },
  // cli (snoopy tail, produce, topics, lag, cache)
  SNOOPY_CLI_KAFKA: { retriable: true, summary: 'A snoopy command could not reach the Kafka brokers or an admin request failed' },
  SNOOPY_CLI_INPUT: { retriable: false, summary: 'A snoopy command got input it cannot use (a stdin line that is not JSON, a missing key field)' },
} as const satisfies Record<string, { readonly retriable: boolean; readonly summary: string }>;

export type ErrorCode = keyof typeof errorCodes;

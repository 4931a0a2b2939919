/**
 * What every codec is: synchronous encode and decode, and a name for error messages. Anything
 * that takes a codec (Kafka topics, caches) takes any object of this shape, so users can bring
 * their own (Protobuf, MessagePack...) without changing snoopy.
 */
export interface Codec<T> {
  readonly name: string;
  encode(value: T): Buffer;
  decode(bytes: Buffer | Uint8Array): T;
}

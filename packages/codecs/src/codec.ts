/**
 * What every codec is: synchronous encode and decode, and a name for error messages. Anything
 * that takes a codec (Kafka topics, caches) takes any object of this shape, so users can bring
 * their own (Protobuf, MessagePack...) without changing snoopy.
 */
export interface Codec<T> {
  readonly name: string;
  encode(value: T): Buffer;
  decode(bytes: Buffer | Uint8Array): T;
  /**
   * Optional, for text formats (JSON, CSV...): the same encoding as a string. When a codec has
   * both `encodeText` and `decodeText`, stores that keep strings (the Cache) call them and skip the
   * Buffer in between, so they must agree with `encode`/`decode`: `encode(v)` is the UTF-8 of
   * `encodeText(v)`. A subclass that changes `encode` or `decode` must change these too.
   */
  encodeText?(value: T): string;
  decodeText?(text: string): T;
}

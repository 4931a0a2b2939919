// Kafka throughput: snoopy against what a user would pick instead, in one run, on one local broker.
//
//   npx tsc -b bench && node bench/dist/kafka.js
//
// Three phases, each through every client:
//   produce  N JSON messages to a fresh topic, until every one is acknowledged;
//   consume  N messages from a prefilled topic with a fresh group (JSON-decoded);
//   pipeline consume-transform-produce N messages (at-least-once: a consumed offset is committed
//            only once its output is acknowledged).
// Clients: (a) raw @confluentinc/kafka-javascript callback API (Producer.produce() with delivery
// reports, KafkaConsumer.consume(n, cb)), and the same with error-only delivery reports and
// flush() (raw-flush, for reference), and a pipeline loop shaped like snoopy's worker that keeps
// working while it flushes (raw-overlap, pipeline only), (b) kafkajs, (c) @platformatic/kafka,
// (d) snoopy (Topic from @snoopy/kafka with snap/stream from @snoopy/core, default options).
// Results and how to read them: bench/results/kafka.md.
//
// Modes: `node bench/dist/kafka.js processes` runs each client's pipeline as its own worker
// process (issue 15); `node bench/dist/kafka.js rebalance` measures rebalance settle time;
// `node bench/dist/kafka.js binding` measures the Confluent binding's consume() and produce() alone.
//
// The broker: KAFKA_BOOTSTRAP_SERVERS, or one started here by test/broker/broker.mjs and stopped
// at the end. Env: BENCH_N (messages per phase, default 200000), BENCH_PARTITIONS (default 3),
// BENCH_ROUNDS (default 3, the best round is reported), BENCH_CLIENTS and BENCH_PHASES (comma lists,
// default all), BENCH_SNOOPY_FETCH (the snoopy Topic's fetchBatchSize), BENCH_SNOOPY_TUNED (JSON
// of librdkafka settings added to every snoopy Topic's config), BENCH_RAW_TUNED (the same for the
// raw, raw-flush and raw-overlap producers), BENCH_SNOOPY_PENDING (the snoopy
// snaps' maxPending; core's default otherwise). Processes mode only: BENCH_CPU_PROF=<dir> (a V8
// CPU profile per worker), BENCH_THREADS=1 (each worker's CPU time per thread, to stderr),
// BENCH_NODE_ARGS (more node flags per worker), BENCH_WORKER_OUT=<dir> (each worker's stdout).
// Each worker reports its whole CPU time, its GC pauses and its rate per fifth of the messages
// (a slow first fifth is warm-up).
import { spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { constants, performance, PerformanceObserver } from 'node:perf_hooks';
import Confluent from '@confluentinc/kafka-javascript';
import type KafkaJs from 'kafkajs';

// snoopy's components log lifecycle events at info; keep the output to the figures.
process.env.SNOOPY_LOG_LEVEL ??= 'warn';

// @platformatic/kafka wants Node 22 (Promise.withResolvers); this machine has Node 20.
if (!('withResolvers' in Promise)) {
  Object.defineProperty(Promise, 'withResolvers', {
    value<T>() {
      let resolve!: (v: T) => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<T>((ok, fail) => { resolve = ok; reject = fail; });
      return { promise, resolve, reject };
    },
  });
}
// A pipeline worker (processes mode) loads only its own client's library, as a user's program
// would; the other modes load all of them.
const workerOf = process.argv[2] === 'pipeline-worker' ? process.argv[3] : undefined;
const kafkajs: typeof KafkaJs = workerOf === undefined || workerOf === 'kafkajs' ? (await import('kafkajs')).default : (undefined as never);
const plt: typeof import('@platformatic/kafka') = workerOf === undefined || workerOf === 'platformatic' ? await import('@platformatic/kafka') : (undefined as never);

const N = Number(process.env.BENCH_N ?? 200_000);
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const VALUE_BYTES = 100;
const RAW_BATCH = 5000; // consume(n): 1000 and 10000 were slower here
const PHASE_TIMEOUT_MS = 120_000;

type Row = { id: number; payload: string };
type PhaseName = 'produce' | 'consume' | 'pipeline';
const PHASES = (process.env.BENCH_PHASES?.split(',') ?? ['produce', 'consume', 'pipeline']) as PhaseName[];

/**
 * One phase's figures. `rate`: msgs/s over the whole phase, from before the clients connect (for
 * consumers: including the group join) to the last message; `steady`: from the first message
 * to the last; `startupMs`: until the first message.
 */
interface Result {
  rate: number;
  steady: number;
  ms: number;
  startupMs: number;
  /** Pipelines: ms from the first message until each fifth of the outputs was done (warm-up shows as a slow first fifth). */
  fifths?: number[];
}

interface Client {
  readonly name: string;
  /** Absent (as `consume`) where it would repeat another client's code. */
  produce: ((topic: string, n: number) => Promise<Result>) | undefined;
  /** Absent where it would repeat another client's code. */
  consume: ((topic: string, n: number) => Promise<Result>) | undefined;
  pipeline(input: string, output: string, n: number): Promise<Result>;
}

// ------------------------------------------------------------------------------------------------
// Shared helpers

const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

const pad = 'x'.repeat(VALUE_BYTES);
/** The i-th input row; its JSON is VALUE_BYTES long for ids below 10^6. */
function row(id: number): Row {
  const base = JSON.stringify({ id, payload: '' }).length;
  return { id, payload: pad.slice(0, Math.max(0, VALUE_BYTES - base)) };
}
const rows: Row[] = [row(0)];
function rowsUpTo(n: number): Row[] {
  for (let i = rows.length; i < n; i++) rows.push(row(i));
  return rows;
}
const encode = (v: unknown) => Buffer.from(JSON.stringify(v));
const decode = (b: Buffer | null | undefined) => JSON.parse(b!.toString()) as Row;
/** The pipeline's transform, the same for every client. */
const transform = (r: Row) => ({ id: r.id, payload: r.payload, double: r.id * 2 });

function cb<T = void>(fn: (done: (err: unknown, value?: T) => void) => void): Promise<T> {
  return new Promise((ok, fail) => fn((err, value) => (err ? fail(err) : ok(value as T))));
}

function deadline<T>(what: string, promise: Promise<T>, ms = PHASE_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, fail) => { timer = setTimeout(() => fail(new Error(`${what}: no result within ${ms} ms`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

/** Times a phase: from construction (before connecting) through `first()` to `end()`. */
class Clock {
  private readonly t0 = performance.now();
  private tFirst = 0;
  private tEnd = 0;
  private readonly fifths: number[] = [];
  first(): void { if (this.tFirst === 0) this.tFirst = performance.now(); }
  end(): void { this.tEnd = performance.now(); }
  /** `done` of `n` outputs are done now: notes when each fifth was reached. */
  progress(done: number, n: number): void {
    while (this.fifths.length < 5 && done >= ((this.fifths.length + 1) * n) / 5) this.fifths.push(performance.now() - this.tFirst);
  }
  result(n: number): Result {
    const ms = this.tEnd - this.t0;
    return {
      rate: n / (ms / 1000), steady: n / ((this.tEnd - this.tFirst) / 1000), ms, startupMs: this.tFirst - this.t0,
      ...(this.fifths.length > 0 ? { fifths: this.fifths } : {}),
    };
  }
}

/**
 * Commits in consumption order: a batch's offsets are released only when it and every batch
 * consumed before it have all their outputs acknowledged (at-least-once across partitions).
 */
class OrderedOffsets<B extends { done: boolean; offsets: Map<number, number> }> {
  private readonly queue: B[] = [];
  constructor(private readonly commit: (offsets: Map<number, number>) => void) {}
  push(batch: B): void { this.queue.push(batch); }
  settle(): void {
    let merged: Map<number, number> | undefined;
    while (this.queue.length > 0 && this.queue[0]!.done) {
      const batch = this.queue.shift()!;
      merged ??= new Map();
      for (const [p, o] of batch.offsets) merged.set(p, Math.max(o, merged.get(p) ?? -1));
    }
    if (merged) this.commit(merged);
  }
  get pending(): number { return this.queue.length; }
}

// ------------------------------------------------------------------------------------------------
// Raw @confluentinc/kafka-javascript (node-rdkafka callback API), tuned by hand.

const { Producer: RdProducer, KafkaConsumer: RdConsumer, AdminClient: RdAdmin, CODES } = Confluent;
type RdProducerT = InstanceType<typeof RdProducer>;
type RdConsumerT = InstanceType<typeof RdConsumer>;

function rdProducerConfig(brokers: string) {
  return {
    'bootstrap.servers': brokers,
    'client.id': 'bench-raw',
    dr_cb: true,
    acks: -1,
    'enable.idempotence': false,
    'linger.ms': 5, // 0 was slower, 20 no better
    'batch.num.messages': 10_000,
    'batch.size': 1_000_000,
    'queue.buffering.max.messages': 500_000,
    'queue.buffering.max.kbytes': 1_048_576,
    'compression.codec': 'none',
    // BENCH_RAW_TUNED: librdkafka settings added to the hand-written loops' producers, e.g.
    // {"enable.idempotence":true} to give them the producer guarantee snoopy's Topic has by default.
    ...(process.env.BENCH_RAW_TUNED ? (JSON.parse(process.env.BENCH_RAW_TUNED) as Record<string, string | number | boolean>) : {}),
  } as const;
}

async function rdConnectProducer(brokers: string): Promise<RdProducerT> {
  const p = new RdProducer(rdProducerConfig(brokers));
  await cb<unknown>((done) => p.connect({ timeout: 15_000 }, done));
  p.setPollInterval(5); // setPollInBackground(true) was slower here; 50 no better
  return p;
}

function rdConsumerConfig(brokers: string, group: string, extra: Record<string, unknown> = {}) {
  return {
    'bootstrap.servers': brokers,
    'group.id': group,
    'client.id': 'bench-raw',
    'fetch.wait.max.ms': 50,
    'fetch.min.bytes': 1,
    'fetch.max.bytes': 52_428_800,
    'max.partition.fetch.bytes': 4_194_304,
    'queued.min.messages': 200_000,
    'enable.auto.commit': true,
    'auto.commit.interval.ms': 1000,
    ...extra,
  };
}

async function rdConnectConsumer(brokers: string, topic: string, extra?: Record<string, unknown>): Promise<RdConsumerT> {
  const c = new RdConsumer(rdConsumerConfig(brokers, unique('bench-raw'), extra) as never, { 'auto.offset.reset': 'earliest' });
  await cb<unknown>((done) => c.connect({ timeout: 15_000 }, done));
  c.setDefaultConsumeTimeout(100);
  (c as unknown as { setDefaultIsTimeoutOnlyForFirstMessage(v: boolean): void }).setDefaultIsTimeoutOnlyForFirstMessage(true);
  c.subscribe([topic]);
  return c;
}

const rdClose = (c: RdProducerT | RdConsumerT) => new Promise<void>((ok) => c.disconnect(() => ok()));

/** Produces synchronously until librdkafka's queue is full, then yields for delivery reports. */
function rdProduceAll(p: RdProducerT, topic: string, n: number, value: (i: number) => Buffer, onQueued?: () => void): Promise<void> {
  return new Promise((ok) => {
    let i = 0;
    const pump = () => {
      try {
        for (; i < n; i++) p.produce(topic, null, value(i), null);
        onQueued?.();
        ok();
      } catch (err) {
        if ((err as { code?: number }).code !== CODES.ERRORS.ERR__QUEUE_FULL) throw err;
        p.poll();
        setTimeout(pump, 1);
      }
    };
    pump();
  });
}

const raw = (brokers: string): Client => ({
  name: 'raw',

  async produce(topic, n) {
    const p = await rdConnectProducer(brokers);
    try {
      await rdProduceAll(p, topic, 1, (i) => encode(rows[i])); // metadata and connection
      await cb((done) => p.flush(10_000, done));
      const data = rowsUpTo(n);
      const clock = new Clock();
      const delivered = new Promise<void>((ok, fail) => {
        let count = 0;
        p.on('delivery-report', (err) => {
          if (err) fail(err);
          else if (++count === n) ok();
        });
      });
      clock.first();
      await rdProduceAll(p, topic, n, (i) => encode(data[i]));
      await deadline('raw produce', delivered);
      clock.end();
      return clock.result(n);
    } finally {
      await rdClose(p);
    }
  },

  async consume(topic, n) {
    const clock = new Clock();
    const c = await rdConnectConsumer(brokers, topic);
    try {
      await deadline('raw consume', new Promise<void>((ok, fail) => {
        let count = 0;
        const next = () => c.consume(RAW_BATCH, (err, msgs) => {
          if (err) return fail(err);
          if (msgs.length > 0) clock.first();
          for (const m of msgs) decode(m.value);
          count += msgs.length;
          if (count >= n) ok();
          else next();
        });
        next();
      }));
      clock.end();
      return clock.result(n);
    } finally {
      await rdClose(c);
    }
  },

  async pipeline(input, output, n) {
    const clock = new Clock();
    const p = await rdConnectProducer(brokers);
    // Offsets are stored once outputs are delivered, and auto-committed from the store.
    const c = await rdConnectConsumer(brokers, input, { 'enable.auto.offset.store': false });
    try {
      await deadline('raw pipeline', new Promise<void>((ok, fail) => {
        type Batch = { done: boolean; offsets: Map<number, number>; left: number };
        let finished = false;
        const order = new OrderedOffsets<Batch>((offsets) => {
          // Messages past the n-th may still report after the phase ended and the consumer closed.
          if (!finished) c.offsetsStore([...offsets].map(([partition, offset]) => ({ topic: input, partition, offset: offset + 1 })));
        });
        let consumed = 0;
        let delivered = 0;
        let inFlight = 0;
        let waiting = false;
        const MAX_IN_FLIGHT = 50_000;
        p.on('delivery-report', (err, report) => {
          if (err) return fail(err);
          const batch = report.opaque as Batch;
          inFlight--;
          if (--batch.left === 0) {
            batch.done = true;
            order.settle();
          }
          if (++delivered === n) {
            finished = true;
            ok();
          } else if (waiting && inFlight < MAX_IN_FLIGHT / 2) {
            waiting = false;
            next();
          }
        });
        const next = (): void => {
          if (consumed >= n) return;
          if (inFlight >= MAX_IN_FLIGHT) {
            waiting = true;
            return;
          }
          c.consume(RAW_BATCH, (err, msgs) => {
            if (err) return fail(err);
            if (msgs.length > 0) {
              clock.first();
              const batch: Batch = { done: false, offsets: new Map(), left: msgs.length };
              order.push(batch);
              for (const m of msgs) {
                batch.offsets.set(m.partition, m.offset);
                const out = encode(transform(decode(m.value)));
                for (;;) {
                  try {
                    p.produce(output, null, out, m.key, null, batch);
                    break;
                  } catch (e) {
                    if ((e as { code?: number }).code !== CODES.ERRORS.ERR__QUEUE_FULL) throw e;
                    p.poll();
                  }
                }
              }
              inFlight += msgs.length;
              consumed += msgs.length;
            }
            next();
          });
        };
        next();
      }));
      clock.end();
      return clock.result(n);
    } finally {
      await rdClose(c);
      await rdClose(p);
    }
  },
});

/**
 * The raw client again, with librdkafka's delivery reports for errors only
 * (`delivery.report.only.error`) and `flush()` to know that everything queued was delivered:
 * no JavaScript call per delivered message. The pipeline then runs batch by batch: consume,
 * produce, flush, store the offsets.
 */
const rawFlush = (brokers: string): Client => {
  const connect = async () => {
    const p = new RdProducer({ ...rdProducerConfig(brokers), 'client.id': 'bench-raw-flush', 'delivery.report.only.error': true });
    await cb<unknown>((done) => p.connect({ timeout: 15_000 }, done));
    p.setPollInterval(50);
    return p;
  };
  const watch = (p: RdProducerT) => new Promise<never>((_, fail) => p.on('delivery-report', (err) => fail(err ?? new Error('delivery failed'))));
  return {
    name: 'raw-flush',

    async produce(topic, n) {
      const p = await connect();
      try {
        await rdProduceAll(p, topic, 1, (i) => encode(rows[i]));
        await cb((done) => p.flush(10_000, done));
        const data = rowsUpTo(n);
        const clock = new Clock();
        clock.first();
        const failed = watch(p);
        await rdProduceAll(p, topic, n, (i) => encode(data[i]));
        await deadline('raw-flush produce', Promise.race([failed, cb((done) => p.flush(60_000, done))]));
        clock.end();
        return clock.result(n);
      } finally {
        await rdClose(p);
      }
    },

    consume: undefined,

    async pipeline(input, output, n) {
      const clock = new Clock();
      const p = await connect();
      const c = await rdConnectConsumer(brokers, input, { 'enable.auto.offset.store': false });
      try {
        const failed = watch(p);
        const run = async () => {
          let done = 0;
          while (done < n) {
            const msgs = await cb<Confluent.Message[]>((d) => c.consume(RAW_BATCH, d));
            if (msgs.length === 0) continue;
            clock.first();
            const last = new Map<number, number>();
            for (const m of msgs) {
              last.set(m.partition, m.offset);
              const out = encode(transform(decode(m.value)));
              for (;;) {
                try {
                  p.produce(output, null, out, m.key, null);
                  break;
                } catch (e) {
                  if ((e as { code?: number }).code !== CODES.ERRORS.ERR__QUEUE_FULL) throw e;
                  p.poll();
                }
              }
            }
            await cb((d) => p.flush(60_000, d));
            c.offsetsStore([...last].map(([partition, offset]) => ({ topic: input, partition, offset: offset + 1 })));
            done += msgs.length;
            clock.progress(done, n);
          }
        };
        await deadline('raw-flush pipeline', Promise.race([failed, run()]));
        clock.end();
        return clock.result(n);
      } finally {
        await rdClose(c);
        await rdClose(p);
      }
    },
  };
};

/**
 * The raw client in the shape of snoopy's worker (issue 15, fifth pass), the fastest hand-written
 * at-least-once loop found so far: the next `consume()` is always in flight while a batch is
 * processed; every message is produced at once; one `flush()` at a time covers what was produced
 * before it began (messages produced while it runs are held for the next one, as librdkafka sends
 * at once what is queued during a flush); an epoch's offsets are stored once its flush returned
 * and a turn of the event loop brought no failure report. raw-flush's loop waits for each flush;
 * this one keeps working.
 */
const rawOverlap = (brokers: string): Client => ({
  name: 'raw-overlap',
  produce: undefined,
  consume: undefined,

  async pipeline(input, output, n) {
    const clock = new Clock();
    const p = new RdProducer({ ...rdProducerConfig(brokers), 'client.id': 'bench-raw-overlap', 'delivery.report.only.error': true });
    await cb<unknown>((done) => p.connect({ timeout: 15_000 }, done));
    p.setPollInterval(50);
    const c = await rdConnectConsumer(brokers, input, { 'enable.auto.offset.store': false });
    const OVERLAP_BATCH = 1000;
    try {
      await deadline('raw-overlap pipeline', new Promise<void>((ok, fail) => {
        type Epoch = { n: number; last: Map<number, number> };
        let open: Epoch = { n: 0, last: new Map() };
        let held: Array<{ value: Buffer; key: Confluent.MessageKey; partition: number; offset: number }> = [];
        let flushing = false;
        let reports = 0;
        let delivered = 0;
        let finished = false;
        p.on('delivery-report', (err) => {
          reports++;
          finished = true;
          fail(err ?? new Error('delivery failed'));
        });
        const send = (value: Buffer, key: Confluent.MessageKey, partition: number, offset: number): void => {
          for (;;) {
            try {
              p.produce(output, null, value, key, null);
              break;
            } catch (e) {
              if ((e as { code?: number }).code !== CODES.ERRORS.ERR__QUEUE_FULL) throw e;
              p.poll();
            }
          }
          open.n++;
          open.last.set(partition, offset);
        };
        const flush = (): void => {
          if (flushing || open.n === 0 || finished) return;
          flushing = true;
          const epoch = open;
          open = { n: 0, last: new Map() };
          const seen = reports;
          p.flush(60_000, (err) => {
            if (err) return fail(err);
            // Failure reports reach JavaScript on their own turn: confirm after one without any.
            setImmediate(() => {
              if (reports !== seen || finished) return;
              c.offsetsStore([...epoch.last].map(([partition, offset]) => ({ topic: input, partition, offset: offset + 1 })));
              delivered += epoch.n;
              clock.progress(delivered, n);
              flushing = false;
              const h = held;
              held = [];
              for (const m of h) send(m.value, m.key, m.partition, m.offset);
              if (delivered >= n) {
                finished = true;
                ok();
              } else flush();
            });
          });
        };
        let consumed = 0;
        const onBatch = (err: unknown, msgs: Confluent.Message[]): void => {
          if (err) return fail(err);
          if (finished) return;
          consumed += msgs.length;
          // The next batch is fetched while this one is processed.
          if (consumed < n) c.consume(OVERLAP_BATCH, onBatch);
          if (msgs.length === 0) return;
          clock.first();
          for (const m of msgs) {
            const out = encode(transform(decode(m.value)));
            if (flushing) held.push({ value: out, key: m.key, partition: m.partition, offset: m.offset });
            else send(out, m.key, m.partition, m.offset);
          }
          setImmediate(flush);
        };
        c.consume(OVERLAP_BATCH, onBatch);
      }));
      clock.end();
      return clock.result(n);
    } finally {
      await rdClose(c);
      await rdClose(p);
    }
  },
});

// ------------------------------------------------------------------------------------------------
// kafkajs: batched sends, eachBatch.

const SEND_BATCH = 1000;
const SEND_CONCURRENCY = 4;

/** Sends `n` messages in batches of SEND_BATCH with up to SEND_CONCURRENCY sends in flight. */
async function sendBatched(n: number, send: (from: number, to: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const from = next;
      next = Math.min(n, next + SEND_BATCH);
      await send(from, next);
    }
  };
  await Promise.all(Array.from({ length: SEND_CONCURRENCY }, worker));
}

const kjs = (brokers: string): Client => {
  const kafka = new kafkajs.Kafka({ clientId: 'bench-kafkajs', brokers: brokers.split(','), logLevel: kafkajs.logLevel.ERROR });
  return {
    name: 'kafkajs',

    async produce(topic, n) {
      const producer = kafka.producer({ allowAutoTopicCreation: false });
      await producer.connect();
      try {
        await producer.send({ topic, acks: -1, messages: [{ value: encode(rows[0]) }] });
        const data = rowsUpTo(n);
        const clock = new Clock();
        clock.first();
        await deadline('kafkajs produce', sendBatched(n, (from, to) => producer.send({
          topic, acks: -1, messages: data.slice(from, to).map((r) => ({ value: encode(r) })),
        })));
        clock.end();
        return clock.result(n);
      } finally {
        await producer.disconnect();
      }
    },

    async consume(topic, n) {
      const clock = new Clock();
      const consumer = kafka.consumer({ groupId: unique('bench-kafkajs'), maxBytes: 52_428_800, maxWaitTimeInMs: 50 });
      await consumer.connect();
      try {
        await consumer.subscribe({ topic, fromBeginning: true });
        await deadline('kafkajs consume', new Promise<void>((ok, fail) => {
          let count = 0;
          consumer.run({
            partitionsConsumedConcurrently: PARTITIONS,
            eachBatch: async ({ batch }) => {
              clock.first();
              for (const m of batch.messages) decode(m.value);
              count += batch.messages.length;
              if (count >= n) ok();
            },
          }).catch(fail);
        }));
        clock.end();
        return clock.result(n);
      } finally {
        await consumer.disconnect();
      }
    },

    async pipeline(input, output, n) {
      const clock = new Clock();
      const producer = kafka.producer({ allowAutoTopicCreation: false });
      const consumer = kafka.consumer({ groupId: unique('bench-kafkajs'), maxBytes: 52_428_800, maxWaitTimeInMs: 50 });
      await Promise.all([producer.connect(), consumer.connect()]);
      try {
        await consumer.subscribe({ topic: input, fromBeginning: true });
        await deadline('kafkajs pipeline', new Promise<void>((ok, fail) => {
          let count = 0;
          consumer.run({
            partitionsConsumedConcurrently: PARTITIONS,
            eachBatchAutoResolve: false,
            eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary }) => {
              clock.first();
              const msgs = batch.messages;
              if (msgs.length === 0) return;
              await producer.send({
                topic: output, acks: -1,
                messages: msgs.map((m) => ({ key: m.key, value: encode(transform(decode(m.value))) })),
              });
              resolveOffset(msgs[msgs.length - 1]!.offset);
              await commitOffsetsIfNecessary();
              await heartbeat();
              count += msgs.length;
              if (count >= n) ok();
            },
          }).catch(fail);
        }));
        clock.end();
        return clock.result(n);
      } finally {
        await consumer.disconnect();
        await producer.disconnect();
      }
    },
  };
};

// ------------------------------------------------------------------------------------------------
// @platformatic/kafka: batched sends, stream consumer.

const plat = (brokers: string): Client => {
  const bootstrapBrokers = brokers.split(',');
  const newProducer = () => new plt.Producer({
    clientId: 'bench-platformatic', bootstrapBrokers, acks: plt.ProduceAcks.ALL, autocreateTopics: false,
  });
  const newConsumer = () => new plt.Consumer({
    clientId: 'bench-platformatic', groupId: unique('bench-platformatic'), bootstrapBrokers,
    maxWaitTime: 50, maxBytes: 52_428_800,
  });
  return {
    name: 'platformatic',

    async produce(topic, n) {
      const producer = newProducer();
      try {
        await producer.send({ messages: [{ topic, value: encode(rows[0]) }] });
        const data = rowsUpTo(n);
        const clock = new Clock();
        clock.first();
        await deadline('platformatic produce', sendBatched(n, (from, to) => producer.send({
          messages: data.slice(from, to).map((r) => ({ topic, value: encode(r) })),
        })));
        clock.end();
        return clock.result(n);
      } finally {
        await producer.close();
      }
    },

    async consume(topic, n) {
      const clock = new Clock();
      const consumer = newConsumer();
      try {
        const stream = await consumer.consume({ topics: [topic], mode: plt.MessagesStreamModes.EARLIEST, autocommit: 1000 });
        await deadline('platformatic consume', new Promise<void>((ok, fail) => {
          let count = 0;
          stream.on('error', fail);
          stream.on('data', (m) => {
            clock.first();
            decode(m.value);
            if (++count === n) ok();
          });
        }));
        clock.end();
        await stream.close();
        return clock.result(n);
      } finally {
        await consumer.close(true);
      }
    },

    async pipeline(input, output, n) {
      const clock = new Clock();
      const producer = newProducer();
      const consumer = newConsumer();
      try {
        const stream = await consumer.consume({ topics: [input], mode: plt.MessagesStreamModes.EARLIEST, autocommit: false });
        await deadline('platformatic pipeline', new Promise<void>((ok, fail) => {
          type In = import('@platformatic/kafka').Message<Buffer, Buffer, Buffer, Buffer>;
          type Batch = { done: boolean; last: Map<number, In> };
          const queue: Batch[] = []; // in consumption order
          let delivered = 0;
          let inFlight = 0;
          let buffer: In[] = [];
          let scheduled = false;
          const flush = () => {
            scheduled = false;
            if (buffer.length === 0) return;
            const msgs = buffer;
            buffer = [];
            const batch: Batch = { done: false, last: new Map() };
            for (const m of msgs) batch.last.set(m.partition, m);
            queue.push(batch);
            inFlight++;
            if (inFlight >= SEND_CONCURRENCY) stream.pause();
            producer.send({
              messages: msgs.map((m) => ({ topic: output, key: m.key, value: encode(transform(decode(m.value))) })),
            }).then(() => {
              batch.done = true;
              commitSettled();
              inFlight--;
              if (stream.isPaused()) stream.resume();
              delivered += msgs.length;
              if (delivered >= n) ok();
            }, fail);
          };
          // Commits the last message of each partition of the settled prefix of batches.
          const settledLast = new Map<number, In>();
          const commitSettled = () => {
            while (queue.length > 0 && queue[0]!.done) {
              for (const [p, m] of queue.shift()!.last) settledLast.set(p, m);
            }
            for (const m of settledLast.values()) (m.commit() as Promise<void>).catch(fail);
            settledLast.clear();
          };
          stream.on('error', fail);
          stream.on('data', (m: In) => {
            clock.first();
            buffer.push(m);
            if (buffer.length >= SEND_BATCH) flush();
            else if (!scheduled) {
              scheduled = true;
              setImmediate(flush);
            }
          });
        }));
        clock.end();
        await stream.close();
        return clock.result(n);
      } finally {
        await consumer.close(true);
        await producer.close();
      }
    },
  };
};

// ------------------------------------------------------------------------------------------------
// The run

async function createTopics(brokers: string, names: string[]): Promise<void> {
  const admin = RdAdmin.create({ 'bootstrap.servers': brokers });
  try {
    for (const topic of names) {
      await cb((done) => admin.createTopic({ topic, num_partitions: PARTITIONS, replication_factor: 1 }, 15_000, done));
    }
  } finally {
    admin.disconnect();
  }
}

/** Sum of the high watermarks of a topic's partitions: how many messages it holds. */
async function countMessages(brokers: string, topic: string): Promise<number> {
  const c = new RdConsumer({ 'bootstrap.servers': brokers, 'group.id': unique('bench-count') }, {});
  await cb<unknown>((done) => c.connect({ timeout: 15_000 }, done));
  try {
    let total = 0;
    for (let p = 0; p < PARTITIONS; p++) {
      const w = await cb<{ highOffset: number }>((done) => c.queryWatermarkOffsets(topic, p, 10_000, done));
      total += w.highOffset;
    }
    return total;
  } finally {
    await rdClose(c);
  }
}

interface Broker { bootstrapServers: string; stop(): Promise<void> }

async function broker(): Promise<Broker> {
  const given = process.env.KAFKA_BOOTSTRAP_SERVERS;
  if (given) return { bootstrapServers: given, stop: async () => {} };
  const url = new URL('../../test/broker/broker.mjs', import.meta.url).href;
  const { startBroker } = (await import(url)) as { startBroker(o?: object): Promise<Broker> };
  return startBroker();
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  const b = await broker();
  const brokers = b.bootstrapServers;
  const onSignal = () => { void b.stop().finally(() => process.exit(130)); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const makers: Array<(brokers: string) => Client> = [raw, rawFlush, rawOverlap, kjs, plat];
    const snoopyClient = await loadSnoopy();
    if (snoopyClient) makers.push(snoopyClient);
    const wanted = process.env.BENCH_CLIENTS?.split(',');
    const clients = makers.map((make) => make(brokers)).filter((c) => !wanted || wanted.includes(c.name));

    console.log(`Kafka bench: N=${N} messages of ${VALUE_BYTES} B JSON, ${PARTITIONS} partitions, acks=all, `
      + `${ROUNDS} round(s), best reported; ${cpus().length} cores shared with the broker at ${brokers}`);

    // One input topic, filled once by the raw client, read by every consumer and pipeline.
    const input = unique('bench-input');
    await createTopics(brokers, [input]);
    await raw(brokers).produce!(input, N);
    if (await countMessages(brokers, input) < N) throw new Error(`input topic ${input} does not hold ${N} messages`);

    const best = new Map<string, Result>();
    for (let round = 1; round <= ROUNDS; round++) {
      for (const phase of PHASES) {
        for (const client of clients) {
          if ((phase === 'consume' && !client.consume) || (phase === 'produce' && !client.produce)) continue;
          const out = unique(`bench-${client.name}-${phase}`);
          if (phase !== 'consume') await createTopics(brokers, [out]);
          const r = phase === 'produce' ? await client.produce!(out, N)
            : phase === 'consume' ? await client.consume!(input, N)
            : await client.pipeline(input, out, N);
          if (phase !== 'consume') {
            const held = await countMessages(brokers, out);
            if (held < N) throw new Error(`${client.name} ${phase}: ${out} holds ${held} of ${N} messages`);
          }
          console.log(`  round ${round} ${phase.padEnd(8)} ${client.name.padEnd(12)} ${fmt(r.rate).padStart(9)} msg/s`
            + `  (${fmt(r.ms)} ms; first message after ${fmt(r.startupMs)} ms; ${fmt(r.steady)} msg/s after it)`);
          const key = `${phase}/${client.name}`;
          if (!best.has(key) || best.get(key)!.rate < r.rate) best.set(key, r);
        }
      }
    }

    const cell = (phase: string, name: string, f: (r: Result) => string) => {
      const r = best.get(`${phase}/${name}`);
      return r ? f(r) : '-';
    };
    console.log('\nmsg/s (best round)');
    console.log(`${'phase'.padEnd(10)}${clients.map((c) => c.name.padStart(14)).join('')}`);
    for (const phase of PHASES) {
      console.log(`${phase.padEnd(10)}${clients.map((c) => cell(phase, c.name, (r) => fmt(r.rate)).padStart(14)).join('')}`);
    }
    if (clients.some((c) => c.name === 'snoopy')) {
      console.log('\nratios (snoopy / other)');
      const others = clients.filter((c) => c.name !== 'snoopy');
      console.log(`${'phase'.padEnd(10)}${others.map((c) => `/${c.name}`.padStart(14)).join('')}`);
      for (const phase of PHASES) {
        const s = best.get(`${phase}/snoopy`);
        console.log(`${phase.padEnd(10)}${others.map((c) => cell(phase, c.name, (r) => (s ? `${(s.rate / r.rate).toFixed(2)}x` : '-')).padStart(14)).join('')}`);
      }
    }
  } finally {
    await b.stop();
  }
}

// ------------------------------------------------------------------------------------------------
// snoopy: Topic from @snoopy/kafka with snap/stream from @snoopy/core, default options.

type SnoopyKafka = typeof import('@snoopy/kafka');
type SnoopyCore = typeof import('@snoopy/core');

const streamOptions = (signal?: AbortSignal) => ({ signal, handleSignals: false, progress: false as const });

/** Resolves once `count()` reaches `n` (checked every 2 ms). */
function reach(count: () => number, n: number): Promise<void> {
  return new Promise((ok) => {
    const timer = setInterval(() => {
      if (count() >= n) {
        clearInterval(timer);
        ok();
      }
    }, 2);
  });
}

/** Runs the default registry's snaps until `done` resolves, then stops the stream gracefully. */
async function runUntil(core: SnoopyCore, what: string, done: Promise<void>): Promise<void> {
  const stop = new AbortController();
  const streaming = core.stream(streamOptions(stop.signal));
  await deadline(what, Promise.race([done, streaming.then(() => { throw new Error(`${what}: the stream ended early`); })]));
  stop.abort();
  await streaming.catch((err: unknown) => {
    if (!(err instanceof Error && err.name === 'AbortError')) throw err;
  });
}

/** Topic options for the consuming side: the defaults unless BENCH_SNOOPY_FETCH sets `fetchBatchSize`. */
const snoopySourceOptions = () => ({
  offset: 'earliest' as const,
  ...(process.env.BENCH_SNOOPY_FETCH ? { fetchBatchSize: Number(process.env.BENCH_SNOOPY_FETCH) } : {}),
});

/** BENCH_SNOOPY_PENDING: the snaps' maxPending (experiments only; core's default otherwise). */
const snoopyPending = () => (process.env.BENCH_SNOOPY_PENDING ? { maxPending: Number(process.env.BENCH_SNOOPY_PENDING) } : {});

/** BENCH_SNOOPY_TUNED: librdkafka settings added to every snoopy Topic's config (experiments only). */
const snoopyTuned = (): Record<string, string | number | boolean> => (process.env.BENCH_SNOOPY_TUNED ? JSON.parse(process.env.BENCH_SNOOPY_TUNED) : {});

const snoopy = (kafka: SnoopyKafka, core: SnoopyCore) => (brokers: string): Client => ({
  name: 'snoopy',

  async produce(topic, n) {
    const t = kafka.Topic<Row>(topic, { 'bootstrap.servers': brokers, ...snoopyTuned() });
    try {
      await t(rows[0]!); // metadata and connection
      const data = rowsUpTo(n).slice(0, n);
      const clock = new Clock();
      clock.first();
      core.snap(data, { sink: [t], name: 'bench-produce', ...snoopyPending() })((r: Row) => r);
      await deadline('snoopy produce', core.stream(streamOptions()));
      clock.end();
      if (t.stats.delivered < n) throw new Error(`snoopy produce: ${t.stats.delivered} of ${n} delivered`);
      return clock.result(n);
    } finally {
      await t.close();
    }
  },

  async consume(topic, n) {
    const clock = new Clock();
    const t = kafka.Topic<Row>(topic, { 'bootstrap.servers': brokers, 'group.id': unique('bench-snoopy'), ...snoopyTuned() }, snoopySourceOptions());
    try {
      let count = 0;
      let sum = 0;
      core.snap(t, { name: 'bench-consume' })((m: { value: Row }) => {
        clock.first();
        sum += m.value.id;
        count++;
      });
      await runUntil(core, 'snoopy consume', reach(() => count, n));
      clock.end();
      return clock.result(n);
    } finally {
      await t.close();
    }
  },

  async pipeline(input, output, n) {
    const clock = new Clock();
    const src = kafka.Topic<Row>(input, { 'bootstrap.servers': brokers, 'group.id': unique('bench-snoopy'), ...snoopyTuned() }, snoopySourceOptions());
    const out = kafka.Topic<ReturnType<typeof transform>>(output, { 'bootstrap.servers': brokers, ...snoopyTuned() });
    try {
      core.snap(src, { sink: [out], name: 'bench-pipeline', ...snoopyPending() })((m: { value: Row }) => {
        clock.first();
        return transform(m.value);
      });
      await runUntil(core, 'snoopy pipeline', reach(() => {
        const delivered = out.stats.delivered;
        clock.progress(delivered, n);
        return delivered;
      }, n));
      clock.end();
      return clock.result(n);
    } finally {
      await src.close();
      await out.close();
    }
  },
});

/** snoopy's client, when @snoopy/kafka and @snoopy/core are built and export Topic, snap and stream. */
async function loadSnoopy(): Promise<((brokers: string) => Client) | undefined> {
  try {
    const [kafka, core] = await Promise.all([import('@snoopy/kafka'), import('@snoopy/core')]);
    if (typeof kafka.Topic !== 'function' || typeof core.snap !== 'function' || typeof core.stream !== 'function') return undefined;
    return snoopy(kafka, core);
  } catch (err) {
    console.log(`(snoopy skipped: ${err instanceof Error ? err.message : String(err)})`);
    return undefined;
  }
}

// ------------------------------------------------------------------------------------------------
// Rebalance settle time (`node bench/dist/kafka.js rebalance`): two snoopy consumers share a
// 6-partition topic fed at a steady rate; a third joins. Measured per protocol, rounds
// interleaved: `settle`, from the third member's start to its first message (the group is whole
// again); `stall`, the longest time after the join in which no member got a message; `again`,
// messages handed out twice (redelivered because a revocation dropped them or their commit).

async function rebalanceBench(): Promise<void> {
  const b = await broker();
  const brokers = b.bootstrapServers;
  const kafka = await import('@snoopy/kafka');
  const { ack } = await import('@snoopy/core');
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  // BENCH_HANDLER_MS: each member works this long per message (with 8 at a time), so a revocation
  // has messages in flight to wait for, as with a real handler.
  const handlerMs = Number(process.env.BENCH_HANDLER_MS ?? 0);
  const protocols = { eager: 'range,roundrobin', cooperative: 'cooperative-sticky' } as const;
  const figures: Record<string, Array<{ settle: number; stall: number; again: number }>> = { eager: [], cooperative: [] };
  try {
    console.log(`Rebalance bench: 6 partitions, ~2,000 msg/s, 2 members then a third joins; handler ${handlerMs} ms; ${rounds} interleaved rounds; broker ${brokers}`);
    for (let round = 0; round < rounds; round++) {
      for (const name of (round % 2 === 0 ? ['eager', 'cooperative'] : ['cooperative', 'eager']) as Array<keyof typeof protocols>) {
        const topicName = unique(`bench-rebalance-${name}`);
        const producer = kafka.Topic<number>(topicName, { 'bootstrap.servers': brokers });
        await producer.create({ partitions: 6 });
        let n = 0;
        let feeding = true;
        const feed = (async () => {
          while (feeding) {
            await Promise.all(Array.from({ length: 20 }, () => producer(n++)));
            await new Promise((r) => setTimeout(r, 10));
          }
        })();
        const group = unique('bench-rebalance-group');
        const seen = new Set<string>();
        let again = 0;
        let last = performance.now();
        let joinedAt = 0;
        let stall = 0;
        const members: Array<{ first: number; stop: () => Promise<void> }> = [];
        const member = () => {
          const topic = kafka.Topic<number>(topicName, { 'bootstrap.servers': brokers, 'group.id': group, 'partition.assignment.strategy': protocols[name], 'session.timeout.ms': 6000, 'heartbeat.interval.ms': 500 });
          const it = topic[Symbol.asyncIterator]();
          const m = { first: 0, stop: async () => {} };
          let running = true;
          let inFlight = 0;
          const loop = (async () => {
            while (running) {
              const r = await it.next();
              if (r.done) return;
              const now = performance.now();
              if (joinedAt > 0) stall = Math.max(stall, now - last);
              last = now;
              if (m.first === 0) m.first = now;
              const id = `${r.value.partition}:${r.value.offset}`;
              if (seen.has(id)) again++;
              seen.add(id);
              const done = () => (topic as unknown as Record<symbol, (item: unknown) => void>)[ack]!(r.value);
              if (handlerMs === 0) done();
              else {
                // Up to 8 in flight, acknowledged when their work ends.
                inFlight++;
                setTimeout(() => { inFlight--; done(); }, handlerMs);
                while (inFlight >= 8) await new Promise((resolve) => setTimeout(resolve, 1));
              }
            }
          })();
          m.stop = async () => {
            running = false;
            await it.return?.();
            await loop.catch(() => {});
            await topic.close();
          };
          members.push(m);
          return m;
        };
        const waitFor = async (check: () => boolean, what: string) => {
          const end = performance.now() + 60_000;
          while (!check()) {
            if (performance.now() > end) throw new Error(`rebalance bench: timed out waiting for ${what}`);
            await new Promise((r) => setTimeout(r, 5));
          }
        };
        const a = member();
        const c2 = member();
        await waitFor(() => a.first > 0 && c2.first > 0, 'two members consuming');
        await new Promise((r) => setTimeout(r, 2000));
        joinedAt = performance.now();
        last = joinedAt;
        const third = member();
        await waitFor(() => third.first > 0, 'the third member\'s first message');
        const settle = third.first - joinedAt;
        await new Promise((r) => setTimeout(r, 2000));
        feeding = false;
        await feed;
        for (const m of members) await m.stop();
        await producer.close();
        figures[name]!.push({ settle, stall, again });
        console.log(`  round ${round + 1} ${name.padEnd(11)} settle ${fmt(settle)} ms, longest stall ${fmt(stall)} ms, ${again} redelivered`);
      }
    }
    const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
    console.log('\nmedians          settle ms   stall ms   redelivered');
    for (const name of ['eager', 'cooperative']) {
      const f = figures[name]!;
      console.log(`${name.padEnd(16)}${fmt(med(f.map((x) => x.settle))).padStart(10)}${fmt(med(f.map((x) => x.stall))).padStart(11)}${String(med(f.map((x) => x.again))).padStart(14)}`);
    }
  } finally {
    await b.stop();
  }
}

// ------------------------------------------------------------------------------------------------
// Separate processes (`node bench/dist/kafka.js processes`, issue 15): each contender's pipeline
// runs as its own worker process, as users run them, one at a time, rounds interleaved (the order
// rotates). Measured: wall time from spawning the process to its exit after the N-th output was
// acknowledged (module loading, connecting and joining the group included), and the worker's
// peak RSS. Every worker runs this same file but imports only its own client's library (and
// the Confluent binding, which the bench's helpers use), as a user's worker would.

async function clientsFor(brokers: string, only?: string): Promise<Client[]> {
  const byName: Record<string, (brokers: string) => Client> = { raw, 'raw-flush': rawFlush, 'raw-overlap': rawOverlap, kafkajs: kjs, platformatic: plat };
  const makers = only === undefined ? Object.values(byName) : only in byName ? [byName[only]!] : [];
  if (only === undefined || only === 'snoopy') {
    const snoopyClient = await loadSnoopy();
    if (snoopyClient) makers.push(snoopyClient);
  }
  const wanted = only === undefined ? process.env.BENCH_CLIENTS?.split(',') : undefined;
  return makers.map((make) => make(brokers)).filter((c) => !wanted || wanted.includes(c.name));
}

/** The child: `kafka.js pipeline-worker <client> <brokers> <input> <output> <n>`. */
async function pipelineWorker(): Promise<void> {
  // Garbage collection on the main thread: pauses by kind (scavenge, mark-compact...), summed.
  const gc = { count: 0, ms: 0, major: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gc.count++;
      gc.ms += e.duration;
      if (((e as { detail?: unknown } as { detail?: { kind?: number } }).detail?.kind ?? 0) !== constants.NODE_PERFORMANCE_GC_MINOR) gc.major++;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  const [name, brokers, input, output, n] = process.argv.slice(3) as [string, string, string, string, string];
  const client = (await clientsFor(brokers, name)).find((c) => c.name === name);
  if (!client) throw new Error(`no client ${name}`);
  // performance.now() counts from the process's start: `loadMs` is module loading and start-up.
  const loadMs = performance.now();
  const r = await client.pipeline(input, output, Number(n));
  const closedMs = performance.now();
  const usage = process.resourceUsage();
  if (process.env.BENCH_THREADS) threadTimes();
  // cpuMs: the worker's whole CPU time, every thread (librdkafka's included), user and system.
  observer.disconnect();
  console.log(JSON.stringify({ ...r, loadMs, closeMs: closedMs - loadMs - r.ms, maxRssMb: usage.maxRSS / 1024, cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000, gc }));
}

/**
 * The machine's CPU time (Linux /proc/stat, every process, all cores) as clock ticks; given an
 * earlier reading, the share of the time since that was busy and stolen by the hypervisor, in %.
 */
function machineTicks(): number[];
function machineTicks(before: number[]): { busy: number; steal: number };
function machineTicks(before?: number[]): number[] | { busy: number; steal: number } {
  let now: number[] = [];
  try {
    now = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  } catch {
    // not Linux
  }
  if (before === undefined) return now;
  if (now.length < 8 || before.length < 8) return { busy: NaN, steal: NaN };
  const d = now.map((x, i) => x - (before[i] ?? 0));
  const total = d.slice(0, 8).reduce((a, b) => a + b, 0);
  // user nice system idle iowait irq softirq steal
  const busy = d[0]! + d[1]! + d[2]! + d[5]! + d[6]!;
  return { busy: Math.round((100 * busy) / total), steal: Math.round((100 * d[7]!) / total) };
}

/**
 * BENCH_THREADS=1: each worker prints its threads' CPU time (Linux /proc), sampled every 50 ms
 * so that threads which ended (librdkafka's, at close) keep their last figure; the main thread
 * first, then by start time (V8's platform workers start with the process), to stderr.
 */
const threadCpu = new Map<string, { start: number; ms: number }>();
function sampleThreads(): void {
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      threadCpu.set(tid, { start: Number(f[19]), ms: (Number(f[11]) + Number(f[12])) * 10 });
    } catch {
      // the thread ended
    }
  }
}
if (process.env.BENCH_THREADS && workerOf !== undefined) setInterval(sampleThreads, 50).unref();
function threadTimes(): void {
  sampleThreads();
  const main = threadCpu.get(String(process.pid));
  const start0 = main?.start ?? 0;
  const rest = [...threadCpu].filter(([tid, t]) => tid !== String(process.pid) && t.ms > 0).sort((a, b) => a[1].start - b[1].start);
  console.error(`  threads (ms): main ${main?.ms}, ${rest.map(([, t]) => `+${t.start - start0}:${t.ms}`).join(' ')}`);
}

async function processesBench(): Promise<void> {
  const b = await broker();
  const brokers = b.bootstrapServers;
  const self = fileURLToPath(import.meta.url);
  try {
    const names = (await clientsFor(brokers)).map((c) => c.name);
    console.log(`Kafka bench, separate processes: pipeline of N=${N} messages of ${VALUE_BYTES} B JSON, ${PARTITIONS} partitions, `
      + `${ROUNDS} interleaved round(s), medians; ${cpus().length} cores shared with the broker at ${brokers}`);
    const input = unique('bench-input');
    await createTopics(brokers, [input]);
    await raw(brokers).produce!(input, N);
    if (await countMessages(brokers, input) < N) throw new Error(`input topic ${input} does not hold ${N} messages`);
    const figures = new Map<string, Array<{ rate: number; rss: number }>>();
    for (let round = 0; round < ROUNDS; round++) {
      const order = names.map((_, i) => names[(i + round) % names.length]!);
      for (const name of order) {
        const out = unique(`bench-proc-${name}`);
        await createTopics(brokers, [out]);
        const machineBefore = machineTicks();
        const started = performance.now();
        // BENCH_CPU_PROF=<dir>: each worker writes a V8 CPU profile there (node --cpu-prof).
        const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`, `--cpu-prof-name=${name}-${round + 1}.cpuprofile`] : [];
        // BENCH_NODE_ARGS: more node flags for each worker (space-separated), e.g. --trace-deopt.
        const nodeArgs = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
        // `--conditions=snoopy-bundle`: @snoopy/* load as npm users get them, one bundle per package.
        const child = spawn(process.execPath, ['--conditions=snoopy-bundle', ...prof, ...nodeArgs, self, 'pipeline-worker', name, brokers, input, out, String(N)], { stdio: ['ignore', 'pipe', 'inherit'] });
        let stdout = '';
        child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        const code = await deadline(`${name} worker`, new Promise<number | null>((resolve) => child.on('exit', resolve)));
        if (process.env.BENCH_WORKER_OUT) writeFileSync(`${process.env.BENCH_WORKER_OUT}/${name}-${round + 1}.out`, stdout);
        const wall = performance.now() - started;
        const machine = machineTicks(machineBefore);
        if (code !== 0) throw new Error(`${name} worker exited with ${code}: ${stdout}`);
        const held = await countMessages(brokers, out);
        if (held < N) throw new Error(`${name} worker: ${out} holds ${held} of ${N} messages`);
        const line = stdout.trim().split('\n').find((l) => l.startsWith('{'));
        const w = line ? (JSON.parse(line) as Result & { maxRssMb: number; loadMs: number; closeMs: number; cpuMs: number; gc: { count: number; ms: number; major: number } }) : undefined;
        const rss = w?.maxRssMb ?? NaN;
        const rate = (N / wall) * 1000;
        if (!figures.has(name)) figures.set(name, []);
        figures.get(name)!.push({ rate, rss });
        // Where the wall time went: loading, connecting until the first message, the run after it, closing.
        const parts = w ? `; load ${fmt(w.loadMs)}, to 1st msg ${fmt(w.startupMs)}, then ${fmt(w.steady)} msg/s, close ${fmt(w.closeMs)} ms; machine busy ${machine.busy}% steal ${machine.steal}%; msg/s by fifth ${w.fifths?.map((t, i, a) => fmt((N / 5) / ((t - (i === 0 ? 0 : a[i - 1]!)) / 1000))).join(' ') ?? '-'}; CPU ${fmt(w.cpuMs)} ms, GC ${fmt(w.gc.ms)} ms in ${w.gc.count} pauses (${w.gc.major} major)` : '';
        console.log(`  round ${round + 1} ${name.padEnd(12)} ${fmt(rate).padStart(9)} msg/s  (${fmt(wall)} ms from spawn to exit; peak RSS ${fmt(rss)} MB${parts})`);
      }
    }
    const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
    // The machine drifts between rounds (the broker, the other core): besides the ratio of the
    // medians, the median of the ratios within each round, where both ran minutes apart at most.
    console.log('\nmedians         msg/s   peak RSS MB   snoopy / it   per round: median (lowest-highest)');
    const snoopyRates = figures.get('snoopy')?.map((f) => f.rate);
    const snoopyRate = snoopyRates === undefined ? NaN : med(snoopyRates);
    for (const name of names) {
      const f = figures.get(name)!;
      const rate = med(f.map((x) => x.rate));
      const ratios = snoopyRates === undefined || name === 'snoopy' ? [] : f.map((x, i) => snoopyRates[i]! / x.rate);
      const perRound = ratios.length === 0 ? '' : `${med(ratios).toFixed(2)}x (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)})`;
      console.log(`${name.padEnd(12)}${fmt(rate).padStart(9)}${fmt(med(f.map((x) => x.rss))).padStart(14)}${(name === 'snoopy' ? '-' : `${(snoopyRate / rate).toFixed(2)}x`).padStart(14)}   ${perRound}`);
    }
  } finally {
    await b.stop();
  }
}

/** The calling thread's CPU time in ms (Linux /proc; clock ticks of 10 ms), NaN elsewhere. */
function threadCpuMs(): number {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return NaN;
  }
}

/**
 * The binding's own ceiling (`node bench/dist/kafka.js binding`, issue 15): a raw KafkaConsumer
 * that only calls `consume(n)` and drops what it gets, with a fresh group per round, for n of
 * 300, 1000 and 5000. It reports msgs/s from the first batch to the last, the main thread's
 * CPU time per message (the binding turns every librdkafka message into a JavaScript object with
 * two copied Buffers on the main thread, before any client code runs), and the median time from
 * a `consume(n)` call to its callback; then the main thread's time per `produce()` call of a
 * pre-encoded value (delivery reports for errors only). Every client on
 * @confluentinc/kafka-javascript pays these, snoopy and the hand-written loops alike.
 */
async function bindingBench(): Promise<void> {
  const b = await broker();
  const brokers = b.bootstrapServers;
  try {
    const input = unique('bench-binding');
    await createTopics(brokers, [input]);
    await raw(brokers).produce!(input, N);
    console.log(`Kafka binding ceiling: consume(n) alone, N=${N} messages of ${VALUE_BYTES} B, ${PARTITIONS} partitions, ${ROUNDS} interleaved round(s), medians`);
    const sizes = [300, 1000, 5000];
    const figures = new Map<number, Array<{ rate: number; cpuUs: number; callMs: number }>>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const n of sizes) {
        const c = await rdConnectConsumer(brokers, input);
        try {
          let got = 0;
          let first = 0;
          let cpu0 = 0;
          const calls: number[] = [];
          while (got < N) {
            const t = performance.now();
            const msgs = await deadline('binding consume', cb<Confluent.Message[]>((d) => c.consume(n, d)));
            if (msgs.length === 0) continue;
            if (first === 0) {
              first = performance.now();
              cpu0 = threadCpuMs();
            } else calls.push(performance.now() - t);
            got += msgs.length;
          }
          const ms = performance.now() - first;
          const f = { rate: (got / ms) * 1000, cpuUs: ((threadCpuMs() - cpu0) * 1000) / got, callMs: [...calls].sort((x, y) => x - y)[calls.length >> 1] ?? NaN };
          if (!figures.has(n)) figures.set(n, []);
          figures.get(n)!.push(f);
          console.log(`  round ${round + 1} consume(${n})`.padEnd(24) + `${fmt(f.rate).padStart(9)} msg/s, main thread ${f.cpuUs.toFixed(1)} µs/msg, a call ${f.callMs.toFixed(1)} ms`);
        } finally {
          await rdClose(c);
        }
      }
    }
    // The other half of a pipeline's binding cost: produce() of N pre-encoded values (the
    // producer's queue holds them all, so no call waits), timed on the main thread; then flush.
    const values = rowsUpTo(N).map((r) => encode(r));
    const produced: Array<{ rate: number; cpuUs: number }> = [];
    for (let round = 0; round < ROUNDS; round++) {
      const out = unique('bench-binding-out');
      await createTopics(brokers, [out]);
      const p = new RdProducer({ ...rdProducerConfig(brokers), 'delivery.report.only.error': true, 'queue.buffering.max.messages': N + 1 });
      await cb<unknown>((done) => p.connect({ timeout: 15_000 }, done));
      try {
        p.produce(out, null, values[0]!, null);
        await cb((done) => p.flush(10_000, done));
        const cpu0 = threadCpuMs();
        const t0 = performance.now();
        for (let i = 0; i < N; i++) p.produce(out, null, values[i]!, null);
        const f = { rate: (N / (performance.now() - t0)) * 1000, cpuUs: ((threadCpuMs() - cpu0) * 1000) / N };
        await cb((done) => p.flush(60_000, done));
        produced.push(f);
        console.log(`  round ${round + 1} produce()`.padEnd(24) + `${fmt(f.rate).padStart(9)} calls/s, main thread ${f.cpuUs.toFixed(1)} µs/msg`);
      } finally {
        await rdClose(p);
      }
    }
    const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
    console.log('\nmedians        msg/s   main thread µs/msg   ms per call');
    for (const n of sizes) {
      const f = figures.get(n)!;
      console.log(`consume(${n})`.padEnd(13) + fmt(med(f.map((x) => x.rate))).padStart(8) + med(f.map((x) => x.cpuUs)).toFixed(1).padStart(21) + med(f.map((x) => x.callMs)).toFixed(1).padStart(14));
    }
    console.log('produce()'.padEnd(13) + fmt(med(produced.map((x) => x.rate))).padStart(8) + med(produced.map((x) => x.cpuUs)).toFixed(1).padStart(21) + '-'.padStart(14));
  } finally {
    await b.stop();
  }
}

const mode = process.argv[2];
(mode === 'rebalance' ? rebalanceBench() : mode === 'binding' ? bindingBench() : mode === 'processes' ? processesBench() : mode === 'pipeline-worker' ? pipelineWorker() : main()).then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);

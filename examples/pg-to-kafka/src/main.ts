// The changes of an `orders` table, published to a Kafka topic keyed by table and primary key,
// and read back from the topic. The application's own writes (three orders, an update, a delete)
// stand in for a real app; a second snap prints what arrived in Kafka.
//
//   export KAFKA_BOOTSTRAP_SERVERS=$(node test/broker/broker.mjs start)
//   export PG_URL=$(node test/postgres/postgres.mjs start)
//   npx tsc -b examples/pg-to-kafka && node examples/pg-to-kafka/dist/main.js
import pg from 'pg';
import { snap, stream } from '@snoopy/core';
import { Conf, Topic, type KafkaMessage } from '@snoopy/kafka';
import { changes, install, type Change } from '@snoopy/postgres';

interface Order {
  id: string; // bigint: exact digits as a string
  item: string;
  qty: number;
}

const table = process.env.TABLE ?? 'orders';
const schema = process.env.SCHEMA ?? 'snoopy';
const pool = new pg.Pool({ connectionString: process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' });

await pool.query(`CREATE TABLE IF NOT EXISTS ${table} (id bigint PRIMARY KEY, item text NOT NULL, qty integer NOT NULL)`);
await install(pool, { tables: [table], schema });

// The application at work.
await pool.query(`INSERT INTO ${table} VALUES (1, 'tea', 2), (2, 'coffee', 1), (3, 'cake', 1)`);
await pool.query(`UPDATE ${table} SET qty = 4 WHERE id = 2`);
await pool.query(`DELETE FROM ${table} WHERE id = 3`);

Conf({ 'bootstrap.servers': process.env.KAFKA_BOOTSTRAP_SERVERS ?? 'localhost:9092' });
const topic = Topic<Change<Order>>(process.env.TOPIC ?? 'orders-changes', { 'group.id': process.env.GROUP ?? 'orders-printer' });
const orderChanges = changes<Order>(pool, { schema, tables: [table], pollMs: 200 });
const finished = new AbortController();
let printed = 0;

class OrdersToKafka {
  // Database changes into Kafka; each change is acknowledged (and checkpointed) once Kafka has it.
  @snap(orderChanges, { sink: [topic] })
  static publish(change: Change<Order>): [string, Change<Order>] {
    return [`${change.table}:${change.key}`, change];
  }

  @snap(topic)
  static print(msg: KafkaMessage<Change<Order>>): void {
    const { op, changed, new: row } = msg.value;
    console.log(`${msg.key} ${op}${changed ? ` ${changed.join(',')}` : ''}${row ? ` qty=${row.qty}` : ''}`);
    if (++printed === 5) finished.abort();
  }
}

const summary = await stream({ signal: finished.signal });
console.error(`${OrdersToKafka.name}: ${summary.in} in, ${summary.out} out`);
// close() is idempotent: whatever the stream already closed stays closed.
await orderChanges.close();
await topic.close();
await pool.end();

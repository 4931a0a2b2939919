// The event gateway against a local broker: one topic of orders, a webhook subscriber in the same
// process (so there is something to receive), and two grants printed with curl lines to try.
//
//   export KAFKA_BOOTSTRAP_SERVERS=$(node test/broker/broker.mjs start)
//   npx tsc -b examples/gateway && node examples/gateway/dist/main.js
//
// Env: KAFKA_BOOTSTRAP_SERVERS, PORT (default 8080), TOPIC (default gateway-orders),
// DATA_DIR (default ./gateway-data), EXIT_AFTER_MS (stop by itself, for the example's test).
import { randomBytes } from 'node:crypto';
import { Registry, rootLogger } from '@snoopy/core';
import { Gateway, webhookSource, type WebhookEvent } from '@snoopy/http';

const servers = process.env.KAFKA_BOOTSTRAP_SERVERS ?? '127.0.0.1:9092';
const topic = process.env.TOPIC ?? 'gateway-orders';
const adminToken = randomBytes(16).toString('hex');

const gateway = await Gateway.start({
  kafka: { 'bootstrap.servers': servers },
  topics: { [topic]: { partitions: 3 } },
  keys: [{ kid: 'example', secret: randomBytes(32).toString('base64url') }],
  adminToken,
  dataDir: process.env.DATA_DIR ?? './gateway-data',
  port: Number(process.env.PORT ?? 8080),
  allowPrivateWebhooks: true, // the subscriber below listens on 127.0.0.1
});
const { url } = gateway.address;

// A subscriber: receives big orders as signed webhooks and prints them.
const subscriberSecret = 'whsec_' + randomBytes(24).toString('base64');
const inbox = webhookSource<{ id: number; amount: number }>({ secrets: [subscriberSecret], path: '/big-orders' });
await gateway.subscribe('big-orders', topic).webhook((await inbox.listen()).url, { where: 'amount >= 100', secret: subscriberSecret, from: 'earliest' });
const registry = new Registry();
registry.snap(inbox, { name: 'subscriber' })((e: WebhookEvent<{ id: number; amount: number }>) => {
  console.log(JSON.stringify({ event: 'webhook', id: e.id, order: e.value }));
});
const receiving = registry.stream({ handleSignals: false, progress: false });

const publish = await gateway.issue({ topic, scope: 'publish', subject: 'shop', ttl: '1h' });
const read = await gateway.issue({ topic, scope: 'read', subject: 'partner', where: 'country = :c', params: { c: 'NL' }, ttl: '1h' });
console.log(`gateway on ${url}, topic ${topic}
# publish (201 with partition/offset once the broker has them):
curl -s -X POST ${url}/topics/${topic}/events -H 'authorization: Bearer ${publish}' -H 'content-type: application/json' \\
  -d '[{"key":"o1","value":{"id":1,"amount":120,"country":"NL"}},{"key":"o2","value":{"id":2,"amount":5,"country":"BE"}}]'
# the original form interface:
curl -s -X POST ${url}/topics/${topic}/events -H 'authorization: Bearer ${publish}' -d 'key=o3' -d 'value={"id":3,"amount":300,"country":"NL"}'
# a partner's filtered live stream (only country = 'NL'), SSE; add -H 'accept: application/x-ndjson' for NDJSON:
curl -N ${url}/topics/${topic}/stream?from=earliest -H 'authorization: Bearer ${read}'
# subscriptions (admin):
curl -s ${url}/subscriptions/big-orders -H 'authorization: Bearer ${adminToken}'
curl -s ${url}/healthz; curl -s ${url}/metrics`);

const stop = new AbortController();
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => stop.abort());
if (process.env.EXIT_AFTER_MS) setTimeout(() => stop.abort(), Number(process.env.EXIT_AFTER_MS)).unref();
await new Promise((resolve) => stop.signal.addEventListener('abort', resolve, { once: true }));
rootLogger().info('stopping');
await gateway.close();
await inbox.close();
await receiving;
console.log(JSON.stringify({ event: 'stopped' }));

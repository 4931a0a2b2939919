// A client that stops reading is cut off with a final `cutoff` event (carrying the id to resume
// from) once more than `streamBufferBytes` wait unsent, instead of the gateway buffering without bound.
import net from 'node:net';
import { rootLogger } from '@snoopy/core';
import { describe, expect, onTestFinished, test } from 'vitest';
import { bootstrapServers, randomName } from './setup/kafka-helpers.js';
import { gatewayOptions, startGateway, tempDir } from './gateway-helpers.js';

const servers = bootstrapServers();

describe.skipIf(!servers)('gateway slow clients', () => {
  test('a client that does not read is cut off with a cutoff event', { timeout: 120_000 }, async () => {
    rootLogger().level = 'warn';
    const topic = randomName('gw-slow');
    const dir = await tempDir();
    onTestFinished(() => dir.remove());
    const gateway = await startGateway(gatewayOptions(servers!, { [topic]: { partitions: 1 } }, dir.path, { streamBufferBytes: 256 * 1024 }));
    onTestFinished(() => gateway.close());
    const publisher = gateway.publisher<{ n: number; pad: string }>(topic);
    const pad = 'x'.repeat(64 * 1024);
    // 32 MiB in the topic: more than loopback socket buffers can hold for a client that never reads.
    for (let i = 0; i < 8; i++) await Promise.all(Array.from({ length: 64 }, (_, j) => publisher.send({ n: i * 64 + j, pad })));
    const token = await gateway.issue({ topic, scope: 'read', subject: 'slow', ttl: 600 });

    const socket = net.connect(gateway.address.port, '127.0.0.1');
    onTestFinished(() => void socket.destroy());
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.write(`GET /topics/${topic}/stream?from=earliest HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\n\r\n`);
    socket.pause(); // never read while the gateway writes
    const health = async () => ((await (await fetch(`${gateway.address.url}/healthz`)).json()) as { streams: number }).streams;
    let streams = 1;
    const deadline = Date.now() + 60_000;
    await new Promise((r) => setTimeout(r, 500));
    while ((streams = await health()) > 0) {
      if (Date.now() > deadline) throw new Error('the slow stream was not cut off within 60 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    // Now read everything the gateway sent: it ends with the cutoff event.
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    const ended = new Promise<void>((r) => socket.once('end', () => r()));
    socket.resume();
    await ended;
    const text = Buffer.concat(chunks).toString('utf8');
    const last = text.slice(text.lastIndexOf('event: '));
    expect(last).toMatch(/^event: cutoff\ndata: \{"reason":"client too slow[^"]*","resume":"\d+"\}/);
    const sent = (text.match(/\nid: /g) ?? []).length;
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBeLessThan(512);
    expect(streams).toBe(0);
  });
});

// Two gateway instances on one topic, sharing a revocations topic: a revocation on one ends the
// token's open stream on the other within seconds, and an instance started later refuses it too.
import { rootLogger } from '@snoopy/core';
import { describe, expect, onTestFinished, test } from 'vitest';
import { bootstrapServers, randomName } from './setup/kafka-helpers.js';
import { gatewayOptions, openStream, startGateway, tempDir, until } from './gateway-helpers.js';

const servers = bootstrapServers();

describe.skipIf(!servers)('gateway instances', () => {
  test('a revocation on one instance closes the stream on another and survives into a new one', { timeout: 120_000 }, async () => {
    rootLogger().level = 'warn';
    const topic = randomName('gw-scale');
    const revocationsTopic = randomName('gw-revocations');
    const dirs = await Promise.all([tempDir(), tempDir(), tempDir()]);
    onTestFinished(() => Promise.all(dirs.map((d) => d.remove())).then(() => {}));
    const options = (i: number) => gatewayOptions(servers!, { [topic]: { partitions: 2 } }, dirs[i]!.path, { revocationsTopic });
    const a = await startGateway(options(0));
    onTestFinished(() => a.close());
    const b = await startGateway(options(1));
    onTestFinished(() => b.close());

    const token = await a.issue({ topic, scope: 'read', subject: 'partner', ttl: 600 });
    const other = await a.issue({ topic, scope: 'read', subject: 'other', ttl: 600 });
    const onB = openStream(`${b.address.url}/topics/${topic}/stream`, { authorization: `Bearer ${token}` });
    const stays = openStream(`${b.address.url}/topics/${topic}/stream`, { authorization: `Bearer ${other}` });
    onTestFinished(() => Promise.all([onB.close(), stays.close()]).then(() => {}));
    await until(() => onB.status === 200 && stays.status === 200, 'both streams to open on b');

    await a.revoke(JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti);
    await until(() => onB.ended, 'the stream on b to end after the revocation on a', 30_000);
    expect(onB.events.at(-1)).toMatchObject({ event: 'revoked' });
    expect(stays.ended).toBe(false);
    expect((await fetch(`${b.address.url}/topics/${topic}/stream`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);

    const c = await startGateway(options(2));
    onTestFinished(() => c.close());
    expect((await fetch(`${c.address.url}/topics/${topic}/stream`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
    // Messages published on one instance reach streams on the other: Kafka carries them.
    await a.publisher(topic).send({ hello: 'from a' }, { key: 'x' });
    await until(() => stays.messages().length === 1, 'the message on b');
    expect(stays.messages()[0]!.data.value).toEqual({ hello: 'from a' });
  });
});

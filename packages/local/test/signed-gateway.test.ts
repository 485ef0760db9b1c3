import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createS3Client, S3ArtifactStore } from '@pitwall/adapters';
import { type RunningServer, S3RVER_CREDENTIALS, startDynamoDb, startS3 } from '@pitwall/emulators';
import { machineStoresKey, type StoresKey, startSignedGateway } from '../src/signed-gateway.js';

// The stores' doors for a cluster's pods (`serve` with `executor: kubernetes`): only requests signed with the
// machine's own key pass; s3rver's published key, dynalite's "any key" and unsigned requests do not.

const region = 'us-east-1';
const servers: RunningServer[] = [];
let key: StoresKey;
let s3: { store: RunningServer; gateway: RunningServer };
let dynamodb: { store: RunningServer; gateway: RunningServer };

beforeAll(async () => {
  key = machineStoresKey(join(mkdtempSync(join(tmpdir(), 'gateway-')), 'stores-key.env'));
  const s3Store = await startS3({ buckets: ['pitwall'] });
  const dynamoStore = await startDynamoDb({});
  const gateways = await Promise.all([
    startSignedGateway({
      host: '127.0.0.1',
      target: s3Store.endpoint,
      service: 's3',
      key,
      storeKey: S3RVER_CREDENTIALS,
    }),
    startSignedGateway({
      host: '127.0.0.1',
      target: dynamoStore.endpoint,
      service: 'dynamodb',
      key,
      storeKey: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
  ]);
  s3 = { store: s3Store, gateway: gateways[0] };
  dynamodb = { store: dynamoStore, gateway: gateways[1] };
  servers.push(...gateways, s3Store, dynamoStore);
});
afterAll(async () => {
  for (const server of servers) await server.close();
});

const artifacts = (credentials: StoresKey) =>
  new S3ArtifactStore(createS3Client({ region, endpoint: s3.gateway.endpoint, credentials }), 'pitwall');
const dynamo = (credentials: StoresKey) =>
  new DynamoDBClient({ region, endpoint: dynamodb.gateway.endpoint, credentials, maxAttempts: 1 });

describe('the signed gateway in front of the stores', () => {
  it('makes the machine key once, readable by its owner only, and reads the same key after', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gateway-key-'));
    const file = join(dir, 'stores-key.env');
    const made = machineStoresKey(file);
    expect(made.accessKeyId).toMatch(/^PITWALL[0-9A-F]{16}$/);
    expect(made.secretAccessKey.length).toBeGreaterThanOrEqual(40);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(machineStoresKey(file)).toEqual(made);
    expect(machineStoresKey(join(mkdtempSync(join(tmpdir(), 'gateway-key-')), 'k.env'))).not.toEqual(made);
  });

  it('passes what logcopy sends, signed with the machine key: objects, files, tables', async () => {
    const store = artifacts(key);
    await store.put('submissions/1/workers/0/checkpoint.json', '{"a":1}', 'application/json');
    expect(await store.get('submissions/1/workers/0/checkpoint.json')).toBe('{"a":1}');
    const file = join(mkdtempSync(join(tmpdir(), 'gateway-file-')), 'agent-0.log');
    writeFileSync(file, 'route 0 rep 0: Perfect\n'.repeat(50_000));
    await store.putFile('submissions/1/workers/0/logs/agent-0.log', file, { maxBytes: 2 ** 20 });
    const uploaded = (await store.get('submissions/1/workers/0/logs/agent-0.log')) ?? '';
    expect(uploaded).toMatch(/^\[pitwall: \d+ of 1150000 bytes left out; the last 1048576 follow\]\n/);
    expect(uploaded.endsWith('rep 0: Perfect\n')).toBe(true);
    const client = dynamo(key);
    await client.send(
      new CreateTableCommand({
        TableName: 'submissions',
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    expect((await client.send(new ListTablesCommand({}))).TableNames).toContain('submissions');
    client.destroy();
  });

  it('refuses s3rver’s published key, any other key, and an unsigned request', async () => {
    await expect(artifacts(S3RVER_CREDENTIALS).put('submissions/2/x', 'forged', 'text/plain')).rejects.toThrow();
    const other = dynamo({ accessKeyId: 'local', secretAccessKey: 'local' });
    await expect(other.send(new ListTablesCommand({}))).rejects.toThrow(/another key/);
    other.destroy();
    const forged = dynamo({ accessKeyId: key.accessKeyId, secretAccessKey: 'guessed' });
    await expect(forged.send(new ListTablesCommand({}))).rejects.toThrow(/signature does not match/);
    forged.destroy();
    const unsigned = await fetch(`${s3.gateway.endpoint}/pitwall/submissions/2/x`, { method: 'PUT', body: 'forged' });
    expect(unsigned.status).toBe(403);
    expect(await artifacts(key).get('submissions/2/x')).toBeUndefined();
  });

  it('refuses a signed request whose body was changed on the way', async () => {
    // Signed for one body, sent with another of the same length (a captured request replayed, changed).
    const client = dynamo(key);
    client.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { body?: Uint8Array | string };
        expect(Buffer.from(request.body ?? '').toString()).toBe('{}');
        request.body = '[]';
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low', name: 'tamper' },
    );
    await expect(client.send(new ListTablesCommand({}))).rejects.toThrow(/body does not match its signed hash/);
    client.destroy();
  });
});

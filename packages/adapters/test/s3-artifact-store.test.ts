import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type ArtifactStore, ArtifactStoreUnavailableError } from '@pitwall/domain';
import { MemoryArtifactStore } from '@pitwall/domain/testing';
import { type RunningServer, S3RVER_CREDENTIALS, startS3 } from '@pitwall/emulators';
import { createS3Client, S3ArtifactStore } from '../src/index.js';

let server: RunningServer;
let s3: ReturnType<typeof createS3Client>;

beforeAll(async () => {
  server = await startS3({ buckets: ['pitwall-artifacts'] });
  s3 = createS3Client({ region: 'eu-west-1', endpoint: server.endpoint, credentials: S3RVER_CREDENTIALS });
});
afterAll(async () => {
  s3.destroy();
  await server.close();
});

// One contract, two stores: the in-memory double the unit tier uses cannot drift from S3's.
describe.each([
  ['S3ArtifactStore on s3rver', () => new S3ArtifactStore(s3, 'pitwall-artifacts')],
  ['MemoryArtifactStore', () => new MemoryArtifactStore()],
] as const)('the artifact store contract: %s', (_, makeStore: () => ArtifactStore) => {
  it('writes and reads text, including non-ASCII, and a later write replaces it', async () => {
    const store = makeStore();
    await store.put('submissions/1/evalai/stdout.txt', 'Équipe ✓\n', 'text/plain');
    expect(await store.get('submissions/1/evalai/stdout.txt')).toBe('Équipe ✓\n');
    await store.put('submissions/1/evalai/stdout.txt', '', 'text/plain');
    expect(await store.get('submissions/1/evalai/stdout.txt')).toBe('');
  });

  it('answers undefined for a missing key', async () => {
    expect(await makeStore().get('submissions/404/nothing')).toBeUndefined();
  });
});

describe('S3ArtifactStore on s3rver', () => {
  it('turns an unreachable S3 into a transient error the state machine retries', async () => {
    const down = createS3Client({
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:9',
      credentials: S3RVER_CREDENTIALS,
    });
    const store = new S3ArtifactStore(down, 'pitwall-artifacts');
    await expect(store.get('submissions/1/x')).rejects.toThrow(ArtifactStoreUnavailableError);
    await expect(store.put('submissions/1/x', 'y')).rejects.toThrow(ArtifactStoreUnavailableError);
    down.destroy();
  });
});

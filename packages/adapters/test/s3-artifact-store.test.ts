import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
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

describe('S3ArtifactStore on s3rver', () => {
  it('writes and reads text, including non-ASCII', async () => {
    const store = new S3ArtifactStore(s3, 'pitwall-artifacts');
    await store.put('submissions/1/evalai/stdout.txt', 'Équipe ✓\n', 'text/plain');
    expect(await store.get('submissions/1/evalai/stdout.txt')).toBe('Équipe ✓\n');
  });

  it('answers undefined for a missing key', async () => {
    expect(await new S3ArtifactStore(s3, 'pitwall-artifacts').get('submissions/404/nothing')).toBeUndefined();
  });
});

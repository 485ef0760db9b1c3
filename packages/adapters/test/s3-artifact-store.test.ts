import { spawnSync } from 'node:child_process';
import { mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
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

  it('fails file uploads to an unreachable S3 with the same error, and leaves no stream to end the process', () => {
    // logcopy's uploads while S3 is away: the file was closed under the request's body, whose unhandled
    // 'error' (ERR_STREAM_PREMATURE_CLOSE) ended the process. In a process of its own: jest's own handler
    // would hide an uncaught error.
    const dir = mkdtempSync(join(tmpdir(), 'put-file-'));
    const script = join(dir, 'uploads.mts');
    writeFileSync(
      script,
      `import { writeFileSync } from 'node:fs';
import { createS3Client, S3ArtifactStore } from ${JSON.stringify(new URL('../src/index.ts', import.meta.url).href)};
const down = createS3Client({ region: 'eu-west-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
const store = new S3ArtifactStore(down, 'pitwall-artifacts');
const names = [];
for (const size of [10, 70000, 4 << 20]) {
  const path = ${JSON.stringify(dir)} + '/f' + size;
  writeFileSync(path, 'x'.repeat(size));
  for (let i = 0; i < 5; i++) names.push(await store.putFile('k', path, { maxBytes: 1 << 30 }).catch((e) => e.name));
}
await new Promise((resolve) => setTimeout(resolve, 300));
console.log(JSON.stringify([...new Set(names)]));
`,
    );
    const run = spawnSync(process.execPath, ['--import', 'tsx', script], {
      cwd: new URL('../../../', import.meta.url).pathname,
      encoding: 'utf8',
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
    expect(run.stderr).not.toContain('ERR_STREAM_PREMATURE_CLOSE');
    expect({ status: run.status, out: run.stdout.trim() }).toEqual({
      status: 0,
      out: JSON.stringify(['ArtifactStoreUnavailableError']),
    });
  }, 60_000);
});

describe('S3ArtifactStore.putFile on s3rver', () => {
  it('gives up on a file that shrinks while it is uploaded, instead of waiting for bytes that never come', async () => {
    // An agent rewrites its checkpoint in place (truncate, then write): logcopy may be mid-upload.
    const store = new S3ArtifactStore(s3, 'pitwall-artifacts');
    const path = join(mkdtempSync(join(tmpdir(), 'put-file-')), 'checkpoint.json');
    const size = 256 * 1024 * 1024;
    let refused = 0;
    for (let round = 0; round < 3; round++) {
      writeFileSync(path, '');
      truncateSync(path, size); // sparse: instant to make, slow enough to send
      const upload = store.putFile('submissions/1/workers/0/checkpoint.json', path, { maxBytes: size });
      await sleep(20);
      truncateSync(path, 1024);
      const outcome = await Promise.race([
        upload.then(
          (result) => result,
          (error: unknown) => error,
        ),
        sleep(20_000).then(() => 'hung'),
      ]);
      expect(outcome).not.toBe('hung');
      if (outcome instanceof ArtifactStoreUnavailableError) {
        expect(outcome.message).toContain('changed while it was read');
        refused += 1;
      } else {
        // Measured after the cut, or sent whole before it: what S3 holds is the file at one moment.
        const sent = (outcome as { bytes: number }).bytes;
        expect([1024, size]).toContain(sent);
      }
    }
    expect(refused).toBeGreaterThan(0);
  }, 90_000);
});

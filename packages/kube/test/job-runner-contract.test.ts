import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { JobRunner } from '@pitwall/domain';
import { FakeJobRunner } from '@pitwall/domain/testing';
import { KubernetesJobRunner, tokenAccess } from '../src/index.js';
import { FakeKubeApi } from '../src/testing/fake-kube-api.js';
import { settings, spec } from './support/fixtures.js';

// One contract, two job runners: the in-memory double the unit tier uses answers as the Kubernetes runner
// does over an API server that checks every body against the official schemas.
const api = new FakeKubeApi('cluster-token');
let server = '';
beforeAll(async () => {
  server = await api.start();
});
afterAll(() => api.close());

let jobs = 0;
describe.each([
  [
    'KubernetesJobRunner over the fake API server',
    () =>
      new KubernetesJobRunner(
        tokenAccess(async () => ({ server, token: 'cluster-token', skipTLSVerify: true })),
        settings,
      ),
  ],
  ['FakeJobRunner', () => new FakeJobRunner()],
] as const)('the job runner contract: %s', (_, makeRunner: () => JobRunner) => {
  it('launches once: a second launch of the same name counts as launched', async () => {
    const runner = makeRunner();
    const job = spec({ worker: ++jobs });
    expect(await runner.launch(job)).toBe('created');
    expect(await runner.launch(job)).toBe('exists');
    expect((await runner.observe(job.name)).state).toBe('pending');
  });

  it('lists the jobs it launched, by submission and attempt, until they are deleted', async () => {
    const runner = makeRunner();
    const job = spec({ worker: ++jobs, submissionPk: 4242, attempt: 3 });
    await runner.launch(job);
    const listed = (await runner.list()).find((j) => j.name === job.name);
    expect(listed).toEqual({ name: job.name, submissionPk: 4242, attempt: 3, createdAt: expect.any(String) });
    expect(Date.now() - Date.parse(listed?.createdAt ?? '')).toBeLessThan(60_000);
    await runner.delete(job.name);
    expect((await runner.list()).some((j) => j.name === job.name)).toBe(false);
  });

  it('deletes once, and a job gone is missing', async () => {
    const runner = makeRunner();
    const job = spec({ worker: ++jobs });
    await runner.launch(job);
    expect(await runner.delete(job.name)).toBe('deleted');
    expect(await runner.delete(job.name)).toBe('absent');
    expect((await runner.observe(job.name)).state).toBe('missing');
    expect(await runner.logTail(job.name, 'agent', 100)).toBe('');
  });
});

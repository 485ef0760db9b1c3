import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { JobRunnerRejectedError, JobRunnerUnavailableError } from '@pitwall/domain';
import { stringify } from 'yaml';
import { KubernetesJobRunner, kubeconfigAccess, tokenAccess } from '../src/index.js';
import { FakeKubeApi } from '../src/testing/fake-kube-api.js';
import { settings, spec } from './support/fixtures.js';

const api = new FakeKubeApi('cluster-token');
let server = '';
const runner = (token = 'cluster-token') =>
  new KubernetesJobRunner(
    tokenAccess(async () => ({ server, token, skipTLSVerify: true })),
    settings,
  );

beforeAll(async () => {
  server = await api.start();
});
afterAll(() => api.close());
beforeEach(() => {
  api.jobs.clear();
  api.pods.clear();
  api.faults.length = 0;
});

const pod = (name: string, phase: string, containers: Record<string, unknown>[], created = '2026-06-01T12:00:00Z') => ({
  metadata: { name, creationTimestamp: created },
  status: { phase, containerStatuses: containers },
});

describe('KubernetesJobRunner against a fake API server', () => {
  it('creates the worker Job (validated by the server) and treats 409 as already launched', async () => {
    const job = spec();
    expect(await runner().launch(job)).toBe('created');
    expect(api.jobs.get(job.name)).toBeDefined();
    expect(await runner().launch(job)).toBe('exists');
    expect(api.requests.filter((r) => r.method === 'POST').map((r) => r.status)).toEqual([201, 409]);
  });

  it("reports what the newest pod's containers wait for, init containers too, with the pod's age", async () => {
    const job = spec();
    const r = runner();
    await r.launch(job);
    api.pods.set(job.name, [
      pod(
        'old',
        'Failed',
        [
          {
            name: 'agent',
            restartCount: 1,
            image: 'a',
            imageID: '',
            ready: false,
            state: { waiting: { reason: 'ErrImagePull' } },
          },
        ],
        '2026-06-01T11:00:00Z',
      ),
      {
        metadata: { name: 'new', creationTimestamp: '2026-06-01T12:00:00Z' },
        status: {
          phase: 'Pending',
          initContainerStatuses: [
            { name: 'fetch-evaluator', restartCount: 0, image: 'e', imageID: '', ready: false, state: { running: {} } },
          ],
          containerStatuses: [
            {
              name: 'agent',
              restartCount: 0,
              image: 'a',
              imageID: '',
              ready: false,
              state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "a"' } },
            },
          ],
        },
      },
    ]);
    const observed = await r.observe(job.name);
    expect(observed.state).toBe('pending');
    expect(observed.containers.find((c) => c.name === 'agent')).toEqual({
      name: 'agent',
      restarts: 1,
      waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "a"', since: '2026-06-01T12:00:00.000Z' },
    });
    expect(observed.containers.find((c) => c.name === 'fetch-evaluator')?.waiting).toBeUndefined();
  });

  it('reads pending, running, succeeded and failed from the Job and its pods', async () => {
    const job = spec();
    const r = runner();
    await r.launch(job);
    expect((await r.observe(job.name)).state).toBe('pending');
    api.pods.set(job.name, [
      pod('p1', 'Running', [{ name: 'agent', restartCount: 0, image: 'a', imageID: '', ready: true }]),
    ]);
    expect((await r.observe(job.name)).state).toBe('running');
    api.setJobStatus(job.name, { conditions: [{ type: 'Complete', status: 'True' }], succeeded: 1 });
    expect((await r.observe(job.name)).state).toBe('succeeded');
    api.setJobStatus(job.name, {
      failed: 1,
      conditions: [
        {
          type: 'Failed',
          status: 'True',
          reason: 'BackoffLimitExceeded',
          message: 'Job has reached the specified backoff limit',
        },
      ],
    });
    api.pods.set(job.name, [
      pod('p1', 'Failed', [
        {
          name: 'agent',
          restartCount: 2,
          image: 'a',
          imageID: '',
          ready: false,
          lastState: {
            terminated: { exitCode: 137, reason: 'OOMKilled', finishedAt: new Date('2026-06-01T12:40:00Z') },
          },
        },
        {
          name: 'simulator',
          restartCount: 1,
          image: 's',
          imageID: '',
          ready: false,
          lastState: { terminated: { exitCode: 3, finishedAt: new Date('2026-06-01T12:40:02Z') } },
          state: { terminated: { exitCode: 143, reason: 'Error', finishedAt: new Date('2026-06-01T12:40:09Z') } },
        },
      ]),
    ]);
    const failed = await r.observe(job.name);
    expect(failed).toMatchObject({
      state: 'failed',
      reason: 'BackoffLimitExceeded: Job has reached the specified backoff limit',
    });
    expect(failed.containers).toContainEqual({
      name: 'agent',
      restarts: 2,
      lastExitCode: 137,
      lastReason: 'OOMKilled',
      exits: [{ exitCode: 137, at: '2026-06-01T12:40:00.000Z' }],
    });
    // Both ends the kubelet keeps, so that who failed first can be told (the simulator only followed).
    expect(failed.containers.find((c) => c.name === 'simulator')?.exits).toEqual([
      { exitCode: 3, at: '2026-06-01T12:40:02.000Z' },
      { exitCode: 143, at: '2026-06-01T12:40:09.000Z' },
    ]);
  });

  it('counts the pods whose node was taken away (DisruptionTarget) as interruptions, not crashes', async () => {
    const job = spec();
    const r = runner();
    await r.launch(job);
    const lost = {
      metadata: { name: 'p1', creationTimestamp: '2026-06-01T12:00:00Z' },
      status: {
        phase: 'Failed',
        conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'DeletionByTaintManager' }],
        containerStatuses: [],
      },
    };
    const next = pod(
      'p2',
      'Running',
      [{ name: 'agent', restartCount: 0, image: 'a', imageID: '', ready: true }],
      '2026-06-01T12:30:00Z',
    );
    api.pods.set(job.name, [lost, next]);
    expect(await r.observe(job.name)).toMatchObject({ state: 'running', interruptions: 1 });
    api.pods.set(job.name, [next]);
    expect((await r.observe(job.name)).interruptions).toBeUndefined();
  });

  it('reports each pod’s hold on its node, with the node’s instance and capacity types, for the cost', async () => {
    const job = spec();
    const r = runner();
    await r.launch(job);
    api.nodes.set('ip-10-0-1-7', {
      kind: 'Node',
      apiVersion: 'v1',
      metadata: {
        name: 'ip-10-0-1-7',
        labels: { 'node.kubernetes.io/instance-type': 'g5.4xlarge', 'eks.amazonaws.com/capacityType': 'SPOT' },
      },
    });
    const agent = { name: 'agent', restartCount: 0, image: 'a', imageID: '', ready: false };
    const ended = {
      metadata: { name: 'p1', creationTimestamp: '2026-06-01T12:00:00Z' },
      spec: { nodeName: 'ip-10-0-1-7', containers: [] },
      status: {
        phase: 'Failed',
        startTime: '2026-06-01T12:01:00Z',
        containerStatuses: [{ ...agent, state: { terminated: { exitCode: 1, finishedAt: '2026-06-01T12:41:00Z' } } }],
      },
    };
    const running = {
      metadata: { name: 'p2', creationTimestamp: '2026-06-01T12:42:00Z' },
      spec: { nodeName: 'ip-10-0-9-9', containers: [] }, // a node already gone: no types
      status: { phase: 'Running', startTime: '2026-06-01T12:43:00Z', containerStatuses: [] },
    };
    const pending = {
      metadata: { name: 'p3', creationTimestamp: '2026-06-01T12:44:00Z' },
      status: { phase: 'Pending' },
    };
    api.pods.set(job.name, [ended, running, pending]);
    expect((await r.observe(job.name)).pods).toEqual([
      {
        startedAt: '2026-06-01T12:01:00.000Z',
        endedAt: '2026-06-01T12:41:00.000Z',
        instanceType: 'g5.4xlarge',
        capacityType: 'spot',
      },
      { startedAt: '2026-06-01T12:43:00.000Z' },
    ]);
  });

  it('reports a job that is gone as missing', async () => {
    expect(await runner().observe('nowhere')).toEqual({ name: 'nowhere', state: 'missing', containers: [] });
  });

  it('deletes with foreground propagation, and a missing job is already gone', async () => {
    const job = spec();
    await runner().launch(job);
    expect(await runner().delete(job.name)).toBe('deleted');
    const deletion = api.requests.find((r) => r.method === 'DELETE');
    expect(deletion?.path).toContain('propagationPolicy=Foreground');
    expect(await runner().delete(job.name)).toBe('absent');
  });

  it('tails the newest pod’s container log, and answers empty when there is none', async () => {
    const job = spec();
    await runner().launch(job);
    api.pods.set(job.name, [
      pod('old', 'Failed', [], '2026-06-01T12:00:00Z'),
      pod('new', 'Running', [], '2026-06-01T12:05:00Z'),
    ]);
    api.logs.set('new/agent', 'line 1\nRuntimeError: CUDA out of memory\n');
    expect(await runner().logTail(job.name, 'agent', 1000)).toBe('line 1\nRuntimeError: CUDA out of memory\n');
    expect(await runner().logTail(job.name, 'agent', 12)).toBe('t of memory\n'.slice(-12));
    expect(await runner().logTail(job.name, 'simulator', 1000)).toBe('');
  });

  it('turns 401 into a rejection that points at the access entry', async () => {
    const error = await runner('wrong-token')
      .launch(spec())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobRunnerRejectedError);
    expect((error as Error).message).toContain('access entry');
  });

  it('turns 5xx into a transient error and a server-side validation failure into a rejection', async () => {
    api.faults.push({ method: 'POST', status: 503 });
    await expect(runner().launch(spec())).rejects.toThrow(JobRunnerUnavailableError);
    const invalid = { ...spec(), name: 'Not_A_Valid_Name' };
    const error = await runner()
      .launch(invalid)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobRunnerRejectedError);
    expect((error as Error).message).toContain('is not a valid DNS-1123 name');
  });

  it('turns an unreachable API into a transient error', async () => {
    const down = new KubernetesJobRunner(
      tokenAccess(async () => ({ server: 'http://127.0.0.1:9', token: 't', skipTLSVerify: true })),
      settings,
    );
    await expect(down.observe('x')).rejects.toThrow(JobRunnerUnavailableError);
  });
});

describe('KubernetesJobRunner through a kubeconfig (any cluster, not only EKS)', () => {
  const kubeconfig = (contexts: Record<string, string>, current: string) => {
    const file = join(mkdtempSync(join(tmpdir(), 'pitwall-kubeconfig-')), 'config');
    const names = Object.keys(contexts);
    writeFileSync(
      file,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: names.map((name) => ({ name, cluster: { server, 'insecure-skip-tls-verify': true } })),
        users: names.map((name) => ({ name, user: { token: contexts[name] } })),
        contexts: names.map((name) => ({ name, context: { cluster: name, user: name } })),
        'current-context': current,
      }),
    );
    return file;
  };

  it('launches on the context it is given, with that context’s credentials', async () => {
    const file = kubeconfig({ lab: 'cluster-token', other: 'wrong-token' }, 'other');
    const job = spec({ worker: 5 });
    expect(await new KubernetesJobRunner(kubeconfigAccess({ path: file, context: 'lab' }), settings).launch(job)).toBe(
      'created',
    );
    expect(api.jobs.get(job.name)).toBeDefined();
    // The file's current context, by default: here one the cluster refuses.
    const refused = new KubernetesJobRunner(kubeconfigAccess({ path: file }), settings).observe(job.name);
    await expect(refused).rejects.toBeInstanceOf(JobRunnerRejectedError);
  });

  it('names a missing file or context, as an error never retried', async () => {
    const file = kubeconfig({ lab: 'cluster-token' }, 'lab');
    const missing = new KubernetesJobRunner(kubeconfigAccess({ path: file, context: 'gpu-farm' }), settings);
    await expect(missing.list()).rejects.toThrow(
      new JobRunnerRejectedError(`the kubeconfig ${file} has no context gpu-farm (it has: lab)`),
    );
    const nowhere = new KubernetesJobRunner(kubeconfigAccess({ path: '/nonexistent/kubeconfig' }), settings);
    await expect(nowhere.list()).rejects.toBeInstanceOf(JobRunnerRejectedError);
  });
});

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runCli } from '@pitwall/cli';
import { artifactKeys, failureClassLine } from '@pitwall/domain';
import {
  agentImage,
  buildLocalImages,
  LEADERBOARD_LABELS,
  LOCAL_IMAGES,
  LocalRuntime,
  type LocalRuntimeOptions,
} from '@pitwall/local';
import { outlivingEvalAi } from '../support/outliving-evalai.js';
import { until } from '../support/until.js';

// Real containers with podman: .ci/run installs it and points CONTAINERS_CONF at .ci/containers.conf.
const TERMINAL = ['finished', 'failed', 'cancelled'];
const repo = fileURLToPath(new URL('../../', import.meta.url));
const fast = { workers: 2, pollMs: 200, msPerKm: 4, executor: 'podman' } satisfies Partial<LocalRuntimeOptions>;
const stateDir = () => mkdtempSync(join(tmpdir(), 'pitwall-containers-'));
const podman = (...args: string[]) => execFileSync('podman', args, { encoding: 'utf8' });
/** The start of every name a submission's Jobs give their pods and containers (`<team>-<track>-<pk>-w<n>-…`). */
const jobsOf = (team: string, pk: number) => `${team.toLowerCase().replaceAll(' ', '-')}-sensors-${pk}-w`;
const names = (...args: string[]) =>
  podman('ps', ...args, '--format', '{{.Names}}', '--filter', 'label=pitwall.job')
    .split('\n')
    .filter(Boolean);
/** The running simulator, agent and logcopy containers of those Jobs. */
const runningOf = (jobs: string) =>
  names().filter((name) => name.startsWith(jobs) && /-(simulator|agent|logcopy)$/.test(name));
/** The pods of those Jobs. */
const podsOf = (jobs: string) =>
  podman('pod', 'ps', '--format', '{{.Name}}')
    .split('\n')
    .filter((pod) => pod.startsWith(jobs));
/** A stopped runtime leaves its pods running by design: a failed test must not leave them to the next. */
const removePodsOf = (jobs: string) => {
  const left = jobs ? podsOf(jobs) : [];
  if (left.length > 0) podman('pod', 'rm', '--force', ...left);
};
/** Every container of those Jobs, running or not. */
const containersOf = (jobs: string) => names('--all').filter((name) => name.startsWith(jobs));

// Seven images on a base made of this machine's programs: about a minute on 2 cores, minutes more when busy.
beforeAll(async () => {
  await buildLocalImages({ behaviours: ['good', 'crash-once', 'fork-bomb', 'fill-disk'] });
}, 420_000);

/** Worker 0's agent log, as logcopy uploaded it. */
const agentLog = async (runtime: LocalRuntime, pk: number) =>
  (await runtime.plane.artifacts.get(artifactKeys.log(pk, 0, 'agent'))) ?? '';
/** The slowest answer of the host's DynamoDB, asked twice a second until `done`. */
async function slowestStoreAnswer(runtime: LocalRuntime, pk: number, done: Promise<unknown>): Promise<number> {
  let over = false;
  void done.finally(() => {
    over = true;
  });
  let slowest = 0;
  while (!over) {
    const started = Date.now();
    await runtime.plane.store.get(pk); // an answer, the record's or none yet
    slowest = Math.max(slowest, Date.now() - started);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return slowest;
}

/** The name of the first of the submission's Jobs seen failed. */
async function firstFailedJob(runtime: LocalRuntime, pk: number): Promise<string> {
  let failed = '';
  await until(async () => {
    const jobs = (await runtime.plane.store.get(pk))?.plan?.workers.map((w) => w.jobName) ?? [];
    for (const job of jobs) if ((await runtime.jobs.observe(job)).state === 'failed') failed = job;
    return failed !== '';
  }, 150_000);
  return failed;
}

/** Small limits, so that an agent attacking the machine meets them in a second. */
const PIDS_LIMIT = 256;
const podLimits = {
  pidsLimit: PIDS_LIMIT,
  scratchLimits: { logs: '32Mi' },
  resources: { agent: { ephemeralStorage: '64Mi' } },
} satisfies LocalRuntimeOptions['podLimits'];

describe('the container executor, end to end with podman', () => {
  let runtime: LocalRuntime;
  beforeAll(async () => {
    runtime = await LocalRuntime.start({ stateDir: stateDir(), ...fast, podLimits });
  });
  afterAll(() => runtime.stop());
  const finish = (pk: number) => until(() => TERMINAL.includes(runtime.evalai.get(pk).status), 150_000);

  it('evaluates an agent image in real containers: the pod scripts, logcopy, the leaderboard', async () => {
    const submission = await runtime.submit('Team Boxed', agentImage('good'));
    const jobs = jobsOf('Team Boxed', submission.id);
    // Each worker is a pod: two init containers run to their end, then simulator, agent and logcopy.
    await until(() => runningOf(jobs).length === 6, 120_000); // the first pods of a fresh machine take longest
    await finish(submission.id);
    const remote = runtime.evalai.get(submission.id);
    expect(remote.status).toBe('finished');
    expect(remote.stdout).toContain('Completed 20 out of 20 routes');
    const row = runtime.evalai.leaderboard.get(`${submission.id}/leaderboard`);
    expect(Object.keys(row?.accuracies ?? {})).toEqual(LEADERBOARD_LABELS);
    expect(row?.accuracies['Driving score']).toBeGreaterThan(0);
    await runtime.engine.idle();
    expect(containersOf(jobs)).toEqual([]); // the Jobs were deleted, their containers with them
  }, 180_000);

  it('restarts a crashed agent container, which resumes from its checkpoint and finishes every route', async () => {
    const submission = await runtime.submit('Team Phoenix', agentImage('crash-once'));
    await finish(submission.id);
    const remote = runtime.evalai.get(submission.id);
    expect(remote.stderr).toBe('');
    expect(remote.status).toBe('finished');
    expect(remote.stdout).toContain('Completed 20 out of 20 routes');
  }, 180_000);

  // An agent attacking the machine it runs on: a fork bomb and a disk filler stay inside their pod's limits
  // (pidsLimit, each emptyDir's sizeLimit, the agent's ephemeral-storage); the host's stores go on answering.
  it('runs a fork bomb into its pids limit, and drives on to a result', async () => {
    const submission = await runtime.submit('Team Forks', agentImage('fork-bomb'));
    expect(await slowestStoreAnswer(runtime, submission.id, finish(submission.id))).toBeLessThan(5_000);
    expect(runtime.evalai.get(submission.id).status).toBe('finished');
    const [, started] = /fork bomb: (\d+) processes/.exec(await agentLog(runtime, submission.id)) ?? [];
    expect(Number(started)).toBeGreaterThan(PIDS_LIMIT / 2);
    expect(Number(started)).toBeLessThan(PIDS_LIMIT);
  }, 180_000);

  it('stops a disk filler at its volume size and evicts it past its ephemeral storage, failing it as its own', async () => {
    const submission = await runtime.submit('Team Fill', agentImage('fill-disk'));
    // A Job reads failed only once its pod is down: logcopy's last flush is in before anything collects.
    const stillRunning = firstFailedJob(runtime, submission.id).then(runningOf);
    expect(await slowestStoreAnswer(runtime, submission.id, finish(submission.id))).toBeLessThan(5_000);
    expect(await stillRunning).toEqual([]);
    const remote = runtime.evalai.get(submission.id);
    expect(remote.status).toBe('failed');
    expect(remote.stderr.split('\n')[0]).toBe(failureClassLine('resource_limit'));
    expect(remote.stderr).toMatch(
      /the agent container wrote \d+Mi to its root filesystem, past its ephemeral-storage limit of 64Mi/,
    );
    const log = await agentLog(runtime, submission.id);
    expect(log).toMatch(/fill disk: the logs volume took 3[12] MiB \(ENOSPC\)/);
  }, 180_000);
});

describe("logcopy as its container's PID 1", () => {
  it('stops within seconds when the pod ends while it is still starting, rather than waiting out the grace', () => {
    // A crashing agent ends its pod a second after logcopy starts. As PID 1, a process gets no signal it has
    // no handler for: a SIGTERM before logcopy set its handler was lost, and its pod waited the whole grace.
    const name = `pitwall-logcopy-starting-${process.pid}`;
    const env = {
      ...{ SUBMISSION_PK: '1', WORKER: '0', S3_BUCKET: 'pitwall-artifacts', S3_PREFIX: 'submissions/1/w0/' },
      ...{ DYNAMODB_TABLE: 'pitwall-submissions', AWS_REGION: 'us-east-1', MAX_UPLOAD_BYTES: '1048576' },
      ...{ STATUS_DIR: '/tmp/status', CHECKPOINT_PATH: '/tmp/checkpoint.json', LOG_DIR: '/tmp/logs' },
      ...{ S3_ENDPOINT: 'http://127.0.0.1:9', DYNAMODB_ENDPOINT: 'http://127.0.0.1:9' },
      ...{ AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' },
    };
    try {
      const envArgs = Object.entries(env).flatMap(([key, value]) => ['--env', `${key}=${value}`]);
      podman('run', '--detach', '--name', name, '--network', 'none', ...envArgs, LOCAL_IMAGES.logcopy, 'watch');
      const stopping = Date.now();
      podman('stop', '--time', '60', name);
      expect(Date.now() - stopping).toBeLessThan(20_000); // its last flush, to stores it cannot reach
      // Its own end (0), or SIGTERM's (143) if it came before node set the handler; not SIGKILL's (137).
      expect(['0', '143']).toContain(podman('inspect', '--format', '{{.State.ExitCode}}', name).trim());
    } finally {
      spawnSync('podman', ['rm', '--force', name]);
    }
  }, 90_000);
});

describe('the container executor across a restart of the runtime', () => {
  it('adopts the containers a stopped runtime left running instead of starting new ones', async () => {
    const dir = stateDir();
    let current: LocalRuntime | undefined;
    let jobs = '';
    const evalai = await outlivingEvalAi(() => current);
    try {
      // About 30 s of driving per worker (92 km at 300 ms/km, fixed in the containers' environment): longer
      // than the runtime's stop and start, so the containers are still running when it is back.
      current = await LocalRuntime.start({ stateDir: dir, evalai, ...fast, msPerKm: 300 });
      const running = await current.submit('Team Patient', agentImage('good'));
      jobs = jobsOf('Team Patient', running.id);
      await until(() => evalai.get(running.id).status === 'running', 60_000);
      await until(() => runningOf(jobs).length === 6, 120_000); // the first pods of a fresh machine take longest // 3 containers in each of 2 pods
      const ids = () =>
        podman('ps', '--all', '--format', '{{.ID}} {{.Names}}', '--filter', 'label=pitwall.job')
          .split('\n')
          .filter((line) => line.split(' ')[1]?.startsWith(jobs))
          .sort();
      const before = ids();
      await current.stop();
      current = undefined;
      current = await LocalRuntime.start({ stateDir: dir, evalai, ...fast });
      expect(ids()).toEqual(before); // the same containers: none started again
      expect(runningOf(jobs)).toHaveLength(6);
      await until(() => TERMINAL.includes(evalai.get(running.id).status), 150_000);
      expect(evalai.get(running.id).stderr ?? '').toBe('');
      expect(evalai.get(running.id).status).toBe('finished');
      expect(evalai.get(running.id).stdout).toContain('Completed 20 out of 20 routes');
    } finally {
      await current?.stop();
      await evalai.close();
      removePodsOf(jobs);
    }
  }, 300_000);
});

describe('the container executor when a participant cancels', () => {
  it('stops the pods and deletes the Jobs, and EvalAI shows the submission cancelled', async () => {
    const runtime = await LocalRuntime.start({ stateDir: stateDir(), ...fast, msPerKm: 300 });
    try {
      const submission = await runtime.submit('Team Quitter', agentImage('good'));
      const jobs = jobsOf('Team Quitter', submission.id);
      await until(() => runningOf(jobs).length === 6, 120_000); // the first pods of a fresh machine take longest
      runtime.evalai.cancel(submission.id);
      const cancelledAt = Date.now();
      await until(async () => (await runtime.plane.store.get(submission.id))?.status === 'cancelled', 30_000);
      await runtime.engine.idle();
      // The run drives for about 30 s more: what stops it is the cancel, not the end of its routes.
      expect(Date.now() - cancelledAt).toBeLessThan(20_000);
      expect(containersOf(jobs)).toEqual([]);
      expect(runtime.evalai.get(submission.id).status).toBe('cancelled');
    } finally {
      await runtime.stop();
    }
  }, 180_000);
});

describe('pitwall local up --executor podman killed with -9 mid-run', () => {
  it('leaves its pods running, and the runtime started again adopts them and finishes the submission once', async () => {
    const root = stateDir();
    const env = { ...process.env, PITWALL_STATE_DIR: root };
    const cli = [
      '--import',
      'tsx',
      'packages/cli/src/main.ts',
      'local',
      'up',
      '--executor',
      'podman',
      '--workers',
      '2',
      '--ms-per-km',
      '300',
    ];
    const up = spawn(process.execPath, cli, { cwd: repo, env, stdio: 'ignore' });
    let restarted: LocalRuntime | undefined;
    let jobs = '';
    try {
      await until(() => existsSync(join(root, 'endpoints.json')), 120_000);
      process.env.PITWALL_STATE_DIR = root;
      expect(await runCli(['submit', '--team', 'Team Killed', '--image', agentImage('good')])).toBe(0);
      jobs = jobsOf('Team Killed', 1);
      await until(() => runningOf(jobs).length === 6, 90_000);
      const ids = () =>
        podman('ps', '--format', '{{.ID}} {{.Names}}', '--filter', 'label=pitwall.job')
          .split('\n')
          .filter((line) => line.split(' ')[1]?.startsWith(jobs) && /-(simulator|agent|logcopy)$/.test(line))
          .sort();
      const before = ids();
      up.kill('SIGKILL');
      await new Promise((resolve) => up.once('exit', resolve));
      expect(ids()).toEqual(before); // under conmon, the pods outlive the runtime that started them

      restarted = await LocalRuntime.start({ stateDir: join(root, 'state'), ...fast });
      const runtime = restarted;
      expect(ids()).toEqual(before); // adopted: none started again
      await until(() => TERMINAL.includes(runtime.evalai.get(1).status), 150_000);
      await runtime.engine.idle();
      const remote = runtime.evalai.get(1);
      expect({ status: remote.status, stderr: remote.stderr }).toEqual({ status: 'finished', stderr: '' });
      expect(remote.stdout).toContain('Completed 20 out of 20 routes');
      expect(remote.history.filter((h) => h.status === 'finished')).toHaveLength(1);
      expect(containersOf(jobs)).toEqual([]);
    } finally {
      up.kill('SIGKILL');
      await restarted?.stop();
      delete process.env.PITWALL_STATE_DIR;
      removePodsOf(jobs);
    }
  }, 360_000);
});

describe("the container executor with the machine's GPUs (a fake CDI spec under /etc/cdi)", () => {
  // Two devices of a kind of our own: one delivers a GPU the stand-in nvidia-smi shows (by its env), the
  // other only a device node, as a device that does not reach the container would.
  const kind = 'pitwall.test/gpu';
  const gpu = 'GPU-7e57c0de-0000-4000-8000-000000000001';
  const lost = 'GPU-7e57c0de-0000-4000-8000-000000000002';
  const specFile = `/etc/cdi/pitwall-test-gpu-${process.pid}.yaml`;
  beforeAll(() => {
    mkdirSync('/etc/cdi', { recursive: true });
    const device = (name: string, env: string[]) => ({
      name,
      containerEdits: { env, deviceNodes: [{ path: '/dev/pitwall-gpu', hostPath: '/dev/null' }] },
    });
    const spec = {
      cdiVersion: '0.5.0',
      kind,
      devices: [device(gpu, [`PITWALL_STANDIN_GPU_UUID=${gpu}`]), device(lost, [])],
    };
    writeFileSync(specFile, JSON.stringify(spec));
  });
  afterAll(() => rmSync(specFile, { force: true }));
  const withGpus = (devices: string[], options: Partial<LocalRuntimeOptions>) =>
    LocalRuntime.start({ stateDir: stateDir(), ...fast, ...options, gpus: { kind, devices } });
  /** When a container started and ended, in Unix nanoseconds. */
  const RAN = '{{.State.StartedAt.UnixNano}} {{.State.FinishedAt.UnixNano}}';
  const envOf = (container: string) => podman('inspect', '--format', '{{json .Config.Env}}', container);

  it('gives each Job one GPU, the same to simulator and agent and none to logcopy; a Job waits while none is free', async () => {
    // Slower driving than the other tests: the look below needs the pod's three containers running at once.
    const runtime = await withGpus([gpu], { msPerKm: 20 });
    let jobs = '';
    try {
      const submission = await runtime.submit('Team Gpu', agentImage('good'));
      jobs = jobsOf('Team Gpu', submission.id);
      const ended = () => TERMINAL.includes(runtime.evalai.get(submission.id).status);
      await until(() => ended() || runningOf(jobs).length === 3, 120_000);
      expect(runtime.evalai.get(submission.id).stderr).toBe('');
      expect(ended()).toBe(false);
      // An ended pod stays listed (for its logs): the running one is the one whose containers run.
      const pod = runningOf(jobs)[0]?.replace(/-(simulator|agent|logcopy)$/, '');
      for (const container of ['simulator', 'agent']) {
        expect(envOf(`${pod}-${container}`)).toContain(`PITWALL_STANDIN_GPU_UUID=${gpu}`);
        expect(envOf(`${pod}-${container}`)).toContain(`PITWALL_GPU_UUID=${gpu}`);
      }
      expect(envOf(`${pod}-logcopy`)).not.toContain(gpu);
      expect(podman('logs', `${pod}-agent`)).toContain(`on GPU ${gpu}`);
      // One GPU, two workers: the other Job waits for the GPU, so their agents run one after the other.
      // Each agent's start and end, looked at until the submission ends (Cleanup then removes the pods).
      const ran = new Map<string, bigint[]>();
      await until(() => {
        for (const agent of containersOf(jobs).filter((name) => name.endsWith('-agent'))) {
          const times = spawnSync('podman', ['inspect', '--format', RAN, agent], { encoding: 'utf8' }).stdout.trim();
          if (times) ran.set(agent, times.split(' ').map(BigInt)); // none if Cleanup removed it meanwhile
        }
        return ended();
      }, 200_000);
      const [first, second] = [...ran.values()].sort((a, b) => Number((a[0] ?? 0n) - (b[0] ?? 0n)));
      expect(ran.size).toBe(2);
      expect(second?.[0]).toBeGreaterThan(first?.[1] ?? 0n);
      expect(runtime.evalai.get(submission.id).stderr ?? '').toBe('');
      expect(runtime.evalai.get(submission.id).status).toBe('finished');
      expect(runtime.evalai.get(submission.id).stdout).toContain('Completed 20 out of 20 routes');
    } finally {
      await runtime.stop();
      removePodsOf(jobs);
    }
  }, 300_000);

  it('fails a Job whose GPU does not reach its containers, saying so, rather than running it on the CPU', async () => {
    const runtime = await withGpus([lost], { workers: 1 });
    let jobs = '';
    try {
      const submission = await runtime.submit('Team Cpu', agentImage('good'));
      jobs = jobsOf('Team Cpu', submission.id);
      await until(() => TERMINAL.includes(runtime.evalai.get(submission.id).status), 200_000);
      const remote = runtime.evalai.get(submission.id);
      expect(remote.status).toBe('failed');
      expect(remote.stderr).toContain('no GPU is visible to the agent');
    } finally {
      await runtime.stop();
      removePodsOf(jobs);
    }
  }, 300_000);
});

describe('two state folders on one podman', () => {
  it('keep their pods apart: the same team and submission in each run side by side', async () => {
    // Each folder's embedded EvalAI numbers its submissions from 1, so both Jobs have the same name.
    const [a, b] = await Promise.all([
      LocalRuntime.start({ stateDir: stateDir(), ...fast, workers: 1 }),
      LocalRuntime.start({ stateDir: stateDir(), ...fast, workers: 1 }),
    ]);
    const jobs = jobsOf('Team Twin', 1);
    try {
      const [first, second] = await Promise.all([
        a.submit('Team Twin', agentImage('good')),
        b.submit('Team Twin', agentImage('good')),
      ]);
      expect([first.id, second.id]).toEqual([1, 1]);
      await until(() => [a, b].every((r) => TERMINAL.includes(r.evalai.get(1).status)), 200_000);
      for (const runtime of [a, b]) {
        expect(runtime.evalai.get(1).stderr ?? '').toBe('');
        expect(runtime.evalai.get(1).status).toBe('finished');
      }
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      removePodsOf(jobs);
    }
  }, 300_000);
});

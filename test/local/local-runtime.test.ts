import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { registerSubmission } from '@pitwall/domain';
import { logger, readLambdaConfig } from '@pitwall/lambda-kit';
import {
  LEADERBOARD_LABELS,
  LOCAL_CHALLENGE_PK,
  LOCAL_PHASE_PK,
  LocalRuntime,
  LocalRuntimeBusyError,
  type LocalRuntimeOptions,
  UnknownStandinAgentError,
} from '@pitwall/local';
import { TASKS } from '@pitwall/workflow';
import { cpuHog } from '../support/cpu-hog.js';
import { outlivingEvalAi } from '../support/outliving-evalai.js';
import { until } from '../support/until.js';

const TERMINAL = ['finished', 'failed', 'cancelled'];
const fast = { workers: 2, pollMs: 200, msPerKm: 4 } satisfies Partial<LocalRuntimeOptions>;

const HOUSEKEEPERS = [
  { service: 'cleanup', function: 'sweep' },
  { service: 'cleanup', function: 'reconcile' },
];

const stateDir = () => mkdtempSync(join(tmpdir(), 'pitwall-local-'));

describe('the local runtime, end to end with processes', () => {
  let runtime: LocalRuntime;
  beforeAll(async () => {
    runtime = await LocalRuntime.start({ stateDir: stateDir(), ...fast });
  });
  afterAll(() => runtime.stop());
  const finish = (pk: number) => until(() => TERMINAL.includes(runtime.evalai.get(pk).status));

  it('evaluates a good agent once, however many times its message is delivered', async () => {
    const submission = await runtime.submit('Team Good', 'local/agent:good');
    const message = runtime.evalai.messageFor(submission.id);
    await runtime.publish(message);
    await runtime.publish(message);
    await finish(submission.id);
    const remote = runtime.evalai.get(submission.id);
    expect(remote.status).toBe('finished');
    expect(remote.jobName).toHaveLength(1); // one PATCH queued: one evaluation
    expect(remote.stdout).toContain('Completed 20 out of 20 routes');
    const row = runtime.evalai.leaderboard.get(`${submission.id}/leaderboard`);
    expect(Object.keys(row?.accuracies ?? {})).toEqual(LEADERBOARD_LABELS);
    expect(row?.accuracies['Driving score']).toBeGreaterThan(0);
    await runtime.engine.idle();
    expect(readdirSync(join(runtime.stateDir, 'jobs'))).toEqual([]); // the jobs were deleted
  }, 90_000);

  it('evaluates every route of a good agent beside a CPU hog: no result is collected before it is uploaded', async () => {
    const hog = cpuHog();
    try {
      const submission = await runtime.submit('Team Loaded', 'local/agent:good');
      await finish(submission.id);
      const remote = runtime.evalai.get(submission.id);
      expect(remote.stderr ?? '').toBe('');
      expect(remote.status).toBe('finished');
      expect(remote.stdout).toContain('Completed 20 out of 20 routes');
    } finally {
      hog.stop();
    }
  }, 180_000);

  it('refuses a stand-in agent whose tag names no behaviour, before EvalAI has it', async () => {
    const before = runtime.evalai.submissions.size;
    await expect(runtime.submit('Team Typo', 'local/agent:typo')).rejects.toThrow(UnknownStandinAgentError);
    expect(runtime.evalai.submissions.size).toBe(before);
  });

  it('runs every Task and the housekeeping through its function’s Lambda entry point, as in AWS', async () => {
    const invoked = new Set<string>();
    const addContext = jest.spyOn(logger, 'addContext').mockImplementation((context) => {
      invoked.add(context.functionName);
    });
    try {
      const evaluated = await runtime.submit('Team Entry', 'local/agent:good');
      const rejected = await runtime.submit('Team Elsewhere', 'elsewhere/agent:1'); // not an allowed image
      await finish(evaluated.id);
      await finish(rejected.id);
      await runtime.engine.idle();
      await runtime.housekeep();
    } finally {
      addContext.mockRestore();
    }
    const functions = [...Object.values(TASKS).filter((task) => task.function !== 'handOver'), ...HOUSEKEEPERS];
    // Runs this short hand over to no fresh execution: every other Task and both schedules ran.
    expect([...invoked].sort()).toEqual(functions.map((f) => `pitwall-${f.service}-local-${f.function}`).sort());
    // Each reads the environment the runtime gives it, as a Lambda reads its own.
    expect(readLambdaConfig(runtime.functionEnvironment)).toMatchObject({
      table: 'pitwall-submissions',
      endpoints: { dynamodb: runtime.endpoints.dynamodb, s3: runtime.endpoints.s3 },
    });
  }, 90_000);

  it('sweeps and reconciles as the schedules do in AWS: a lost message is re-sent, a dead execution failed', async () => {
    const lost = runtime.evalai.createSubmission({
      phasePk: LOCAL_PHASE_PK,
      teamPk: 77,
      teamName: 'Team Lost',
      imageUri: 'local/agent:good',
    });
    runtime.evalai.get(lost.id).submittedAt = new Date(Date.now() - 20 * 60_000).toISOString();
    const orphan = runtime.evalai.createSubmission({
      phasePk: LOCAL_PHASE_PK,
      teamPk: 78,
      teamName: 'Team Orphan',
      imageUri: 'local/agent:good',
    });
    const now = new Date().toISOString();
    await runtime.plane.store.create({
      submissionPk: orphan.id,
      challengePk: LOCAL_CHALLENGE_PK,
      phasePk: LOCAL_PHASE_PK,
      attempt: 1,
      track: 'SENSORS',
      teamPk: 78,
      teamName: 'Team Orphan',
      imageUri: 'local/agent:good',
      registeredAt: now,
      deadline: new Date(Date.now() + 600_000).toISOString(),
      executionId: 'an-execution-that-died',
      at: now,
    });
    const { sweep, reconcile } = await runtime.housekeep();
    expect(sweep.failed).toEqual([orphan.id]);
    expect(runtime.evalai.get(orphan.id).stderr).toContain('interrupted');
    expect(reconcile.resent).toEqual([lost.id]);
    await finish(lost.id);
    expect(runtime.evalai.get(lost.id).status).toBe('finished');
  }, 90_000);

  it('resumes an agent that crashes once from its checkpoint and finishes with every route', async () => {
    const submission = await runtime.submit('Team Crashy', 'local/agent:crash-once');
    await finish(submission.id);
    const remote = runtime.evalai.get(submission.id);
    expect(remote.status).toBe('finished');
    expect(remote.stdout).toContain('Completed 20 out of 20 routes');
  }, 90_000);

  it('fails an agent whose checkpoint cannot be trusted, saying why', async () => {
    const submission = await runtime.submit('Team Liar', 'local/agent:bad-checkpoint');
    await finish(submission.id);
    const remote = runtime.evalai.get(submission.id);
    expect(remote.status).toBe('failed');
    expect(remote.stderr).toContain('scores.score_route: must be between 0 and 100');
  }, 90_000);

  it('stops within a status-watch period and a poll when the participant cancels, and deletes the jobs', async () => {
    const submission = await runtime.submit('Team Quitter', 'local/agent:slow');
    await until(async () => (await runtime.plane.store.get(submission.id))?.status === 'running');
    const jobs = (await runtime.plane.store.get(submission.id))?.plan?.workers.map((w) => w.jobName) ?? [];
    runtime.evalai.cancel(submission.id);
    const cancelledAt = Date.now();
    await until(async () => (await runtime.plane.store.get(submission.id))?.status === 'cancelled', 20_000);
    // The challenge's status watch runs once a poll.initialSeconds (1 s here), then the run's next poll acts.
    expect(Date.now() - cancelledAt).toBeLessThan(1000 + 2 * 200 + 2000);
    await runtime.engine.idle();
    for (const job of jobs) expect((await runtime.jobs.observe(job)).state).toBe('missing');
    expect(runtime.evalai.get(submission.id).status).toBe('cancelled');
  }, 90_000);
});

describe('the local runtime under a time limit', () => {
  it('fails an agent that hangs once its time limit passes, and deletes its jobs', async () => {
    const runtime = await LocalRuntime.start({ stateDir: stateDir(), ...fast, timeLimitSeconds: 4 });
    try {
      const submission = await runtime.submit('Team Sleepy', 'local/agent:hang');
      await until(() => TERMINAL.includes(runtime.evalai.get(submission.id).status), 60_000);
      const remote = runtime.evalai.get(submission.id);
      expect(remote.status).toBe('failed');
      expect(remote.stderr).toContain('Time limit exceeded');
      await runtime.engine.idle();
      const jobs = (await runtime.plane.store.get(submission.id))?.plan?.workers.map((w) => w.jobName) ?? [];
      for (const job of jobs) expect((await runtime.jobs.observe(job)).state).toBe('missing');
    } finally {
      await runtime.stop();
    }
  }, 90_000);
});

describe('the local runtime across a restart', () => {
  it('takes every submission to its terminal status when stopped mid-run and started again', async () => {
    let current: LocalRuntime | undefined;
    const evalai = await outlivingEvalAi(() => current);
    const dir = stateDir();
    try {
      current = await LocalRuntime.start({ stateDir: dir, evalai, ...fast, msPerKm: 15 });
      const running = await current.submit('Team Patient', 'local/agent:good');
      await until(async () => (await current?.plane.store.get(running.id))?.progress !== undefined);
      await current.stop();
      // What a pod stopped as its worker finished can leave: the agent done, the simulator's SIGTERM trap
      // marking a crash. A Job started again is a new pod with new emptyDirs, as on a cluster; stale status
      // files would have one container finish and leave the other waiting for it.
      for (const job of readdirSync(join(dir, 'jobs'))) {
        const worker = /-w(\d+)-/.exec(job)?.[1];
        for (const stale of [`agent-${worker}.done`, `simulator-${worker}.crash0`]) {
          writeFileSync(join(dir, 'jobs', job, 'volumes', 'status', stale), '');
        }
      }
      // Submitted while Pitwall was down: its message is gone with the in-memory queue.
      const waiting = evalai.createSubmission({
        phasePk: LOCAL_PHASE_PK,
        teamPk: 5,
        teamName: 'Team Late',
        imageUri: 'local/agent:good',
      });
      expect(existsSync(join(dir, 'dynamodb'))).toBe(true);

      current = await LocalRuntime.start({ stateDir: dir, evalai, ...fast });
      const restarted = current;
      await until(() => [running.id, waiting.id].every((pk) => TERMINAL.includes(evalai.get(pk).status)), 90_000);
      const { status, stderr } = evalai.get(running.id);
      expect({ status, stderr }).toEqual({ status: 'finished', stderr: '' }); // a failure shows its reason
      expect(evalai.get(running.id).stdout).toContain('Completed 20 out of 20 routes');
      expect(evalai.get(waiting.id).status).toBe('finished');
      await restarted.engine.idle();
    } finally {
      await current?.stop();
      await evalai.close();
    }
  }, 150_000);
  it('runs a submission registered but never queued again from Register, which stops one cancelled meanwhile', async () => {
    let current: LocalRuntime | undefined;
    const evalai = await outlivingEvalAi(() => current);
    const dir = stateDir();
    try {
      current = await LocalRuntime.start({ stateDir: dir, evalai, ...fast, housekeepingMs: 0 });
      const submit = (team: string, teamPk: number) =>
        evalai.createSubmission({ phasePk: LOCAL_PHASE_PK, teamPk, teamName: team, imageUri: 'local/agent:good' });
      const kept = submit('Team Kept', 6);
      const cancelled = submit('Team Gone', 7);
      // Each registered by an execution that died with the runtime, before Plan.
      for (const { id } of [kept, cancelled]) {
        const registration = await registerSubmission(current.plane, {
          event: [{ messageId: `m${id}`, body: evalai.messageFor(id) }],
          executionId: `arn:aws:states:local:000000000000:execution:evaluate-submission:lost-${id}`,
        });
        expect(registration.action).toBe('run');
      }
      await current.stop();
      evalai.cancel(cancelled.id); // the participant, while Pitwall was down

      current = await LocalRuntime.start({ stateDir: dir, evalai, ...fast, housekeepingMs: 0 });
      await until(() => TERMINAL.includes(evalai.get(kept.id).status), 90_000);
      await current.engine.idle();
      expect(evalai.get(kept.id).status).toBe('finished');
      expect(evalai.get(cancelled.id).status).toBe('cancelled');
      // Register saw the cancel: nothing was planned or launched for it.
      expect((await current.plane.store.get(cancelled.id))?.plan).toBeUndefined();
      expect((await current.jobs.list()).filter((job) => job.submissionPk === cancelled.id)).toEqual([]);
    } finally {
      await current?.stop();
      await evalai.close();
    }
  }, 150_000);
});

describe('the local runtime’s state folder', () => {
  it('keeps the embedded EvalAI’s submissions across a restart, so ids never collide with old records', async () => {
    const dir = stateDir();
    const options = { stateDir: dir, ...fast, executor: 'instant', housekeepingMs: 0 } as const;
    const first = await LocalRuntime.start(options);
    let old: number;
    try {
      old = (await first.submit('Team Before', 'local/agent:good')).id;
      await until(() => first.evalai.get(old).status === 'finished');
      await first.engine.idle();
    } finally {
      await first.stop();
    }
    const second = await LocalRuntime.start(options);
    try {
      expect(second.evalai.get(old).status).toBe('finished');
      const next = await second.submit('Team After', 'local/agent:good');
      expect(next.id).toBe(old + 1);
      await until(() => TERMINAL.includes(second.evalai.get(next.id).status));
      expect(second.evalai.get(next.id)).toMatchObject({ status: 'finished', stderr: '' });
    } finally {
      await second.stop();
    }
  }, 60_000);

  it('lets go of the folder when a start fails, so the next start works', async () => {
    const dir = stateDir();
    const options = { stateDir: dir, ...fast, executor: 'instant', housekeepingMs: 0 } as const;
    writeFileSync(join(dir, 'evalai.json'), '{"submissions": [');
    await expect(LocalRuntime.start(options)).rejects.toThrow("the EvalAI emulator's state file");
    expect(existsSync(join(dir, 'runtime.lock'))).toBe(false);
    rmSync(join(dir, 'evalai.json'));
    await (await LocalRuntime.start(options)).stop();
  }, 60_000);

  it('is held by one runtime at a time: a second gets a one-line reason, a stale lock is taken over', async () => {
    const dir = stateDir();
    const first = await LocalRuntime.start({ stateDir: dir, ...fast, executor: 'instant', housekeepingMs: 0 });
    try {
      const second = LocalRuntime.start({ stateDir: dir, ...fast, executor: 'instant', housekeepingMs: 0 });
      await expect(second).rejects.toThrow(new LocalRuntimeBusyError(dir, process.pid));
    } finally {
      await first.stop();
    }
    // A runtime killed with -9 leaves its lock behind, naming a process that no longer exists.
    writeFileSync(join(dir, 'runtime.lock'), '2147483646\n');
    const after = await LocalRuntime.start({ stateDir: dir, ...fast, executor: 'instant', housekeepingMs: 0 });
    await after.stop();
    expect(existsSync(join(dir, 'runtime.lock'))).toBe(false);
  }, 60_000);
});

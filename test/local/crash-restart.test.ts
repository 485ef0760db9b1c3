import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from '@jest/globals';
import { recordEndpoints, runCli } from '@pitwall/cli';
import { LocalRuntime } from '@pitwall/local';
import { until } from '../support/until.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'pitwall-crash-'));
let up: ChildProcess | undefined;
let restarted: LocalRuntime | undefined;
afterAll(async () => {
  up?.kill('SIGKILL');
  await restarted?.stop();
});

/**
 * Running, not merely not yet reaped: the dead runtime's children belong to PID 1 once it is gone, and a
 * container's PID 1 may reap them late (a zombie still answers kill 0).
 */
const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};
const jobsDir = join(root, 'state', 'jobs');
const containerPids = () =>
  existsSync(jobsDir)
    ? readdirSync(jobsDir).flatMap((job) => {
        const dir = join(jobsDir, job, 'pids');
        return existsSync(dir) ? readdirSync(dir).map((c) => Number(readFileSync(join(dir, c), 'utf8'))) : [];
      })
    : [];

/** The routes a worker's checkpoint has in its pod's volume (what it drove, uploaded or not). */
function routesInVolume(worker: number): number {
  const job = existsSync(jobsDir) ? readdirSync(jobsDir).find((name) => name.includes(`-w${worker}-`)) : undefined;
  try {
    const file = join(jobsDir, job ?? '', 'volumes', 'checkpoint', 'checkpoint.json');
    return JSON.parse(readFileSync(file, 'utf8'))._checkpoint.records.length;
  } catch {
    return 0; // not written yet, or caught mid-write
  }
}

/** Worker 1's agent log, as `pitwall logs` prints it from the artifact store. */
async function agentLog(submission: string): Promise<string> {
  const printed: string[] = [];
  const io = {
    interactive: false,
    out: (text: string) => {
      printed.push(text);
    },
    err: () => {},
    readStdin: async () => '',
  };
  await runCli(['logs', submission, '--worker', '1'], io);
  return printed.join('\n');
}

describe('pitwall local up killed with -9 mid-run', () => {
  it('ends what the dead runtime left running, and the restarted one takes the submission to one result', async () => {
    process.env.PITWALL_STATE_DIR = root;
    // Slow enough (a route in about a second) that the pods have driving left when the runtime dies.
    const args = ['--import', 'tsx', 'packages/cli/src/main.ts', 'local', 'up', '--workers', '2', '--ms-per-km', '400'];
    up = spawn(process.execPath, args, {
      cwd: repo,
      env: { ...process.env, PITWALL_STATE_DIR: root },
      stdio: 'ignore',
    });
    await until(() => existsSync(join(root, 'endpoints.json')), 60_000);
    expect(await runCli(['submit', '--team', 'Team Crash', '--image', 'local/agent:good'])).toBe(0);
    // Both workers' simulator, agent and logcopy running: 6 processes, then some driving, which logcopy has
    // uploaded (what it had not would go with the machine, as on a node lost).
    await until(() => containerPids().filter(alive).length === 6, 60_000);
    await until(async () => (await agentLog('1')).includes('agent 1: evaluating routes'), 60_000);
    const left = containerPids();
    const atKill = routesInVolume(1);
    up.kill('SIGKILL');
    await new Promise((resolve) => up?.once('exit', resolve));
    expect(left.filter(alive)).toHaveLength(6); // what a crash leaves: the pod's processes, unattended
    // They go on, as pods outlive their control plane: worker 1 drives a route more with no runtime.
    await until(() => routesInVolume(1) > atKill, 30_000);
    const drivenAlone = routesInVolume(1);

    restarted = await LocalRuntime.start({ stateDir: join(root, 'state'), workers: 2, pollMs: 200, msPerKm: 40 });
    const runtime = restarted;
    expect(left.filter(alive)).toEqual([]);
    const [submission] = [...runtime.evalai.submissions.values()];
    if (!submission) throw new Error('the embedded EvalAI lost the submission');
    await until(() => ['finished', 'failed', 'cancelled'].includes(runtime.evalai.get(submission.id).status), 120_000);
    await runtime.engine.idle();
    const remote = runtime.evalai.get(submission.id);
    expect({ status: remote.status, stderr: remote.stderr }).toEqual({ status: 'finished', stderr: '' });
    expect(remote.stdout).toContain('Completed 20 out of 20 routes');
    expect(remote.history.filter((h) => h.status === 'finished')).toHaveLength(1);
    expect(containerPids().filter(alive)).toEqual([]);

    // The logs outlive the jobs: logcopy uploaded them, `pitwall logs` reads them back, both pods' runs: the
    // new pod's restore step brought back what the first wrote, and its scripts appended to it.
    recordEndpoints(runtime);
    const log = await agentLog(String(submission.id));
    expect(log.split('\n')[0]).toBe('== worker 1, agent ==');
    expect(log.match(/agent 1: round \d+ on GPU/g)?.length).toBeGreaterThanOrEqual(2);
    expect(log).toContain('agent 1: the evaluation is complete');
    // What the pod drove while no runtime ran was uploaded by its logcopy (stores back, then its last flush):
    // the new pod resumed from there, not from what was up at the kill.
    const resumedFrom = Number(/resuming from route (\d+) of/.exec(log)?.[1] ?? -1);
    expect(resumedFrom).toBeGreaterThanOrEqual(drivenAlone);
  }, 240_000);
});

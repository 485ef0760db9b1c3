import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { routesFile } from '@pitwall/carla-routes';
import { buildLocalPrograms, type LocalPrograms, POD_SCRIPTS, PortBook } from '../src/index.js';

// The worker pod's scripts, run as the pod runs them (simulator and agent side by side, sharing the status,
// log and GPU folders), against the stand-ins for CARLA, nvidia-smi and the evaluator. The test plays the
// kubelet: the simulator is a sidecar, stopped (SIGTERM) once the agent has exited; a round after a crash
// is a new pod's, or an earlier round's folders kept, and resumes from the checkpoint either way.

let programs: LocalPrograms;
const ports = PortBook.belowEphemeral();
beforeAll(async () => {
  programs = await buildLocalPrograms(mkdtempSync(join(tmpdir(), 'pod-scripts-bin-')));
});

interface Exit {
  readonly code: number | null;
  readonly ms: number;
}

async function pod(behaviour: string, env: Record<string, string> = {}) {
  const root = mkdtempSync(join(tmpdir(), 'pod-scripts-'));
  const dirs = {
    status: join(root, 'status'),
    logs: join(root, 'logs'),
    gpu: join(root, 'gpu'),
    agent: join(root, 'agent'),
  };
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
  const leaderboard = join(root, 'leaderboard-code');
  mkdirSync(join(leaderboard, 'leaderboard'), { recursive: true });
  copyFileSync(programs.evaluator, join(leaderboard, 'leaderboard', 'leaderboard_evaluator.py'));
  const checkpoint = join(dirs.agent, 'checkpoint.json');
  const base = {
    PATH: `${programs.standinBin}:${process.env.PATH}`,
    WORKER_ID: '3',
    STATUS_DIR: dirs.status,
    LOG_DIR: dirs.logs,
    GPU_DIR: dirs.gpu,
    CARLA_PORT: String(await ports.take()),
    TM_PORT: String(await ports.take()),
    POLL_SECONDS: '0.1',
    STOP_GRACE_SECONDS: '2',
    HANDSHAKE_TIMEOUT: '20',
    CARLA_SERVER: join(programs.standinBin, 'carla-server'),
    PITWALL_NODE: process.execPath,
    PITWALL_STANDIN: programs.standin,
    PITWALL_STANDIN_MS_PER_KM: '20',
    ...env,
  };
  const agentEnv = {
    ...base,
    LEADERBOARD_ROOT: leaderboard,
    ROUTES: routesFile('validation'),
    ROUTES_SUBSET: '0-3',
    REPETITIONS: '1',
    CHALLENGE_TRACK_CODENAME: 'SENSORS',
    CHECKPOINT_ENDPOINT: checkpoint,
    RESUME: '0',
    TEAM_AGENT: '/workspace/team_code/agent.py',
    AGENT_BEHAVIOUR: behaviour,
    ...env,
  };
  const children: ChildProcess[] = [];
  const run = (script: string, scriptEnv: Record<string, string>): Promise<Exit> => {
    const started = Date.now();
    const child = spawn('bash', [join(POD_SCRIPTS, script)], { env: scriptEnv, stdio: 'ignore' });
    children.push(child);
    return new Promise((resolve) => child.on('exit', (code) => resolve({ code, ms: Date.now() - started })));
  };
  /** One round: both containers, until the agent has exited and then the simulator, stopped if it lingers. */
  const round = async (simulatorEnv: Record<string, string> = {}): Promise<Exit[]> => {
    const simulator = run('run_carla.sh', { ...base, ...simulatorEnv });
    const sidecar = children.at(-1) as ChildProcess;
    const agent = await run('run_leaderboard.sh', agentEnv);
    const stop = setTimeout(() => sidecar.kill('SIGTERM'), 2000); // a crashing one ends by itself first
    const ended = await simulator;
    clearTimeout(stop);
    return [ended, agent];
  };
  const status = () => readdirSync(dirs.status).sort();
  const log = (who: string) => readFileSync(join(dirs.logs, `${who}-3.log`), 'utf8');
  const progress = () => JSON.parse(readFileSync(checkpoint, 'utf8'))._checkpoint.progress as [number, number];
  return { dirs, base, round, run, agentEnv, status, log, progress, children, checkpoint };
}

const codes = (exits: Exit[]) => exits.map((e) => e.code);

describe('the pod scripts (run_carla.sh, run_leaderboard.sh)', () => {
  it('pass shellcheck', () => {
    const scripts = ['common.sh', 'run_carla.sh', 'run_leaderboard.sh'].map((s) => join(POD_SCRIPTS, s));
    const result = spawnSync('shellcheck', ['-x', ...scripts], { encoding: 'utf8', cwd: POD_SCRIPTS });
    if (result.error) throw new Error('shellcheck is not installed: apt-get install shellcheck (.ci/run does)');
    expect(result.stdout).toBe('');
    expect(result.status).toBe(0);
  });

  it('evaluate every route and both end done, exit 0, with the agent’s GPU handed to CARLA', async () => {
    const p = await pod('good');
    expect(codes(await p.round())).toEqual([0, 0]);
    expect(p.status()).toEqual(['agent-3.done', 'agent-3.start0', 'simulator-3.done', 'simulator-3.start0']);
    expect(p.progress()).toEqual([4, 4]);
    expect(readFileSync(join(p.dirs.gpu, 'uuid.txt0'), 'utf8').trim()).toBe('GPU-00000000-0000-0000-0000-pitwalllocal');
    expect(p.log('simulator')).toContain('GPU 0 (GPU-00000000-0000-0000-0000-pitwalllocal)');
    expect(p.log('simulator')).toContain('CARLA is up');
    expect(p.log('agent')).toContain('route 3 rep 0');
  }, 60_000);

  it('resume from the checkpoint after the evaluator crashes: crash files, the agent exits 1 and CARLA 3, the next round finishes', async () => {
    const p = await pod('crash-once');
    expect(codes(await p.round())).toEqual([3, 1]);
    expect(p.status()).toEqual(expect.arrayContaining(['agent-3.crash0', 'simulator-3.crash0']));
    expect(p.progress()).toEqual([1, 4]);
    expect(codes(await p.round())).toEqual([0, 0]);
    expect(p.status()).toEqual(expect.arrayContaining(['agent-3.start1', 'simulator-3.start1', 'agent-3.done']));
    expect(p.log('agent')).toContain('resume=1');
    expect(p.log('agent')).toContain('resuming from route 1 of 4');
    expect(p.log('agent')).toContain('CUDA error'); // appended across restarts
    expect(p.progress()).toEqual([4, 4]);
  }, 60_000);

  it('resume in a new pod from the checkpoint its restore step brought back, RESUME=0 as on a first attempt', async () => {
    const p = await pod('crash-once');
    expect(codes(await p.round())).toEqual([3, 1]);
    // The new pod's emptyDirs: nothing but the checkpoint logcopy had uploaded.
    for (const dir of [p.dirs.status, p.dirs.gpu]) rmSync(dir, { recursive: true, force: true });
    for (const dir of [p.dirs.status, p.dirs.gpu]) mkdirSync(dir);
    expect(codes(await p.round())).toEqual([0, 0]);
    expect(p.status()).toEqual(['agent-3.done', 'agent-3.start0', 'simulator-3.done', 'simulator-3.start0']);
    expect(p.log('agent')).toContain('resuming from route 1 of 4');
    expect(p.progress()).toEqual([4, 4]);
  }, 60_000);

  it('resume after CARLA crashes: the simulator exits 1, the agent 3 (its partner ended the round)', async () => {
    const p = await pod('carla-crash-once');
    expect(codes(await p.round())).toEqual([1, 3]);
    expect(p.log('simulator')).toContain('CARLA exited with code 3');
    expect(p.status()).toEqual(expect.arrayContaining(['agent-3.crash0', 'simulator-3.crash0']));
    expect(codes(await p.round())).toEqual([0, 0]);
    expect(p.progress()).toEqual([4, 4]);
  }, 60_000);

  it('a CARLA crash the agent sees first (its evaluator lost the connection) is still the simulator’s', async () => {
    const p = await pod('carla-crash-once');
    // The simulator's script looks every 3 s, as a loaded machine's may: the evaluator's end comes first.
    // (The simulator, slow to see the agent's answer, may be stopped as the sidecar it is: 1 or 143.)
    const [, agent] = codes(await p.round({ POLL_SECONDS: '3' }));
    expect(agent).toBe(3);
    expect(p.status()).toEqual(expect.arrayContaining(['agent-3.crash0', 'simulator-3.crash0']));
    expect(p.log('agent')).toContain('the simulator crashed');
    expect(p.log('agent')).not.toContain('without a complete checkpoint');
  }, 60_000);

  it('stop an agent whose log stops growing for MAX_IDLE seconds, and resume it', async () => {
    // Long enough that a resumed round's start on a loaded machine (CARLA, the evaluator) is not idleness.
    const p = await pod('idle', { MAX_IDLE: '6' });
    expect(codes(await p.round())).toEqual([3, 1]);
    expect(p.log('agent')).toContain('the agent produced no output for 6 s');
    expect(codes(await p.round())).toEqual([0, 0]);
    expect(p.progress()).toEqual([4, 4]);
  }, 60_000);

  it('stop both within 15 s on the cancel marker, exit 0, and leave nothing running', async () => {
    const p = await pod('slow', { PITWALL_STANDIN_MS_PER_KM: '2000' });
    const ended = p.round();
    const started = Date.now();
    while (!existsSync(join(p.dirs.status, 'simulator-3.start0')) || !existsSync(p.checkpoint)) {
      if (Date.now() - started > 20_000) throw new Error('the pod did not start');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const cancelledAt = Date.now();
    writeFileSync(join(p.dirs.status, 'simulation-3.cancel'), '');
    const exits = await ended;
    expect(codes(exits)).toEqual([0, 0]);
    expect(Date.now() - cancelledAt).toBeLessThan(15_000);
    expect(p.status()).toEqual(expect.arrayContaining(['agent-3.done', 'simulator-3.done']));
    // CARLA's port is closed again: the server the script started is gone, and only it.
    const port = Number(p.base.CARLA_PORT);
    await new Promise<void>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
    });
  }, 60_000);

  it('fail both, saying why, when no GPU is visible', async () => {
    const p = await pod('good', { PITWALL_STANDIN_GPUS: '0' });
    expect(codes(await p.round())).toEqual([3, 1]);
    expect(p.log('agent')).toContain('no GPU is visible to the agent: nvidia-smi said: No devices were found');
    expect(p.status()).toEqual(expect.arrayContaining(['agent-3.crash0', 'simulator-3.crash0']));
  }, 60_000);

  it('fail both when the GPU the executor gave is not the one the agent sees', async () => {
    const p = await pod('good', { PITWALL_GPU_UUID: 'GPU-11111111-0000-0000-0000-given' });
    // Neither sees it: the agent fails, and the simulator too, on its own or with its partner.
    const [simulator, agent] = codes(await p.round());
    expect(agent).toBe(1);
    expect([1, 3]).toContain(simulator);
    expect(p.log('agent')).toContain(
      'the agent was given GPU GPU-11111111-0000-0000-0000-given but sees GPU-00000000-0000-0000-0000-pitwalllocal',
    );
  }, 60_000);

  it('start CARLA on the GPU the executor named, never on one a hostile agent wrote', async () => {
    const p = await pod('good');
    const given = 'GPU-00000000-0000-0000-0000-pitwalllocal';
    writeFileSync(join(p.dirs.gpu, 'uuid.txt0'), 'GPU-99999999-another-teams-gpu\n');
    const simulator = p.run('run_carla.sh', { ...p.base, PITWALL_GPU_UUID: given });
    const started = Date.now();
    while (!existsSync(join(p.dirs.status, 'simulator-3.start0'))) {
      if (Date.now() - started > 20_000) throw new Error(`CARLA did not start: ${p.log('simulator')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    p.children.at(-1)?.kill('SIGTERM'); // the pod goes
    await simulator;
    expect(p.log('simulator')).toContain(`starting CARLA on port ${p.base.CARLA_PORT}, GPU 0 (${given})`);
  }, 60_000);

  it('refuse an agent image that does not say which agent to run', async () => {
    const p = await pod('good', { TEAM_AGENT: '' });
    expect(codes(await p.round())).toEqual([3, 1]);
    expect(p.log('agent')).toContain('TEAM_AGENT is not set: the agent image must set it');
  }, 60_000);
});

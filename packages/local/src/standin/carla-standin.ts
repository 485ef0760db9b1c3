#!/usr/bin/env node
/**
 * Stand-ins, in a local Job, for what cannot run here; the pod's real scripts (run_carla.sh,
 * run_leaderboard.sh) run around them.
 *
 *   carla-server  the CARLA server: listens on -carla-rpc-port until stopped; a client that sends
 *                 "crash" makes it die, as CARLA does under a bad agent
 *   evaluator     leaderboard_evaluator.py behind its real command line (--routes, --routes-subset,
 *                 --repetitions, --checkpoint, --resume, --port): connects to CARLA, replays an evaluation
 *                 over its routes, writing the real checkpoint format route by route, the global record last
 *
 * The agent's behaviour comes from its image tag (AGENT_BEHAVIOUR):
 *
 *   good              drives every route
 *   slow              the same, three times slower
 *   crash-once        the evaluator dies in its second route (a CUDA error), then resumes from the checkpoint
 *   carla-crash-once  CARLA dies in the second route, then both resume
 *   idle              stops writing anything in its second route, once: the scripts' watchdog restarts it
 *   hang              stops writing anything after its first route, every time, until it is killed
 *   bad-checkpoint    writes a checkpoint with impossible scores
 *   preempt-once      drives as good does (the same scores); the local executors take its node away once,
 *                     after its first route
 *   preempt-spot      drives as good does; every pod of it on a spot node loses the node after a route
 *   fork-bomb         in its second route starts processes until the kernel refuses one (at most
 *                     FORK_BOMB_MOST), says how many, holds them 5 s, ends them and drives on as good does
 *   fill-disk         in its second route fills the logs volume until it is full (at most FILL_MOST), then
 *                     its own root filesystem's /tmp with as much, and holds it a minute before driving on
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { expandRoutesSubset, INFRACTION_KEYS, parseRouteFile, type RouteInfo } from '@pitwall/domain';
import { STANDIN_BEHAVIOURS } from './behaviours.js';

const env = process.env;
const role = process.argv[2];
const msPerKm = Number(env.PITWALL_STANDIN_MS_PER_KM ?? '50');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The stand-ins' misbehaviours stop here, limit or not, so a machine without one survives its test. */
const FORK_BOMB_MOST = 4096;
const FILL_MOST = 256 * 2 ** 20;

// A container's processes end with it: a stand-in whose script is gone (killed outright) goes too.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(137);
}, 500).unref();

/** `--name=value` and `-name=value` arguments. */
function argument(name: string): string | undefined {
  const prefix = `${name}=`;
  return process.argv.find((a) => a.startsWith(prefix))?.slice(prefix.length);
}

async function carlaServer(): Promise<number> {
  const port = Number(argument('-carla-rpc-port') ?? '2000');
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.on('data', (data) => {
      if (data.toString().includes('crash')) {
        console.error('Signal 11 caught. (the CARLA stand-in was told to crash)');
        process.exit(3);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  console.log(`CARLA stand-in listening on ${port} (${process.argv.slice(3).join(' ')})`);
  process.once('SIGTERM', () => process.exit(0));
  return new Promise(() => undefined);
}

/** A deterministic but varied drive: the team's image decides how well it drives. */
function drive(routeId: string, repetition: number, seed: number) {
  const x = Math.sin(Number(routeId) * 12.9898 + repetition * 78.233 + seed) * 43758.5453;
  const luck = x - Math.floor(x);
  const completed = luck > 0.2;
  const collisions = luck < 0.5 ? 1 : 0;
  const route = completed ? 100 : Math.round(luck * 400) / 10;
  const penalty = collisions ? 0.6 : 1;
  return { route, penalty, collisions, completed };
}

function connectToCarla(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

async function evaluator(): Promise<number> {
  let carla: Socket | undefined;
  try {
    return await evaluate((socket) => {
      carla = socket;
    });
  } finally {
    carla?.destroy();
  }
}

// biome-ignore lint/complexity/noExcessiveLinesPerFunction: the stand-in evaluator, one script read top to bottom as the real one is
async function evaluate(connected: (socket: Socket) => void): Promise<number> {
  const behaviour = env.AGENT_BEHAVIOUR ?? 'good';
  if (!(STANDIN_BEHAVIOURS as readonly string[]).includes(behaviour)) {
    console.error(`the stand-in has no agent "${behaviour}"; the known ones are ${STANDIN_BEHAVIOURS.join(', ')}`);
    return 1;
  }
  const checkpointPath = argument('--checkpoint') ?? '/tmp/agent/checkpoint.json';
  const port = Number(argument('--port') ?? '2000');
  let carla: Socket;
  try {
    carla = await connectToCarla(port);
    connected(carla);
  } catch (error) {
    console.error(
      `RuntimeError: time-out while waiting for the simulator on port ${port}: ${(error as Error).message}`,
    );
    return 1;
  }
  let carlaGone = false;
  carla.on('close', () => {
    carlaGone = true;
  });
  carla.on('error', () => undefined);
  const routes = expandRoutesSubset(
    parseRouteFile(readFileSync(argument('--routes') ?? '', 'utf8')),
    argument('--routes-subset') ?? '',
  );
  const repetitions = Number(argument('--repetitions') ?? '1');
  const plan = routes.flatMap((r) => Array.from({ length: repetitions }, (_, rep) => ({ route: r, rep })));
  // The preempt tags are about the node, not the agent: it drives as `good` does, to the same scores.
  const agent = (env.AGENT_IMAGE ?? '').replace(/:preempt-[a-z]+$/, ':good');
  const seed = [...agent].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 10007, 7);
  // --resume=1 continues from the checkpoint, as the evaluator's route indexer does; 0 starts over.
  let records: Record<string, unknown>[] = [];
  if (argument('--resume') === '1' && existsSync(checkpointPath)) {
    try {
      records = JSON.parse(readFileSync(checkpointPath, 'utf8'))._checkpoint.records ?? [];
      console.log(`resuming from route ${records.length} of ${plan.length}`);
    } catch {
      records = [];
    }
  }
  const write = (done: number, complete: boolean) =>
    writeFileSync(
      checkpointPath,
      JSON.stringify({
        _checkpoint: {
          global_record: complete ? { index: -1, route_id: -1, status: 'Completed', infractions: {}, meta: {} } : {},
          progress: [done, plan.length],
          records,
        },
        entry_status: complete ? 'Finished' : 'Started',
        eligible: complete,
        sensors: ['carla_camera', 'carla_gnss', 'carla_imu', 'carla_speedometer'],
        values: [],
        labels: [],
      }),
    );
  const resumedFrom = records.length;
  write(records.length, false);
  const slowdown = behaviour === 'slow' ? 3 : 1;
  for (let i = records.length; i < plan.length; i++) {
    const { route, rep } = plan[i] as { route: RouteInfo; rep: number };
    const ms = (route.length / 1000) * msPerKm * slowdown;
    // Behaviours that misbehave once do it in a run that did not resume: a resumed one is past it.
    if (i === 1 && resumedFrom === 0) {
      if (behaviour === 'crash-once') {
        await sleep(ms / 2);
        console.error(`RuntimeError: CUDA error: an illegal memory access was encountered (route ${route.id})`);
        return 1;
      }
      if (behaviour === 'carla-crash-once') carla.write('crash\n');
      if (behaviour === 'idle') for (;;) await sleep(1000);
      if (behaviour === 'fork-bomb') await forkBomb();
      if (behaviour === 'fill-disk') await fillDisk();
    }
    if (behaviour === 'hang' && i === 1) {
      console.error(`agent stopped responding on route ${route.id}`);
      for (;;) await sleep(1000);
    }
    await sleep(ms);
    if (carlaGone) {
      console.error('RuntimeError: the connection to the simulator was lost');
      return 1;
    }
    const result = drive(route.id, rep, seed);
    const infractions: Record<string, string[]> = Object.fromEntries(INFRACTION_KEYS.map((k) => [k, []]));
    if (result.collisions)
      infractions.collisions_vehicle = ['Agent collided against object with type=vehicle.tesla.model3'];
    if (!result.completed) infractions.route_timeout = ['Route timeout.'];
    records.push({
      index: i,
      route_id: `RouteScenario_${route.id}_rep${rep}`,
      status: result.completed ? (result.collisions ? 'Completed' : 'Perfect') : 'Failed - Agent timed out',
      num_infractions: result.collisions + (result.completed ? 0 : 1),
      infractions,
      scores: {
        score_route: behaviour === 'bad-checkpoint' ? 250 : result.route,
        score_penalty: result.penalty,
        score_composed: Math.round(result.route * result.penalty * 1e6) / 1e6,
      },
      meta: { route_length: Math.round(route.length * 1000) / 1000, duration_game: ms / 10, duration_system: ms / 2.5 },
      town_name: route.town,
    });
    write(i + 1, false);
    console.log(`route ${route.id} rep ${rep}: ${records.at(-1)?.status}`);
  }
  // The global record last, as the evaluator writes it once every route is done (a resume included).
  write(plan.length, true);
  return 0;
}

/**
 * Processes that sleep, started until the kernel refuses one (a pids limit) or FORK_BOMB_MOST, held for
 * five seconds, then ended: the pod's scripts, which cannot fork meanwhile, carry on after.
 */
async function forkBomb(): Promise<void> {
  const children: ChildProcess[] = [];
  while (children.length < FORK_BOMB_MOST) {
    const child = spawn('sleep', ['600'], { stdio: 'ignore' });
    child.on('error', () => undefined);
    if (child.pid === undefined) break;
    children.push(child);
  }
  console.error(`fork bomb: ${children.length} processes started before the kernel refused one`);
  await sleep(5_000);
  for (const child of children) child.kill('SIGKILL');
}

/** Fills a file until the disk says no or FILL_MOST; returns the bytes written. */
function fill(file: string): { written: number; error?: string } {
  const chunk = Buffer.alloc(2 ** 20);
  let written = 0;
  try {
    while (written < FILL_MOST) {
      appendFileSync(file, chunk);
      written += chunk.length;
    }
    return { written };
  } catch (error) {
    return { written, error: (error as NodeJS.ErrnoException).code ?? String(error) };
  }
}

/** The logs volume until it is full (then freed, for the log's sake), then the root filesystem's /tmp. */
async function fillDisk(): Promise<void> {
  const logs = join(env.LOG_DIR ?? '/tmp', 'fill');
  const volume = fill(logs);
  rmSync(logs, { force: true });
  console.error(`fill disk: the logs volume took ${volume.written >> 20} MiB (${volume.error ?? 'no error'})`);
  const root = fill('/tmp/fill');
  console.error(`fill disk: the root filesystem took ${root.written >> 20} MiB (${root.error ?? 'no error'})`);
  await sleep(60_000);
  rmSync('/tmp/fill', { force: true });
}

const run = role === 'carla-server' ? carlaServer : role === 'evaluator' ? evaluator : undefined;
if (!run) {
  console.error('usage: carla-standin carla-server|evaluator [arguments]');
  process.exitCode = 2;
} else {
  run().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}

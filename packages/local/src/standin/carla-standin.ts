#!/usr/bin/env node
/**
 * A stand-in for CARLA in a local Job: `simulator` plays the simulator container, `agent` plays the
 * participant's agent running the leaderboard evaluator. The agent replays an evaluation over its routes
 * (from the real route file and --routes-subset), writing the real checkpoint format route by route and
 * the status files of leaderboard-cloud's protocol. The behaviour comes from the image tag (AGENT_BEHAVIOUR):
 *
 *   good            drives every route
 *   slow            the same, three times slower
 *   crash-once      crashes in the middle of its second route, then resumes from the checkpoint
 *   hang            stops writing anything after its first route, until it is killed
 *   bad-checkpoint  writes a checkpoint with impossible scores
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expandRoutesSubset, INFRACTION_KEYS, parseRouteFile, type RouteInfo } from '@pitwall/domain';

const env = process.env;
const role = process.argv[2];
const worker = env.WORKER_ID ?? '0';
const statusDir = env.STATUS_DIR ?? '/tmp/status';
const msPerKm = Number(env.PITWALL_STANDIN_MS_PER_KM ?? '50');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const status = (name: string) => join(statusDir, name);
const touch = (name: string) => writeFileSync(status(name), '');
const cancelled = () => existsSync(status(`simulation-${worker}.cancel`));
/** Each restart of a container uses fresh status names (CRASH_ID in leaderboard-cloud). */
const crashId = (who: string) => readdirSync(statusDir).filter((f) => f.startsWith(`${who}-${worker}.crash`)).length;

async function simulator(): Promise<number> {
  mkdirSync(statusDir, { recursive: true });
  touch(`simulator-${worker}.start${crashId('simulator')}`);
  for (;;) {
    if (existsSync(status(`agent-${worker}.done`)) || cancelled()) {
      touch(`simulator-${worker}.done`);
      return 0;
    }
    await sleep(50);
  }
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

async function agent(): Promise<number> {
  mkdirSync(statusDir, { recursive: true });
  const behaviour = env.AGENT_BEHAVIOUR ?? 'good';
  const checkpointPath = env.CHECKPOINT_ENDPOINT ?? '/tmp/agent/checkpoint.json';
  const attemptCrash = crashId('agent');
  touch(`agent-${worker}.start${attemptCrash}`);
  const routes = expandRoutesSubset(parseRouteFile(readFileSync(env.ROUTES ?? '', 'utf8')), env.ROUTES_SUBSET ?? '');
  const repetitions = Number(env.REPETITIONS ?? '1');
  const plan = routes.flatMap((r) => Array.from({ length: repetitions }, (_, rep) => ({ route: r, rep })));
  const seed = [...(env.AGENT_IMAGE ?? '')].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 10007, 7);
  // Resume from the checkpoint this container (or an earlier attempt) left, as the evaluator's --resume does.
  let records: Record<string, unknown>[] = [];
  if (existsSync(checkpointPath)) {
    try {
      records = JSON.parse(readFileSync(checkpointPath, 'utf8'))._checkpoint.records ?? [];
    } catch {
      records = [];
    }
  }
  const write = (done: number, complete: boolean) =>
    writeFileSync(
      checkpointPath,
      JSON.stringify({
        _checkpoint: { global_record: {}, progress: [done, plan.length], records },
        entry_status: complete ? 'Finished' : 'Started',
        eligible: complete,
        sensors: ['carla_camera', 'carla_gnss', 'carla_imu', 'carla_speedometer'],
        values: [],
        labels: [],
      }),
    );
  write(records.length, false);
  const slowdown = behaviour === 'slow' ? 3 : 1;
  for (let i = records.length; i < plan.length; i++) {
    const { route, rep } = plan[i] as { route: RouteInfo; rep: number };
    const ms = (route.length / 1000) * msPerKm * slowdown;
    if (behaviour === 'crash-once' && i === 1 && attemptCrash === 0) {
      await sleep(ms / 2);
      touch(`agent-${worker}.crash${attemptCrash}`);
      console.error(`RuntimeError: CUDA error: an illegal memory access was encountered (route ${route.id})`);
      return 1;
    }
    if (behaviour === 'hang' && i === 1) {
      console.error(`agent stopped responding on route ${route.id}`);
      for (;;) await sleep(1000);
    }
    for (let waited = 0; waited < ms; waited += 20) {
      if (cancelled()) {
        touch(`agent-${worker}.done`);
        return 0;
      }
      await sleep(Math.min(20, ms - waited));
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
    write(i + 1, i + 1 === plan.length);
    console.log(`route ${route.id} rep ${rep}: ${records.at(-1)?.status}`);
  }
  touch(`agent-${worker}.done`);
  return 0;
}

const run = role === 'simulator' ? simulator : role === 'agent' ? agent : undefined;
if (!run) {
  console.error('usage: carla-standin simulator|agent');
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

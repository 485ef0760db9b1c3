import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EvalAiClient, type LeaderboardEntry } from '@pitwall/adapters';
import { StageConfigError } from '@pitwall/deploy/stage-file';
import { type ChallengeConfig, isTerminal, mergeSubmissionResults, sharedRanks } from '@pitwall/domain';
import {
  assertStateDirFree,
  buildLocalImages,
  checkStandinAgent,
  GpuDiscoveryError,
  HostQueueUnavailableError,
  ImageBuildError,
  LOCAL_BUCKET,
  LOCAL_CHALLENGE_PK,
  LOCAL_PARTICIPANT_TOKEN,
  LOCAL_PHASE_PK,
  LOCAL_REGION,
  LOCAL_SPLIT,
  LOCAL_TABLE,
  type LocalEndpoints,
  type LocalExecutor,
  LocalRuntime,
  LocalRuntimeBusyError,
  type LocalRuntimeOptions,
  RouteFileError,
  STANDIN_BEHAVIOURS,
} from '@pitwall/local';
import Table from 'cli-table3';
import { type Command, Option } from 'commander';
import logUpdate from 'log-update';
import { type CliIo, CommandFailedError, UsageError } from '../io.js';
import { integerOption } from '../options.js';

/** Where the local runtime keeps its state: PITWALL_STATE_DIR, or .pitwall in the current folder. */
const stateRoot = () => process.env.PITWALL_STATE_DIR || '.pitwall';
const endpointsFile = () => join(stateRoot(), 'endpoints.json');

/** The three demo teams: a steady agent, one that crashes once and resumes, and a slow one. */
export const DEMO_TEAMS = [
  { team: 'Team Steady', image: 'local/agent:good' },
  { team: 'Team Phoenix', image: 'local/agent:crash-once' },
  { team: 'Team Tortoise', image: 'local/agent:slow' },
] as const;

interface Row {
  readonly pk: number;
  readonly team: string;
  readonly image: string;
  readonly status: string;
  readonly done: number;
  readonly total: number;
  readonly scoreSoFar: number | undefined;
}

/** Where each submission stands: the record's status and progress, and the driving score of its routes so far. */
async function rows(
  runtime: LocalRuntime,
  submissions: readonly { pk: number; team: string; image: string }[],
): Promise<Row[]> {
  return Promise.all(
    submissions.map(async ({ pk, team, image }) => {
      const record = await runtime.plane.store.get(pk);
      let scoreSoFar: number | undefined;
      if (record?.plan) {
        try {
          const records = (await mergeSubmissionResults(runtime.plane.artifacts, pk, record.plan)).merged._checkpoint
            .records;
          if (records.length > 0)
            scoreSoFar = records.reduce((sum, r) => sum + r.scores.score_composed, 0) / records.length;
        } catch {
          scoreSoFar = undefined; // results that cannot be merged are reported when the run ends
        }
      }
      const status = isTerminal(record?.status ?? 'received')
        ? (record?.status ?? '')
        : (record?.status ?? 'submitted');
      return {
        pk,
        team,
        image,
        status,
        done: record?.progress?.done ?? 0,
        total: record?.plan?.expectedRoutes ?? 0,
        scoreSoFar,
      };
    }),
  );
}

function progressTable(current: readonly Row[]): string {
  const table = new Table({
    head: ['#', 'team', 'agent', 'status', 'routes', 'driving score so far'],
    style: { head: [], border: [] },
  });
  for (const r of current) {
    table.push([
      r.pk,
      r.team,
      r.image,
      r.status,
      r.total ? `${r.done}/${r.total}` : '-',
      r.scoreSoFar?.toFixed(2) ?? '-',
    ]);
  }
  return table.toString();
}

export interface DemoOptions {
  readonly workers: number;
  readonly msPerKm: number;
  readonly stateDir: string;
  readonly live: boolean;
  readonly executor: LocalExecutor;
}

/** Runs the demo: three teams through the whole local pipeline, live progress, then the leaderboard. */
export async function runDemo(io: CliIo, options: DemoOptions): Promise<boolean> {
  await explained(() => assertStateDirFree(options.stateDir));
  rmSync(options.stateDir, { recursive: true, force: true });
  io.out(
    'Starting Pitwall on this machine: DynamoDB, S3 and SQS servers, the EvalAI emulator, the state machine, the executor…',
  );
  await prepareExecutor(io, options.executor);
  const runtime = await startOrExplain({
    stateDir: options.stateDir,
    workers: options.workers,
    msPerKm: options.msPerKm,
    pollMs: 300,
    executor: options.executor,
  });
  try {
    io.out(
      `Submitting ${DEMO_TEAMS.length} agents to the ${runtime.challenge.phases[LOCAL_PHASE_PK]?.track} track, ${options.workers} workers each, on the 20 validation routes.`,
    );
    const submissions = [];
    for (const { team, image } of DEMO_TEAMS) {
      // Real containers take fully qualified names: podman reads local/… as localhost/local/…, Docker as docker.io/….
      const uri = options.executor === 'processes' ? image : `localhost/${image}`;
      submissions.push({ pk: (await runtime.submit(team, uri)).id, team, image: uri });
    }
    const seen = new Map<number, string>();
    const deadline = Date.now() + 300_000;
    let current = await rows(runtime, submissions);
    while (!current.every((r) => isTerminal(r.status as never)) && Date.now() < deadline) {
      if (options.live) logUpdate(progressTable(current));
      for (const r of current) {
        const line = `${r.team}: ${r.status}${r.total ? `, ${r.done}/${r.total} routes` : ''}`;
        if (!options.live && seen.get(r.pk) !== line) io.out(`  ${line}`);
        seen.set(r.pk, line);
      }
      await new Promise((done) => setTimeout(done, 400));
      current = await rows(runtime, submissions);
    }
    if (options.live) {
      logUpdate(progressTable(current));
      logUpdate.done();
    }
    await runtime.engine.idle();
    io.out('');
    io.out('Leaderboard (as EvalAI shows it):');
    const splitId = runtime.evalai.splitId(LOCAL_PHASE_PK, LOCAL_SPLIT);
    io.out(leaderboardTable(await leaderboardOf(runtime.endpoints.evalai, splitId)));
    io.out('');
    for (const { pk, team } of submissions) {
      const remote = runtime.evalai.get(pk);
      io.out(`${team}: ${remote.status} on EvalAI${remote.stderr ? ` (${remote.stderr.split('\n')[0]})` : ''}`);
      io.out(`  artifacts: ${join(resolve(options.stateDir), 's3', 'pitwall-artifacts', 'submissions', String(pk))}`);
    }
    return submissions.every(({ pk }) => runtime.evalai.get(pk).status === 'finished');
  } finally {
    await runtime.stop();
  }
}

/** The leaderboard as a participant reads it: EvalAI's public board route, not the emulator's insides. */
export function leaderboardOf(evalaiUrl: string, splitId: number): Promise<LeaderboardEntry[]> {
  return new EvalAiClient({ baseUrl: evalaiUrl, token: '' }).leaderboard(splitId);
}

export function leaderboardTable(entries: readonly LeaderboardEntry[]): string {
  const board = new Table({
    head: ['rank', 'team', 'Driving score', 'Route completion', 'Infraction penalty'],
    style: { head: [], border: [] },
  });
  // Equal Driving scores share a place, as EvalAI's board orders them (best first).
  const ranks = sharedRanks(entries.map((entry) => Number(entry.values['Driving score'] ?? Number.NaN)));
  entries.forEach((entry, i) => {
    board.push([
      ranks[i] ?? i + 1,
      entry.teamName,
      entry.values['Driving score'] ?? '#',
      entry.values['Route completion'] ?? '#',
      entry.values['Infraction penalty'] ?? '#',
    ]);
  });
  return board.toString();
}

export function registerLocalCommands(program: Command, io: CliIo): void {
  program
    .command('demo')
    .description('run the whole pipeline on this machine: three agents evaluated, live progress, the leaderboard')
    .option('--workers <n>', 'workers per submission', integerOption('--workers', 1), 4)
    .option('--ms-per-km <n>', 'how fast the CARLA stand-in drives', integerOption('--ms-per-km', 1), 40)
    .addOption(executorOption())
    .action(async (options: { workers: number; msPerKm: number; executor: LocalExecutor }) => {
      const finished = await runDemo(io, {
        ...options,
        stateDir: join(stateRoot(), 'demo'),
        live: io.interactive,
      });
      if (!finished) throw new CommandFailedError('not every demo submission finished; see the reasons above');
    });

  const local = program.command('local').description('the local runtime');
  local
    .command('up')
    .description('start the whole pipeline on this machine and keep it running (Ctrl-C stops it)')
    .option('--workers <n>', 'workers per submission', integerOption('--workers', 1), 4)
    .option('--ms-per-km <n>', 'how fast the CARLA stand-in drives', integerOption('--ms-per-km', 1), 40)
    .addOption(executorOption())
    .action(async (options: { workers: number; msPerKm: number; executor: LocalExecutor }) => {
      await prepareExecutor(io, options.executor);
      const runtime = await startOrExplain({
        stateDir: join(stateRoot(), 'state'),
        workers: options.workers,
        msPerKm: options.msPerKm,
        executor: options.executor,
      });
      mkdirSync(stateRoot(), { recursive: true });
      recordEndpoints(runtime);
      io.out('Pitwall is running locally:');
      for (const [name, value] of Object.entries(runtime.endpoints)) io.out(`  ${name.padEnd(18)} ${value}`);
      io.out(`  state              ${resolve(stateRoot(), 'state')}`);
      io.out(
        'Submit with `pnpm pitwall submit --team NAME --image local/agent:good` (good, slow, crash-once, hang, bad-checkpoint).',
      );
      await new Promise<void>((done) => {
        process.once('SIGINT', done);
        process.once('SIGTERM', done);
      });
      io.out('Stopping…');
      await runtime.stop();
      rmSync(endpointsFile(), { force: true });
    });

  program
    .command('submit')
    .description('submit an agent to the running local Pitwall, as `evalai push` would')
    .requiredOption('--team <name>', 'team name')
    .requiredOption('--image <uri>', `agent image, local/agent:<${STANDIN_BEHAVIOURS.join('|')}>`)
    .action(async (options: { team: string; image: string }) => {
      try {
        checkStandinAgent(options.image);
      } catch (error) {
        throw new UsageError((error as Error).message, { cause: error });
      }
      const endpoints = runningEndpoints();
      const response = await askLocalEvalAi(
        endpoints,
        `${endpoints.evalai}/api/jobs/challenge/${LOCAL_CHALLENGE_PK}/challenge_phase/${LOCAL_PHASE_PK}/submission/`,
        {
          method: 'POST',
          headers: { Authorization: `Bearer ${endpoints.participantToken}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ team_name: options.team, submitted_image_uri: options.image }),
        },
      );
      const body = (await response.json()) as { id?: number; error?: string };
      if (!response.ok) throw new UsageError(`EvalAI refused the submission: ${body.error ?? response.status}`);
      io.out(`submission ${body.id} submitted for ${options.team}`);
    });
}

/** What `local up` leaves for the other commands: where its servers are, and how to talk to them. */
export interface RunningStack extends LocalEndpoints {
  readonly participantToken: string;
  readonly region: string;
  readonly table: string;
  readonly bucket: string;
  /** The local phase's leaderboard split, as EvalAI's board route names it. */
  readonly splitId: number;
  /** The challenge the stack evaluates. */
  readonly challenge: ChallengeConfig;
}

export function recordEndpoints(runtime: LocalRuntime): void {
  mkdirSync(stateRoot(), { recursive: true });
  const stack: RunningStack = {
    ...runtime.endpoints,
    participantToken: LOCAL_PARTICIPANT_TOKEN,
    region: LOCAL_REGION,
    table: LOCAL_TABLE,
    bucket: LOCAL_BUCKET,
    splitId: runtime.evalai.splitId(LOCAL_PHASE_PK, LOCAL_SPLIT),
    challenge: runtime.challenge,
  };
  writeFileSync(endpointsFile(), JSON.stringify(stack, null, 2));
}

export function runningEndpoints(): RunningStack {
  try {
    return JSON.parse(readFileSync(endpointsFile(), 'utf8'));
  } catch {
    throw new UsageError('no local Pitwall is running here: start one with `pnpm pitwall local up`');
  }
}

/** A request to the local EvalAI; a stack that is not there any more (stopped, killed) is said in one line. */
export async function askLocalEvalAi(endpoints: { evalai: string }, url: string, init: RequestInit): Promise<Response> {
  return onLocalStack(endpoints.evalai, () => fetch(url, init));
}

/** Work against the local stack; one that is not there any more (stopped, killed) is said in one line. */
export async function onLocalStack<T>(address: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!isConnectionError(error)) throw error;
    throw new UsageError(
      `no local Pitwall answers at ${address} (it was stopped or killed): start one with \`pnpm pitwall local up\``,
      { cause: error },
    );
  }
}

function isConnectionError(error: unknown): boolean {
  // Duck-typed, and by message too: an error from another realm reaches here wrapped (the AWS SDK's wrapper).
  for (let e = error as { message?: unknown; code?: unknown; cause?: unknown } | undefined; e; ) {
    const text = `${String(e.code ?? '')} ${String(e.message ?? '')}`;
    if (e.message === 'fetch failed' || /\b(ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENOTFOUND)\b/.test(text)) {
      return true;
    }
    e = typeof e.cause === 'object' && e.cause !== null ? (e.cause as typeof e) : undefined;
  }
  return false;
}

/**
 * What is the user's to sort out, said in one line: a state folder another runtime holds, images that
 * would not build, a stage file, a host queue, route file or GPU the machine does not have.
 */
const USERS_TO_SORT_OUT = [
  LocalRuntimeBusyError,
  ImageBuildError,
  StageConfigError,
  HostQueueUnavailableError,
  RouteFileError,
  GpuDiscoveryError,
];

export function asUsageError(error: unknown): unknown {
  return USERS_TO_SORT_OUT.some((kind) => error instanceof kind)
    ? new UsageError((error as Error).message, { cause: error })
    : error;
}

export async function explained<T>(work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw asUsageError(error);
  }
}

function executorOption(): Option {
  return new Option('--executor <executor>', 'how Jobs run: processes, or real containers with podman or docker')
    .choices(['processes', 'podman', 'docker'])
    .default('processes');
}

/** Real containers need their images: the stand-ins are built here, with no registry. */
async function prepareExecutor(io: CliIo, executor: LocalExecutor): Promise<void> {
  if (executor !== 'podman' && executor !== 'docker') return;
  io.out(`Building the local images with ${executor} (stand-in CARLA, evaluator files, logcopy, stand-in agents)…`);
  await explained(() => buildLocalImages({ engine: executor, behaviours: STANDIN_BEHAVIOURS }));
}

const startOrExplain = (options: LocalRuntimeOptions) => explained(() => LocalRuntime.start(options));

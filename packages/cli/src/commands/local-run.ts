import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isTerminal, mergeSubmissionResults } from '@pitwall/domain';
import {
  assertStateDirFree,
  buildLocalImages,
  checkStandinAgent,
  LOCAL_CHALLENGE_PK,
  LOCAL_PHASE_PK,
  LOCAL_SPLIT,
  type LocalExecutor,
  LocalRuntime,
  type LocalRuntimeOptions,
  STANDIN_BEHAVIOURS,
} from '@pitwall/local';
import Table from 'cli-table3';
import logUpdate from 'log-update';
import { explained } from '../explained.js';
import { type CliIo, CommandFailedError, UsageError } from '../io.js';
import { leaderboardOf, leaderboardTable } from '../leaderboard-view.js';
import { askLocalEvalAi, endpointsFile, recordEndpoints, runningEndpoints, stateRoot } from '../local-stack.js';
import type { StackOptions } from './local.js';

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

/** Real containers need their images: the stand-ins are built here, with no registry. */
async function prepareExecutor(io: CliIo, executor: LocalExecutor): Promise<void> {
  if (executor !== 'podman' && executor !== 'docker') return;
  io.out(`Building the local images with ${executor} (stand-in CARLA, evaluator files, logcopy, stand-in agents)…`);
  await explained(() => buildLocalImages({ engine: executor, behaviours: STANDIN_BEHAVIOURS }));
}

const startOrExplain = (options: LocalRuntimeOptions) => explained(() => LocalRuntime.start(options));

/** `demo`: three teams through the whole local pipeline; fails unless every one finished. */
export async function demoCommand(io: CliIo, options: StackOptions): Promise<void> {
  const finished = await runDemo(io, { ...options, stateDir: join(stateRoot(), 'demo'), live: io.interactive });
  if (!finished) throw new CommandFailedError('not every demo submission finished; see the reasons above');
}

/** `local up`: the whole pipeline on this machine until Ctrl-C, its endpoints left for the other commands. */
export async function upCommand(io: CliIo, options: StackOptions): Promise<void> {
  await prepareExecutor(io, options.executor);
  const runtime = await startOrExplain({
    stateDir: join(stateRoot(), 'state'),
    workers: options.workers,
    msPerKm: options.msPerKm,
    executor: options.executor,
  });
  recordEndpoints(runtime);
  io.out('Pitwall is running locally:');
  for (const [name, value] of Object.entries(runtime.endpoints)) io.out(`  ${name.padEnd(18)} ${value}`);
  io.out(`  state              ${resolve(stateRoot(), 'state')}`);
  io.out(
    `Submit with \`pnpm pitwall submit --team NAME --image local/agent:good\` (${STANDIN_BEHAVIOURS.join(', ')}).`,
  );
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  io.out('Stopping…');
  await runtime.stop();
  rmSync(endpointsFile(), { force: true });
}

/** `submit`: an agent to the running local Pitwall, as `evalai push` would. */
export async function submitCommand(io: CliIo, options: { team: string; image: string }): Promise<void> {
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
}

import { basename } from 'node:path';
import {
  createDocumentClient,
  createS3Client,
  createSqsClient,
  DynamoDbAdmissionLedger,
  DynamoDbSubmissionStore,
  EvalAiClient,
  type LeaderboardEntry,
  openSubmissionQueue,
  queueOf,
  S3ArtifactStore,
  SqsSubmissionQueue,
} from '@pitwall/adapters';
import { loadStage, type StageConfig } from '@pitwall/deploy/stage-file';
import {
  artifactKeys,
  type ChallengeConfig,
  type ControlPlane,
  type CostLine,
  cancelAsHost,
  costReport,
  estimatedGpuHours,
  FAILURE_CLASSES,
  failureClassOf,
  isTerminal,
  OperatorActionRefusedError,
  publishedLeaderboard,
  type QueuePlace,
  queuePlaces,
  refuseCancelOfEnded,
  republishResult,
  requeueSubmission,
  resumeSubmission,
  runHealth,
  type SubmissionCost,
  type SubmissionQueue,
  type SubmissionRecord,
  type SubmissionStatus,
  submissionCost,
  systemClock,
} from '@pitwall/domain';
import { S3RVER_CREDENTIALS } from '@pitwall/emulators';
import { LOCAL_CHALLENGE_PK, LOCAL_HOST_TOKEN, LOCAL_PHASE_PK } from '@pitwall/local';
import Table from 'cli-table3';
import { type Command, Option } from 'commander';
import { type CliIo, UsageError } from '../io.js';
import { dateOption, integerOption } from '../options.js';
import {
  askLocalEvalAi,
  asUsageError,
  leaderboardOf,
  leaderboardTable,
  onLocalStack,
  type RunningStack,
  runningEndpoints,
} from './local.js';

/** Where the operator commands read: the running local stack, or a deployed stage with the host's AWS credentials. */
interface Source {
  readonly store: DynamoDbSubmissionStore;
  /** The slots of Pitwall's queue (the same table). */
  readonly admissions: DynamoDbAdmissionLedger;
  readonly artifacts: S3ArtifactStore;
  /** The submission's status on EvalAI, or why it was not asked. */
  evalaiStatus(pk: number): Promise<string>;
  /** EvalAI as the host, for a command that writes to it; a UsageError when the token is not given. */
  evalaiHost(): EvalAiClient;
  /** The challenge it evaluates: its pk and phases. */
  readonly challenge: ChallengeConfig;
  /** The queue EvalAI's messages reach Pitwall by, for a requeue. */
  queue(): Promise<SubmissionQueue>;
  /** The board participants see, best entry per team first, each with its phase. */
  leaderboard(): Promise<(LeaderboardEntry & { readonly phasePk: number })[]>;
  /** Runs a read, turning a store that is not there into one line. */
  read<T>(work: () => Promise<T>): Promise<T>;
}

function localSource(): Source {
  const stack: RunningStack = runningEndpoints();
  const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  const documents = createDocumentClient({ region: stack.region, endpoint: stack.dynamodb, credentials });
  const s3 = createS3Client({ region: stack.region, endpoint: stack.s3, credentials: S3RVER_CREDENTIALS });
  const evalai = new EvalAiClient({ baseUrl: stack.evalai, token: LOCAL_HOST_TOKEN });
  return {
    store: new DynamoDbSubmissionStore(documents, stack.table),
    admissions: new DynamoDbAdmissionLedger(documents, stack.table),
    artifacts: new S3ArtifactStore(s3, stack.bucket),
    evalaiStatus: async (pk) => (await onLocalStack(stack.evalai, () => evalai.getSubmission(pk))).status,
    evalaiHost: () => evalai,
    challenge: stack.challenge,
    queue: async () =>
      new SqsSubmissionQueue(
        createSqsClient({ region: stack.region, endpoint: stack.sqs, credentials }),
        stack.queueUrl,
      ),
    leaderboard: async () =>
      (await onLocalStack(stack.evalai, () => leaderboardOf(stack.evalai, stack.splitId))).map((entry) => ({
        ...entry,
        phasePk: LOCAL_PHASE_PK,
      })),
    read: (work) => onLocalStack(stack.dynamodb, work),
  };
}

/**
 * A deployed stage, from stages/<stage>.yml: its region, table and bucket, through the AWS credential chain
 * (and AWS_ENDPOINT_URL_DYNAMODB / _S3, as the SDK reads them). EvalAI is asked only with EVALAI_TOKEN set.
 */
function stageSource(name: string): Source {
  let stage: StageConfig;
  try {
    stage = loadStage(name);
  } catch (error) {
    throw asUsageError(error);
  }
  const s3Endpoint = process.env.AWS_ENDPOINT_URL_S3;
  const token = process.env.EVALAI_TOKEN;
  const documents = createDocumentClient({ region: stage.region });
  const store = new DynamoDbSubmissionStore(documents, stage.storage.table);
  const artifacts = new S3ArtifactStore(
    createS3Client({ region: stage.region, ...(s3Endpoint ? { endpoint: s3Endpoint } : {}) }),
    stage.storage.bucket,
  );
  return {
    store,
    admissions: new DynamoDbAdmissionLedger(documents, stage.storage.table),
    artifacts,
    evalaiStatus: async (pk) =>
      token
        ? (await new EvalAiClient({ baseUrl: stage.evalai.apiServer, token }).getSubmission(pk)).status
        : 'not asked (set EVALAI_TOKEN to the host token to see it)',
    evalaiHost: () => {
      if (!token)
        throw new UsageError(`stage ${name}: set EVALAI_TOKEN to the challenge's host token to write to EvalAI`);
      return new EvalAiClient({ baseUrl: stage.evalai.apiServer, token });
    },
    challenge: stage.challenge,
    queue: () => {
      // The host's own queue (use_host_sqs), or the one the stage's ingest service creates.
      const queue = stage.evalai.queueArn
        ? queueOf(stage.evalai.queueArn)
        : { region: stage.region, name: `pitwall-${basename(name).replace(/\.ya?ml$/, '')}-submissions` };
      return openSubmissionQueue(createSqsClient({ region: queue.region }), queue);
    },
    leaderboard: () => publishedLeaderboard({ config: stage.challenge, store, artifacts }),
    read: async (work) => {
      try {
        return await work();
      } catch (error) {
        // What AWS said (no credentials, no such table, access denied), in one line.
        const { name: kind, message } = error as Error;
        throw new UsageError(`stage ${name}: ${kind}: ${message.split('\n')[0]}`, { cause: error });
      }
    },
  };
}

const sourceOf = (options: { stage?: string }) => (options.stage ? stageSource(options.stage) : localSource());
const STAGE_OPTION = [
  '--stage <stage>',
  'a deployed stage (stages/<stage>.yml) instead of the running local stack',
] as const;

/** Why the submission is where it is, in one line: the latest reason its history or outcome gives. */
function reasonOf(record: SubmissionRecord): string {
  const reason = [...record.history].reverse().find((change) => change.reason)?.reason ?? record.outcome?.reason ?? '';
  return reason.split('\n')[0] ?? '';
}

/** `list` fits a terminal of this many columns; `show` has every field in full. */
const LIST_WIDTH = 120;

const clip = (text: string, width: number) => (text.length > width ? `${text.slice(0, width - 1)}…` : text);

/** Its status, and the attempt when it is not the first: `running (attempt 2)`. */
const statusOf = (record: SubmissionRecord) =>
  record.attempt > 1 ? `${record.status} (attempt ${record.attempt})` : record.status;

/** How long ago its agents last wrote, and its time left: `3m ago, 40m left` (a hung run stops counting). */
function healthOf(health: ReturnType<typeof runHealth>, now: Date): string {
  const ago = health.lastProgressAt ? `${duration(now.getTime() - Date.parse(health.lastProgressAt))} ago` : '';
  const left = health.deadline ? `${duration(Date.parse(health.deadline) - now.getTime())} left` : '';
  return [ago, left].filter(Boolean).join(', ');
}

function duration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}`;
}

/** A table no wider than `width`: its last column (the reason) is cut to what is left. */
function fittedTable(head: readonly string[], rows: readonly string[][], width: number): string {
  const widths = head.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)));
  const last = head.length - 1;
  // Each column takes its text, a space either side and one border; one more border closes the row.
  const others = widths.slice(0, last).reduce((sum, w) => sum + w + 3, 0) + 1;
  const room = Math.max((head[last] ?? '').length, width - others - 3);
  const table = new Table({ head: [...head], style: { head: [], border: [] } });
  for (const row of rows) table.push(row.map((cell, i) => (i === last ? clip(cell, room) : cell)));
  return table.toString();
}

const progressOf = (record: SubmissionRecord) =>
  record.progress ? `${record.progress.done}/${record.progress.total}` : '';

/** The failure class and whose fault it is, in a word each: `agent_crashed (participant)`. */
function failureOf(record: SubmissionRecord): string {
  const failureClass = failureClassOf(record);
  return failureClass ? `${failureClass} (${FAILURE_CLASSES[failureClass].fault})` : '';
}

/** Where a waiting submission stands in Pitwall's queue: `waiting #2, from 14:05`. */
function placeOf(place: QueuePlace | undefined): string {
  if (!place) return '';
  const start = place.estimatedStartAt ? `, from ${place.estimatedStartAt.slice(11, 16)} UTC` : '';
  return `waiting #${place.position}${start}`;
}

/** Each waiting submission's place, as the scheduler would order them now. */
function placesOf(source: Source, records: readonly SubmissionRecord[]) {
  return source.read(() =>
    queuePlaces({ config: source.challenge, admissions: source.admissions, clock: systemClock }, records),
  );
}

/** What the evaluation's GPU time cost, at the stage's prices: `$1.23 (1.0 GPU-h, 1 lost node)`. */
function costLine(cost: SubmissionCost): string {
  if (cost.gpuHours === 0) return '';
  const money = cost.usd === undefined ? 'unpriced' : `$${cost.usd.toFixed(2)}`;
  const lost = cost.interruptions > 0 ? `, ${cost.interruptions} lost node${cost.interruptions > 1 ? 's' : ''}` : '';
  return `${money} (${cost.gpuHours.toFixed(2)} GPU-h${lost})`;
}

function summary(record: SubmissionRecord, cost: SubmissionCost, place?: QueuePlace) {
  const failureClass = failureClassOf(record);
  return {
    pk: record.submissionPk,
    team: record.teamName,
    phase: record.phasePk,
    track: record.track,
    status: record.status,
    attempt: record.attempt,
    progress: record.progress ?? null,
    updatedAt: record.updatedAt,
    reason: reasonOf(record),
    failureClass: failureClass ?? null,
    fault: failureClass ? FAILURE_CLASSES[failureClass].fault : null,
    queue: place ?? null,
    cost: { gpuHours: cost.gpuHours, usd: cost.usd ?? null, interruptions: cost.interruptions },
  };
}

const CONTAINERS = ['agent', 'simulator', 'logcopy'] as const;

/** How often `logs --follow` reads the logs again: about as often as logcopy uploads them. */
const FOLLOW_EVERY_MS = 1000;

/**
 * `logs --follow`: the workers' logs as logcopy uploads them, each new complete line once (prefixed by its
 * worker when there are several), until the record ends; the round after it ends prints what is left.
 */
async function followLogs(
  source: Source,
  pk: number,
  workers: readonly number[],
  container: (typeof CONTAINERS)[number],
  io: CliIo,
): Promise<void> {
  const printed = new Map<number, number>();
  for (;;) {
    const record = await source.read(() => source.store.get(pk));
    const ended = !record || isTerminal(record.status);
    for (const worker of workers) {
      const text = (await source.read(() => source.artifacts.get(artifactKeys.log(pk, worker, container)))) ?? '';
      let from = printed.get(worker) ?? 0;
      if (text.length < from) from = 0; // logcopy kept only the end of a long log: start over
      const upTo = ended ? text.length : text.lastIndexOf('\n') + 1;
      if (upTo <= from) continue;
      const lines = text.slice(from, upTo).replace(/\n$/, '').split('\n');
      io.out(lines.map((line) => (workers.length > 1 ? `[worker ${worker}] ${line}` : line)).join('\n'));
      printed.set(worker, upTo);
    }
    if (ended) return;
    await new Promise((resolve) => setTimeout(resolve, FOLLOW_EVERY_MS));
  }
}

/** An operator action: a refusal is its answer in one line, not a failure to reach the stores. */
async function refusable<T>(source: Source, work: () => Promise<T>): Promise<T> {
  const result = await source.read(() =>
    work().catch((error: unknown) => {
      if (error instanceof OperatorActionRefusedError) return error;
      throw error;
    }),
  );
  if (result instanceof OperatorActionRefusedError) throw new UsageError(result.message, { cause: result });
  return result;
}

// biome-ignore lint/complexity/noExcessiveLinesPerFunction: not yet split into one file per command group (#32 item 2)
export function registerOperatorCommands(program: Command, io: CliIo): void {
  program
    .command('logs')
    .description("a submission's container logs, as logcopy kept them (also after its jobs are gone)")
    .argument('<pk>', 'submission id', integerOption('<pk>', 1))
    .option('--worker <w>', 'one worker only', integerOption('--worker', 0))
    .addOption(new Option('--container <name>', 'whose log').choices(CONTAINERS).default('agent'))
    .option('--follow', 'keep printing what the workers add, until the submission ends')
    .option(...STAGE_OPTION)
    .action(
      async (
        pk: number,
        options: { worker?: number; container: (typeof CONTAINERS)[number]; follow?: boolean; stage?: string },
      ) => {
        const source = sourceOf(options);
        const record = await source.read(() => source.store.get(pk));
        if (!record)
          throw new UsageError(
            `no submission ${pk} ${options.stage ? `on stage ${options.stage}` : 'on the running local Pitwall'}`,
          );
        const workers = (record.plan?.workers ?? []).map((w) => w.worker);
        if (options.worker !== undefined && !workers.includes(options.worker)) {
          throw new UsageError(
            `submission ${pk} has no worker ${options.worker} (it has: ${workers.join(', ') || 'none'})`,
          );
        }
        const shown = options.worker === undefined ? workers : [options.worker];
        if (options.follow) {
          await followLogs(source, pk, shown, options.container, io);
          return;
        }
        for (const worker of shown) {
          const key = artifactKeys.log(pk, worker, options.container);
          const text = await source.read(() => source.artifacts.get(key));
          io.out(`== worker ${worker}, ${options.container} ==`);
          io.out(text === undefined ? '(no log uploaded yet)' : text);
        }
      },
    );

  program
    .command('republish')
    .description("send an ended submission's stored result to EvalAI again (never over a cancel)")
    .argument('<pk>', 'submission id', integerOption('<pk>', 1))
    .option(...STAGE_OPTION)
    .action(async (pk: number, options: { stage?: string }) => {
      const source = sourceOf(options);
      const deps = { store: source.store, artifacts: source.artifacts, evalai: source.evalaiHost() };
      const { status } = await refusable(source, () => republishResult(deps, pk));
      io.out(`submission ${pk}: its stored result sent to EvalAI again (${status})`);
    });

  program
    .command('cancel')
    .description('cancel a submission: locally as its participant would on EvalAI, on a stage as the hosts')
    .requiredOption('--submission <pk>', 'submission id', integerOption('--submission', 1))
    .option(...STAGE_OPTION)
    .action(async (options: { submission: number; stage?: string }) => {
      const pk = options.submission;
      const source = sourceOf(options);
      const deps = { config: source.challenge, store: source.store, evalai: source.evalaiHost() };
      if (options.stage) {
        await refusable(source, () => cancelAsHost(deps, pk));
        io.out(`submission ${pk} cancelled on EvalAI; Pitwall stops its run at its next look`);
        return;
      }
      // Locally the participant cancels, as on EvalAI's page; what EvalAI itself would let through is refused first.
      await refusable(source, () => refuseCancelOfEnded(deps, pk));
      const stack = runningEndpoints();
      const response = await askLocalEvalAi(
        stack,
        `${stack.evalai}/api/jobs/challenges/${LOCAL_CHALLENGE_PK}/submissions/${pk}/update_submission_meta/`,
        {
          method: 'PATCH',
          headers: { Authorization: `Bearer ${stack.participantToken}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ status: 'cancelled' }),
        },
      );
      if (!response.ok) throw new UsageError(`EvalAI refused to cancel submission ${pk} (${response.status})`);
      io.out(`submission ${pk} cancelled`);
    });

  program
    .command('resume')
    .description("a failed submission's next attempt, each worker continuing from its checkpoint (EvalAI's resume)")
    .argument('<pk>', 'submission id', integerOption('<pk>', 1))
    .option(...STAGE_OPTION)
    .action(async (pk: number, options: { stage?: string }) => {
      const source = sourceOf(options);
      const deps = { store: source.store, evalai: source.evalaiHost() };
      const { attempt } = await refusable(source, () => resumeSubmission(deps, pk));
      io.out(`submission ${pk}: resuming on EvalAI; attempt ${attempt} begins when its message arrives`);
    });

  program
    .command('requeue')
    .description('send the message of a submission that never started to the queue again')
    .argument('<pk>', 'submission id', integerOption('<pk>', 1))
    .option(...STAGE_OPTION)
    .action(async (pk: number, options: { stage?: string }) => {
      const source = sourceOf(options);
      const { attempt } = await refusable(source, async () => {
        const deps: Pick<ControlPlane, 'config' | 'store' | 'evalai' | 'queue' | 'clock'> = {
          config: source.challenge,
          store: source.store,
          evalai: source.evalaiHost(),
          queue: await source.queue(),
          clock: systemClock,
        };
        return requeueSubmission(deps, pk);
      });
      io.out(`submission ${pk}: its message sent to the queue again (attempt ${attempt})`);
    });

  program
    .command('leaderboard')
    .description('the leaderboard participants see: EvalAI’s board locally, the published results on a stage')
    .option('--json', 'one JSON array instead of a table')
    .option(...STAGE_OPTION)
    .action(async (options: { json?: boolean; stage?: string }) => {
      const source = sourceOf(options);
      const entries = await source.read(() => source.leaderboard());
      if (options.json) {
        io.out(JSON.stringify(entries, null, 2));
        return;
      }
      const phases = [...new Set(entries.map((e) => e.phasePk))];
      if (phases.length === 0) io.out('no results yet');
      for (const phase of phases) {
        const track = source.challenge.phases[String(phase)]?.track ?? '';
        if (phases.length > 1) io.out(`phase ${phase} (${track}):`);
        io.out(leaderboardTable(entries.filter((e) => e.phasePk === phase)));
      }
    });

  program
    .command('list')
    .description('every submission the running local Pitwall has: status, progress, why')
    .option('--status <status>', 'only this status (received, queued, running, finished, failed, cancelled, …)')
    .option('--team <name>', 'only this team')
    .option('--phase <pk>', 'only this phase', integerOption('--phase', 1))
    .option('--json', 'one JSON array instead of a table')
    .option(...STAGE_OPTION)
    .action(
      async (options: { status?: SubmissionStatus; team?: string; phase?: number; json?: boolean; stage?: string }) => {
        const source = sourceOf(options);
        const records = await source.read(() => source.store.listAll());
        const shown = records.filter(
          (r) =>
            (!options.status || r.status === options.status) &&
            (!options.team || r.teamName === options.team) &&
            (options.phase === undefined || r.phasePk === options.phase),
        );
        const places = await placesOf(source, records);
        const now = systemClock.now();
        const costOf = (r: SubmissionRecord) => submissionCost(r, source.challenge.prices, now);
        if (options.json) {
          io.out(
            JSON.stringify(
              shown.map((r) => summary(r, costOf(r), places.get(r.submissionPk))),
              null,
              2,
            ),
          );
          return;
        }
        if (shown.length === 0) {
          io.out('no submissions');
          return;
        }
        const rows: string[][] = [];
        for (const r of shown) {
          const activity =
            r.status === 'running' && r.plan
              ? await source.read(() =>
                  source.store.workerActivity(r.submissionPk, r.plan?.workers.map((w) => w.worker) ?? []),
                )
              : [];
          rows.push([
            String(r.submissionPk),
            clip(r.teamName, 16),
            places.has(r.submissionPk) ? placeOf(places.get(r.submissionPk)) : statusOf(r),
            [progressOf(r), healthOf(runHealth(r, activity), now)].filter(Boolean).join(' '),
            failureOf(r),
            reasonOf(r),
          ]);
        }
        io.out(fittedTable(['pk', 'team', 'status', 'progress', 'failure', 'why (in full: show)'], rows, LIST_WIDTH));
      },
    );

  program
    .command('show')
    .description('one submission: its attempt, workers, the timeline of its statuses, and what EvalAI shows')
    .argument('<pk>', 'submission id', integerOption('<pk>', 1))
    .option('--json', 'one JSON object instead of text')
    .option(...STAGE_OPTION)
    .action(async (pk: number, options: { json?: boolean; stage?: string }) => {
      const source = sourceOf(options);
      const record = await source.read(() => source.store.get(pk));
      if (!record)
        throw new UsageError(
          `no submission ${pk} ${options.stage ? `on stage ${options.stage}` : 'on the running local Pitwall'}`,
        );
      const workers = record.plan?.workers ?? [];
      const activity = await source.read(() =>
        source.store.workerActivity(
          pk,
          workers.map((w) => w.worker),
        ),
      );
      const evalaiStatus = await source.evalaiStatus(pk);
      // A place and an estimate need every record (a scan): only for a submission not yet ended.
      const ended = isTerminal(record.status);
      const all = ended ? [] : await source.read(() => source.store.listAll());
      const place = source.challenge.queue ? (await placesOf(source, all)).get(pk) : undefined;
      const estimate = ended ? undefined : estimatedGpuHours(record, all);
      const cost = submissionCost(record, source.challenge.prices, systemClock.now());
      if (options.json) {
        const estimated = { estimatedGpuHours: estimate ?? null };
        io.out(
          JSON.stringify(
            { ...summary(record, cost, place), ...estimated, evalaiStatus, record, workers: activity },
            null,
            2,
          ),
        );
        return;
      }
      const lines = [
        `submission ${pk}: ${record.teamName}, phase ${record.phasePk} (${record.track}), image ${record.imageUri}`,
        `status:   ${record.status} (attempt ${record.attempt})${isTerminal(record.status) ? '' : `, deadline ${record.deadline}`}`,
        `EvalAI:   ${evalaiStatus}`,
        ...(place ? [`queue:    ${placeOf(place)} (Pitwall's queue: no pods until it is admitted)`] : []),
        ...(record.progress ? [`progress: ${progressOf(record)} routes`] : []),
        ...(costLine(cost) ? [`cost:     ${costLine(cost)}`] : []),
        ...(estimate === undefined
          ? []
          : [
              `estimate: ${estimate.toFixed(2)} GPU-h still to go (its routes' km at the track's measured km per GPU-hour)`,
            ]),
        ...(failureOf(record) ? [`failure:  ${failureOf(record)}`] : []),
        ...(reasonOf(record) ? [`why:      ${reasonOf(record)}`] : []),
        ...workers.map((w) => {
          const seen = activity.find((a) => a.worker === w.worker);
          const heartbeat = seen ? `, last heartbeat ${seen.heartbeatAt}` : ', no heartbeat yet';
          const lost = (record.usage ?? [])
            .filter((u) => u.worker === w.worker)
            .reduce((sum, u) => sum + u.interruptions, 0);
          const interrupted = lost > 0 ? `, node lost ${lost} time${lost > 1 ? 's' : ''} (resumed)` : '';
          const moved = w.onDemandSince ? `, on demand since ${w.onDemandSince}` : '';
          return `worker ${w.worker}: routes ${w.routesSubset}, job ${w.jobName}${heartbeat}${interrupted}${moved}`;
        }),
        'timeline:',
        ...record.history.map(
          (change) =>
            `  ${change.at}  ${change.status} (attempt ${change.attempt})${change.reason ? `: ${change.reason}` : ''}`,
        ),
      ];
      io.out(lines.join('\n'));
    });

  program
    .command('cost')
    .description('what the evaluations cost, per team and per phase: GPU-hours and money at the stage’s prices')
    .option(
      '--since <date>',
      'only submissions registered from this date (ISO 8601, e.g. 2026-12-01)',
      dateOption('--since'),
    )
    .option('--until <date>', 'only submissions registered before this date', dateOption('--until'))
    .option('--json', 'one JSON object instead of tables')
    .option(...STAGE_OPTION)
    .action(async (options: { since?: Date; until?: Date; json?: boolean; stage?: string }) => {
      const source = sourceOf(options);
      const records = await source.read(() => source.store.listAll());
      const report = costReport(records, source.challenge.prices, systemClock.now(), {
        ...(options.since ? { from: options.since } : {}),
        ...(options.until ? { to: options.until } : {}),
      });
      if (options.json) {
        io.out(JSON.stringify(report, null, 2));
        return;
      }
      const table = (title: string, lines: readonly CostLine[]) => {
        const t = new Table({
          head: [title, 'submissions', 'GPU-h', 'USD', 'unpriced'],
          style: { head: [], border: [] },
        });
        for (const line of [...lines, report.total]) {
          t.push([line.key, line.submissions, line.gpuHours.toFixed(2), line.usd.toFixed(2), line.unpriced]);
        }
        return t.toString();
      };
      io.out([table('team', report.byTeam), table('phase', report.byPhase)].join('\n'));
    });
}

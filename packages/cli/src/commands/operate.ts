import {
  createDocumentClient,
  createS3Client,
  DynamoDbSubmissionStore,
  EvalAiClient,
  S3ArtifactStore,
} from '@pitwall/adapters';
import { artifactKeys, isTerminal, type SubmissionRecord, type SubmissionStatus } from '@pitwall/domain';
import { S3RVER_CREDENTIALS } from '@pitwall/emulators';
import { LOCAL_HOST_TOKEN } from '@pitwall/local';
import Table from 'cli-table3';
import { type Command, Option } from 'commander';
import { type CliIo, UsageError } from '../io.js';
import { integerOption } from '../options.js';
import { leaderboardOf, leaderboardTable, onLocalStack, type RunningStack, runningEndpoints } from './local.js';

/** The running local stack's submissions table, through the adapter the Lambdas use. */
function storeOf(stack: RunningStack): DynamoDbSubmissionStore {
  const documents = createDocumentClient({
    region: stack.region,
    endpoint: stack.dynamodb,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return new DynamoDbSubmissionStore(documents, stack.table);
}

/** Why the submission is where it is, in one line: the latest reason its history or outcome gives. */
function reasonOf(record: SubmissionRecord): string {
  const reason = [...record.history].reverse().find((change) => change.reason)?.reason ?? record.outcome?.reason ?? '';
  const line = reason.split('\n')[0] ?? '';
  return line.length > 70 ? `${line.slice(0, 69)}…` : line;
}

const progressOf = (record: SubmissionRecord) =>
  record.progress ? `${record.progress.done}/${record.progress.total}` : '';

function summary(record: SubmissionRecord) {
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
  };
}

const CONTAINERS = ['agent', 'simulator'] as const;

export function registerOperatorCommands(program: Command, io: CliIo): void {
  program
    .command('logs')
    .description("a submission's container logs, as logcopy kept them (also after its jobs are gone)")
    .argument('<pk>', 'submission id', integerOption('<pk>', 1))
    .option('--worker <w>', 'one worker only', integerOption('--worker', 0))
    .addOption(new Option('--container <name>', 'whose log').choices(CONTAINERS).default('agent'))
    .action(async (pk: number, options: { worker?: number; container: (typeof CONTAINERS)[number] }) => {
      const stack = runningEndpoints();
      const record = await onLocalStack(stack.dynamodb, () => storeOf(stack).get(pk));
      if (!record) throw new UsageError(`no submission ${pk} on the running local Pitwall`);
      const workers = (record.plan?.workers ?? []).map((w) => w.worker);
      if (options.worker !== undefined && !workers.includes(options.worker)) {
        throw new UsageError(
          `submission ${pk} has no worker ${options.worker} (it has: ${workers.join(', ') || 'none'})`,
        );
      }
      const artifacts = new S3ArtifactStore(
        createS3Client({ region: stack.region, endpoint: stack.s3, credentials: S3RVER_CREDENTIALS }),
        stack.bucket,
      );
      for (const worker of options.worker === undefined ? workers : [options.worker]) {
        const key = artifactKeys.log(pk, worker, options.container);
        const text = await onLocalStack(stack.s3, () => artifacts.get(key));
        io.out(`== worker ${worker}, ${options.container} ==`);
        io.out(text === undefined ? '(no log uploaded yet)' : text);
      }
    });

  program
    .command('leaderboard')
    .description('the local challenge’s leaderboard, as EvalAI shows it to participants')
    .option('--json', 'one JSON array instead of a table')
    .action(async (options: { json?: boolean }) => {
      const stack = runningEndpoints();
      const entries = await onLocalStack(stack.evalai, () => leaderboardOf(stack.evalai, stack.splitId));
      io.out(options.json ? JSON.stringify(entries, null, 2) : leaderboardTable(entries));
    });

  program
    .command('list')
    .description('every submission the running local Pitwall has: status, progress, why')
    .option('--status <status>', 'only this status (received, queued, running, finished, failed, cancelled, …)')
    .option('--team <name>', 'only this team')
    .option('--json', 'one JSON array instead of a table')
    .action(async (options: { status?: SubmissionStatus; team?: string; json?: boolean }) => {
      const stack = runningEndpoints();
      const records = await onLocalStack(stack.dynamodb, () => storeOf(stack).listAll());
      const shown = records.filter(
        (r) => (!options.status || r.status === options.status) && (!options.team || r.teamName === options.team),
      );
      if (options.json) {
        io.out(JSON.stringify(shown.map(summary), null, 2));
        return;
      }
      if (shown.length === 0) {
        io.out('no submissions');
        return;
      }
      const table = new Table({
        head: ['pk', 'team', 'status', 'progress', 'attempt', 'updated', 'why'],
        style: { head: [], border: [] },
      });
      for (const r of shown) {
        table.push([r.submissionPk, r.teamName, r.status, progressOf(r), r.attempt, r.updatedAt, reasonOf(r)]);
      }
      io.out(table.toString());
    });

  program
    .command('show')
    .description('one submission: its attempt, workers, the timeline of its statuses, and what EvalAI shows')
    .argument('<pk>', 'submission id', integerOption('<pk>', 1))
    .option('--json', 'one JSON object instead of text')
    .action(async (pk: number, options: { json?: boolean }) => {
      const stack = runningEndpoints();
      const store = storeOf(stack);
      const record = await onLocalStack(stack.dynamodb, () => store.get(pk));
      if (!record) throw new UsageError(`no submission ${pk} on the running local Pitwall`);
      const workers = record.plan?.workers ?? [];
      const activity = await onLocalStack(stack.dynamodb, () =>
        store.workerActivity(
          pk,
          workers.map((w) => w.worker),
        ),
      );
      const evalai = await onLocalStack(stack.evalai, () =>
        new EvalAiClient({ baseUrl: stack.evalai, token: LOCAL_HOST_TOKEN }).getSubmission(pk),
      );
      if (options.json) {
        io.out(JSON.stringify({ ...summary(record), evalaiStatus: evalai.status, record, workers: activity }, null, 2));
        return;
      }
      const lines = [
        `submission ${pk}: ${record.teamName}, phase ${record.phasePk} (${record.track}), image ${record.imageUri}`,
        `status:   ${record.status} (attempt ${record.attempt})${isTerminal(record.status) ? '' : `, deadline ${record.deadline}`}`,
        `EvalAI:   ${evalai.status}`,
        ...(record.progress ? [`progress: ${progressOf(record)} routes`] : []),
        ...(reasonOf(record) ? [`why:      ${reasonOf(record)}`] : []),
        ...workers.map((w) => {
          const seen = activity.find((a) => a.worker === w.worker);
          const heartbeat = seen ? `, last heartbeat ${seen.heartbeatAt}` : ', no heartbeat yet';
          return `worker ${w.worker}: routes ${w.routesSubset}, job ${w.jobName}${heartbeat}`;
        }),
        'timeline:',
        ...record.history.map(
          (change) =>
            `  ${change.at}  ${change.status} (attempt ${change.attempt})${change.reason ? `: ${change.reason}` : ''}`,
        ),
      ];
      io.out(lines.join('\n'));
    });
}

import { createDocumentClient, DynamoDbSubmissionStore, EvalAiClient } from '@pitwall/adapters';
import { isTerminal, type SubmissionRecord, type SubmissionStatus } from '@pitwall/domain';
import { LOCAL_HOST_TOKEN } from '@pitwall/local';
import Table from 'cli-table3';
import type { Command } from 'commander';
import { type CliIo, UsageError } from '../io.js';
import { integerOption } from '../options.js';
import { onLocalStack, type RunningStack, runningEndpoints } from './local.js';

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

export function registerOperatorCommands(program: Command, io: CliIo): void {
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

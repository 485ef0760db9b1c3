import { MergeError } from '../errors.js';
import { evalAiResultFields } from '../results/evalai-payload.js';
import {
  CARLA_VALUE_SOURCES,
  formatMergedCheckpoint,
  globalStatistic,
  type WorkerMergeReport,
} from '../results/merge.js';
import { artifactKeys } from './artifact-keys.js';
import { type CollectedReading, decideOutcome, qualification } from './collect-decision.js';
import { trackOf } from './config.js';
import type { CollectedOutcome, PollState, SubmissionRef } from './payloads.js';
import { type ControlPlane, currentRecord, isoNow } from './ports.js';
import type { SubmissionPlanRecord } from './records.js';
import { mergeSubmissionResults } from './results-io.js';

const LOG_TAIL_BYTES = 4000;

type CollectDeps = Pick<ControlPlane, 'config' | 'store' | 'artifacts' | 'jobs' | 'clock'>;

/**
 * Collect: merge the final results, decide the outcome (collect-decision.ts), and store everything (merged
 * checkpoint and EvalAI files in the artifact store, metrics as numbers in the record) before anything is
 * published.
 */
export async function collectResults(
  deps: CollectDeps,
  input: { submission: SubmissionRef; poll: PollState },
): Promise<CollectedOutcome> {
  const { submission, poll } = input;
  const pk = submission.submissionPk;
  const { plan } = await currentRecord(deps.store, submission);
  if (poll.phase !== 'done') {
    // Workers still running stop gracefully: logcopy relays this to the simulator and agent scripts.
    await deps.artifacts.put(artifactKeys.cancel(pk, submission.attempt), poll.reason ?? poll.phase, 'text/plain');
  }
  const reading = await readResults(deps, pk, plan, poll);
  const decided = decideOutcome(reading);
  const merged = reading.report?.merged;
  const { grants, stdoutNote } = qualification(
    decided.outcome,
    merged,
    trackOf(deps.config, submission.phasePk),
    deps.config.leaderboard,
  );
  const outcome = grants ? { ...decided.outcome, grantsQualification: grants } : decided.outcome;
  const errors = [...decided.errors, ...(await agentLogTails(deps, plan, poll.failedWorkers ?? []))];
  const fields = merged
    ? evalAiResultFields(merged, {
        leaderboard: deps.config.leaderboard,
        errors,
        metadata: { attempt: submission.attempt, outcome: outcome.status },
        ...(plan ? { expectedRoutes: plan.expectedRoutes } : {}),
        refusedWorkers: reading.report?.rejected.map((r) => r.worker) ?? [],
      })
    : {
        result: '[]',
        stdout: '',
        stderr: errors.join('\n'),
        metadata: JSON.stringify({ attempt: submission.attempt }),
      };
  await storeCollected(deps, submission, { outcome, report: reading.report, plan, fields, stdoutNote });
  return outcome;
}

/** The workers' results, merged; a merge that cannot be made is said, not thrown. */
async function readResults(
  deps: CollectDeps,
  pk: number,
  plan: SubmissionPlanRecord | undefined,
  poll: PollState,
): Promise<CollectedReading> {
  const expectedRoutes = plan?.expectedRoutes;
  try {
    return { poll, expectedRoutes, report: plan ? await mergeSubmissionResults(deps.artifacts, pk, plan) : undefined };
  } catch (error) {
    if (!(error instanceof MergeError)) throw error;
    return { poll, expectedRoutes, report: undefined, mergeError: error.message };
  }
}

/** The end of the agent log of each worker whose pod failed, for the participant's stderr. */
async function agentLogTails(
  deps: CollectDeps,
  plan: SubmissionPlanRecord | undefined,
  failedWorkers: readonly number[],
): Promise<string[]> {
  const tails: string[] = [];
  for (const worker of failedWorkers) {
    const jobName = plan?.workers.find((w) => w.worker === worker)?.jobName;
    const tail = jobName ? await deps.jobs.logTail(jobName, 'agent', LOG_TAIL_BYTES).catch(() => '') : '';
    if (tail) tails.push(`--- last lines of worker ${worker}'s agent log ---\n${tail}`);
  }
  return tails;
}

/** The merged checkpoint and EvalAI's files in the artifact store, then the outcome, metrics and progress on the record. */
async function storeCollected(
  deps: CollectDeps,
  submission: SubmissionRef,
  collected: {
    readonly outcome: CollectedOutcome;
    readonly report: WorkerMergeReport | undefined;
    readonly plan: SubmissionPlanRecord | undefined;
    readonly fields: { result: string; stdout: string; stderr: string; metadata: string };
    readonly stdoutNote: string;
  },
): Promise<void> {
  const pk = submission.submissionPk;
  const { outcome, fields } = collected;
  const merged = collected.report?.merged;
  if (merged) await deps.artifacts.put(artifactKeys.merged(pk), formatMergedCheckpoint(merged), 'application/json');
  await deps.artifacts.put(artifactKeys.evalai(pk, 'result.json'), fields.result, 'application/json');
  await deps.artifacts.put(artifactKeys.evalai(pk, 'stdout.txt'), collected.stdoutNote + fields.stdout, 'text/plain');
  await deps.artifacts.put(artifactKeys.evalai(pk, 'stderr.txt'), fields.stderr, 'text/plain');
  await deps.artifacts.put(artifactKeys.evalai(pk, 'metadata.json'), fields.metadata, 'application/json');
  const global = merged?._checkpoint.global_record;
  const metrics = global
    ? Object.fromEntries(CARLA_VALUE_SOURCES.map((source) => [source, globalStatistic(global, source)]))
    : undefined;
  const progress = merged
    ? { done: merged._checkpoint.records.length, total: collected.plan?.expectedRoutes ?? 0 }
    : undefined;
  await deps.store.patch(
    pk,
    submission.attempt,
    {
      outcome: {
        status: outcome.status,
        ...(outcome.reason ? { reason: outcome.reason } : {}),
        ...(outcome.failureClass ? { failureClass: outcome.failureClass } : {}),
      },
      ...(metrics ? { metrics } : {}),
      ...(progress ? { progress } : {}),
    },
    isoNow(deps.clock),
  );
}

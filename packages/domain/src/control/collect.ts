import { MergeError } from '../errors.js';
import { accuracies, evalAiResultFields } from '../results/evalai-payload.js';
import { CARLA_VALUE_SOURCES, formatMergedCheckpoint, globalStatistic } from '../results/merge.js';
import { artifactKeys } from './artifact-keys.js';
import { trackOf } from './config.js';
import { failureClassLine, failureClassOfRouteStatuses } from './failure-class.js';
import type { CollectedOutcome, PollState, SubmissionRef } from './payloads.js';
import { type ControlPlane, currentRecord, isoNow } from './ports.js';
import { mergeSubmissionResults } from './results-io.js';

const LOG_TAIL_BYTES = 4000;

/**
 * Collect: merge the final results, decide the outcome, and store everything (merged checkpoint and
 * EvalAI files in the artifact store, metrics as numbers in the record) before anything is published.
 */
// biome-ignore lint/complexity/noExcessiveLinesPerFunction: not yet split into read, decision and writes (#32 item 3)
export async function collectResults(
  deps: Pick<ControlPlane, 'config' | 'store' | 'artifacts' | 'jobs' | 'clock'>,
  input: { submission: SubmissionRef; poll: PollState },
): Promise<CollectedOutcome> {
  const { submission, poll } = input;
  const pk = submission.submissionPk;
  const record = await currentRecord(deps.store, submission);
  const plan = record.plan;
  if (poll.phase !== 'done') {
    // Workers still running stop gracefully: logcopy relays this to the simulator and agent scripts.
    await deps.artifacts.put(artifactKeys.cancel(pk, submission.attempt), poll.reason ?? poll.phase, 'text/plain');
  }
  const errors: string[] = [];
  let report: Awaited<ReturnType<typeof mergeSubmissionResults>> | undefined;
  try {
    report = plan ? await mergeSubmissionResults(deps.artifacts, pk, plan) : undefined;
  } catch (error) {
    if (!(error instanceof MergeError)) throw error;
    errors.push(`The workers' results could not be merged: ${error.message}`);
  }
  for (const { worker, error } of report?.rejected ?? []) {
    errors.push(`Worker ${worker} wrote a results file that cannot be accepted: ${error.message}`);
  }

  // What the evaluator wrote of its routes says more than a container's exit (CARLA's "Failed - <reason>").
  const said = failureClassOfRouteStatuses(report?.merged._checkpoint.records.map((r) => r.status) ?? []);
  let outcome: CollectedOutcome;
  if (poll.phase === 'cancelled') {
    outcome = { status: 'cancelled', reason: poll.reason ?? 'Cancelled.', failureClass: 'cancelled' };
  } else if (poll.phase !== 'done') {
    const observed = poll.failureClass ?? 'platform_error';
    outcome = {
      status: 'failed',
      reason: poll.reason ?? `The evaluation stopped (${poll.phase}).`,
      failureClass: observed === 'agent_crashed' || observed === 'platform_error' ? (said ?? observed) : observed,
    };
  } else if (errors.length > 0)
    // The first error is the reason, said once: the lines below the class line carry it.
    outcome = { status: 'failed', reason: errors.shift() as string, failureClass: 'bad_checkpoint' };
  else if (!report?.complete) {
    const done = report?.merged._checkpoint.records.length ?? 0;
    outcome = {
      status: 'failed',
      reason: `The results are incomplete: ${done} of ${plan?.expectedRoutes} routes were evaluated.`,
      failureClass: said ?? 'platform_error',
    };
  } else outcome = { status: 'finished' };

  if (outcome.status === 'failed') {
    errors.unshift(failureClassLine(outcome.failureClass ?? 'platform_error'), outcome.reason ?? '');
  }
  for (const worker of poll.failedWorkers ?? []) {
    const jobName = plan?.workers.find((w) => w.worker === worker)?.jobName;
    const tail = jobName ? await deps.jobs.logTail(jobName, 'agent', LOG_TAIL_BYTES).catch(() => '') : '';
    if (tail) errors.push(`--- last lines of worker ${worker}'s agent log ---\n${tail}`);
  }

  const merged = report?.merged;
  const global = merged?._checkpoint.global_record;
  const track = trackOf(deps.config, submission.phasePk);
  let grantsQualification: string | undefined;
  let stdoutNote = '';
  if (outcome.status === 'finished' && merged && track?.qualifier) {
    const scores = accuracies(merged, deps.config.leaderboard);
    const passed = Object.entries(track.qualifier.thresholds).every(([label, min]) => (scores[label] ?? 0) > min);
    grantsQualification = passed ? track.qualifier.grants : undefined;
    stdoutNote = passed
      ? `CONGRATULATIONS! You passed the qualifier and can now submit to ${track.qualifier.grants}.\n\n`
      : 'Unfortunately you did not pass the qualifier thresholds this time.\n\n';
  }
  if (grantsQualification) outcome = { ...outcome, grantsQualification };

  const fields = merged
    ? evalAiResultFields(merged, {
        leaderboard: deps.config.leaderboard,
        errors,
        metadata: { attempt: submission.attempt, outcome: outcome.status },
        ...(plan ? { expectedRoutes: plan.expectedRoutes } : {}),
        refusedWorkers: report?.rejected.map((r) => r.worker) ?? [],
      })
    : {
        result: '[]',
        stdout: '',
        stderr: errors.join('\n'),
        metadata: JSON.stringify({ attempt: submission.attempt }),
      };
  if (merged) await deps.artifacts.put(artifactKeys.merged(pk), formatMergedCheckpoint(merged), 'application/json');
  await deps.artifacts.put(artifactKeys.evalai(pk, 'result.json'), fields.result, 'application/json');
  await deps.artifacts.put(artifactKeys.evalai(pk, 'stdout.txt'), stdoutNote + fields.stdout, 'text/plain');
  await deps.artifacts.put(artifactKeys.evalai(pk, 'stderr.txt'), fields.stderr, 'text/plain');
  await deps.artifacts.put(artifactKeys.evalai(pk, 'metadata.json'), fields.metadata, 'application/json');

  const metrics = global
    ? Object.fromEntries(CARLA_VALUE_SOURCES.map((source) => [source, globalStatistic(global, source)]))
    : undefined;
  const progress = merged ? { done: merged._checkpoint.records.length, total: plan?.expectedRoutes ?? 0 } : undefined;
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
  return outcome;
}

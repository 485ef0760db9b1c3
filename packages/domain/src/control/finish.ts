import { IllegalTransitionError, MergeError, OperatorActionRefusedError } from '../errors.js';
import { isTerminal } from '../lifecycle.js';
import { accuracies, evalAiResultFields } from '../results/evalai-payload.js';
import { CARLA_VALUE_SOURCES, formatMergedCheckpoint, globalStatistic } from '../results/merge.js';
import { artifactKeys } from './artifact-keys.js';
import { type AttemptCost, attemptCost } from './cost.js';
import { CANCELLED_ON_EVALAI, type ControlPlane, cancelledOnEvalAi, currentRecord, isoNow, trackOf } from './deps.js';
import { failureClassLine, failureClassOfRouteStatuses } from './failure-class.js';
import { jobName } from './launch.js';
import type { CollectedOutcome, PollState, SubmissionRef, TerminalStatus } from './payloads.js';
import type { SubmissionOutcome } from './records.js';
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

/**
 * Publish: PUT the terminal status with the stored files, then record it. Never writes finished (or
 * failed) over a submission the participant cancelled: EvalAI keeps whatever is written last.
 */
export async function publishOutcome(
  deps: Pick<ControlPlane, 'config' | 'store' | 'artifacts' | 'evalai' | 'clock'>,
  input: { submission: SubmissionRef; outcome: CollectedOutcome },
): Promise<{ status: TerminalStatus; cost?: AttemptCost }> {
  const { submission } = input;
  const pk = submission.submissionPk;
  const record = await currentRecord(deps.store, submission);
  if (isTerminal(record.status) && record.evalaiReported) return { status: record.status as TerminalStatus };
  const files = await storedFiles(deps, pk, input.outcome);
  // The files are read first: nothing slow may stand between the status read and the PUT.
  const status: TerminalStatus = (await cancelledOnEvalAi(deps.evalai, pk)) ? 'cancelled' : input.outcome.status;
  if (status !== 'cancelled') {
    await deps.evalai.putResult(submission.challengePk, status, {
      submissionPk: pk,
      phasePk: submission.phasePk,
      ...files,
    });
  }
  // Granted before the record settles: a retry after a failed grant finds the record unsettled and grants
  // again (granting is idempotent), where a settled record would return early and lose it.
  if (status === 'finished' && input.outcome.grantsQualification) {
    await deps.store.grantQualification(submission.teamPk, input.outcome.grantsQualification, pk, isoNow(deps.clock));
  }
  const reason = status === input.outcome.status ? input.outcome.reason : CANCELLED_ON_EVALAI;
  await settle(deps, submission, status, reason);
  return { status, cost: attemptCost(record, deps.config.prices, deps.clock.now()) };
}

/** What Publish sends EvalAI for an outcome: the files Collect stored. */
async function storedFiles(
  deps: Pick<ControlPlane, 'artifacts'>,
  pk: number,
  outcome: Pick<SubmissionOutcome, 'status' | 'reason'>,
) {
  const read = async (file: 'result.json' | 'stdout.txt' | 'stderr.txt' | 'metadata.json') =>
    (await deps.artifacts.get(artifactKeys.evalai(pk, file))) ?? '';
  const finished = outcome.status === 'finished';
  return {
    // EvalAI reads result only for finished submissions; its own workers send [] otherwise.
    result: finished ? (await read('result.json')) || '[]' : '[]',
    stdout: await read('stdout.txt'),
    stderr: finished ? '' : (await read('stderr.txt')) || (outcome.reason ?? ''),
    metadata: await read('metadata.json'),
  };
}

/**
 * The host's republish: the stored result of an ended run sent to EvalAI again (EvalAI lost it, or its
 * status was changed by hand), with the files Publish sent. Refused for a run that has not ended and over
 * a cancel, the participant's or the record's. The record is left as it is.
 */
export async function republishResult(
  deps: Pick<ControlPlane, 'store' | 'artifacts' | 'evalai'>,
  pk: number,
): Promise<{ status: 'finished' | 'failed' }> {
  const record = await deps.store.get(pk);
  if (!record) throw new OperatorActionRefusedError(`no submission ${pk}`);
  if (record.status === 'cancelled') {
    throw new OperatorActionRefusedError(`submission ${pk} was cancelled: a result is never written over a cancel`);
  }
  if (record.status !== 'finished' && record.status !== 'failed') {
    throw new OperatorActionRefusedError(
      `submission ${pk} is ${record.status}: its result is published when its run ends`,
    );
  }
  const outcome = { status: record.status, ...(record.outcome?.reason ? { reason: record.outcome.reason } : {}) };
  const files = await storedFiles(deps, pk, outcome);
  if (await cancelledOnEvalAi(deps.evalai, pk)) {
    throw new OperatorActionRefusedError(
      `submission ${pk} is cancelled on EvalAI: a result is never written over a cancel`,
    );
  }
  await deps.evalai.putResult(record.challengePk, record.status, {
    submissionPk: pk,
    phasePk: record.phasePk,
    ...files,
  });
  return { status: record.status };
}

/** Moves the record to its terminal status (once) and marks it reported to EvalAI. */
export async function settle(
  deps: Pick<ControlPlane, 'store' | 'clock'>,
  submission: SubmissionRef,
  status: TerminalStatus,
  reason: string | undefined,
): Promise<void> {
  const record = await currentRecord(deps.store, submission);
  const at = isoNow(deps.clock);
  if (!isTerminal(record.status)) {
    try {
      await deps.store.transition(submission.submissionPk, submission.attempt, status, {
        at,
        ...(reason ? { reason } : {}),
        patch: { evalaiReported: true },
      });
      return;
    } catch (error) {
      // Another try settled it first (a retry running beside the one it replaced): fine if it agrees.
      if (!(error instanceof IllegalTransitionError)) throw error;
    }
  }
  await deps.store.markReported(submission.submissionPk, submission.attempt, at);
}

/**
 * Cleanup: delete every worker's job (and its pods) of this execution's attempt, never another's: a late
 * cleanup of attempt N must leave attempt N+1 running. Jobs already gone are fine. Then the attempt's slots
 * in Pitwall's queue go back, its GPU time counted to its team.
 */
export async function deleteJobs(
  deps: Pick<ControlPlane, 'config' | 'store' | 'jobs' | 'admissions' | 'clock'>,
  submission: SubmissionRef,
): Promise<{ deleted: number }> {
  const record = await deps.store.get(submission.submissionPk);
  // Every attempt has the same workers (the split is kept), and job names carry the attempt. A worker moved to
  // on demand has a second name: the plan says which did, unless it is a later attempt's plan by now.
  const ours = record?.attempt === submission.attempt;
  const names = (record?.plan?.workers ?? []).flatMap((w) => [
    jobName(submission, w.worker),
    ...(!ours || w.onDemandSince ? [jobName(submission, w.worker, true)] : []),
  ]);
  const results = await Promise.all(names.map((name) => deps.jobs.delete(name)));
  if (deps.config.queue) {
    const at = isoNow(deps.clock);
    await deps.admissions.release(submission.submissionPk, submission.attempt, at, deps.config.queue.halfLifeSeconds);
  }
  return { deleted: results.filter((r) => r === 'deleted').length };
}

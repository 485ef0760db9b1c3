import { IllegalTransitionError, OperatorActionRefusedError } from '../errors.js';
import { isTerminal } from '../lifecycle.js';
import { artifactKeys } from './artifact-keys.js';
import { type AttemptCost, attemptCost } from './cost.js';
import type { CollectedOutcome, SubmissionRef, TerminalStatus } from './payloads.js';
import { CANCELLED_ON_EVALAI, type ControlPlane, cancelledOnEvalAi, currentRecord, isoNow } from './ports.js';
import type { SubmissionOutcome } from './records.js';

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

import { assignmentOf } from './launch-worker.js';
import type { PollState } from './payloads.js';
import { CANCELLED_ON_EVALAI, type ControlPlane, cancelledOnEvalAi, currentRecord, isoNow } from './ports.js';
import type { SubmissionRef } from './records.js';

/**
 * MarkQueued: tell EvalAI the jobs are queued (PATCH, once) and record it; then the poll loop starts. A
 * participant who cancelled meanwhile ends the attempt here, with nothing written to EvalAI.
 */
export async function markQueued(
  deps: Pick<ControlPlane, 'config' | 'store' | 'evalai' | 'clock'>,
  submission: SubmissionRef,
): Promise<PollState> {
  const record = await currentRecord(deps.store, submission);
  const polling: PollState = { phase: 'running', turn: 0, waitSeconds: deps.config.poll.initialSeconds };
  if (record.status === 'queued' || record.status === 'running') return polling; // a retry after the write
  const jobName = assignmentOf(record.plan, 0).jobName;
  if (await cancelledOnEvalAi(deps.evalai, submission.submissionPk)) {
    return { phase: 'cancelled', turn: 0, waitSeconds: 0, reason: CANCELLED_ON_EVALAI };
  }
  await deps.evalai.patchStatus(submission.challengePk, {
    submissionPk: submission.submissionPk,
    status: 'queued',
    jobName,
  });
  await deps.store.transition(submission.submissionPk, submission.attempt, 'queued', { at: isoNow(deps.clock) });
  return polling;
}

import { formatSubmissionMessage } from '../message.js';
import { type ControlPlane, isoNow, trackOf } from './deps.js';
import { putFailed } from './failure.js';

/** How long a submission may wait as submitted, with no record, before its message counts as lost. */
export const RECONCILE_AFTER_SECONDS = 900;
/** Messages re-sent for one submission before Pitwall gives up and fails it on EvalAI. */
export const MAX_RESENDS = 3;

export const NEVER_STARTED =
  'The evaluation backend received this submission but could not start evaluating it. The challenge hosts have been notified; please resubmit or ask them to re-run it.';

export interface ReconcileReport {
  /** Submissions EvalAI lists as submitted for the phases Pitwall evaluates. */
  readonly waiting: number;
  readonly resent: readonly number[];
  /** Given up on after MAX_RESENDS re-sent messages: FAILED on EvalAI with NEVER_STARTED. */
  readonly failed: readonly number[];
  readonly errors: readonly string[];
}

/**
 * The scheduled reconciler. EvalAI's queue keeps a message 4 days and has no dead-letter queue, so a lost
 * message would leave its submission "submitted" forever. Every submission EvalAI still shows as submitted,
 * past RECONCILE_AFTER_SECONDS and with no record here, gets its message again; Register's conditional
 * write makes a duplicate harmless. After MAX_RESENDS the submission is failed on EvalAI with a reason.
 */
export async function reconcileSubmissions(
  deps: Pick<ControlPlane, 'config' | 'store' | 'evalai' | 'queue' | 'clock'>,
): Promise<ReconcileReport> {
  const { config } = deps;
  const cutoff = deps.clock.now().getTime() - RECONCILE_AFTER_SECONDS * 1000;
  const listed = await deps.evalai.listSubmissions(config.challengePk, 'submitted');
  const waiting = listed.filter((s) => trackOf(config, s.challengePhasePk));
  const resent: number[] = [];
  const failed: number[] = [];
  const errors: string[] = [];
  for (const submission of waiting) {
    // Without a submission time there is no telling a lost message from one still in the queue.
    if (!submission.submittedAt || Date.parse(submission.submittedAt) > cutoff) continue;
    const ids = { challengePk: config.challengePk, phasePk: submission.challengePhasePk, submissionPk: submission.id };
    try {
      if (await deps.store.get(submission.id)) continue; // registered: the sweeper looks after it
      const at = isoNow(deps.clock);
      const count = await deps.store.countResend(submission.id, at);
      if (count > MAX_RESENDS) {
        // EvalAI lets the last writer win: a participant's cancel since the list must stand.
        if ((await deps.evalai.getSubmission(submission.id)).status !== 'submitted') continue;
        await putFailed(deps.evalai, ids, NEVER_STARTED, { outcome: 'failed', resends: MAX_RESENDS });
        failed.push(submission.id);
        continue;
      }
      await deps.queue.send({
        body: formatSubmissionMessage(ids),
        submissionPk: submission.id,
        deduplicationId: `reconcile-${submission.id}-${count}`,
      });
      resent.push(submission.id);
    } catch (error) {
      errors.push(`submission ${submission.id}: ${(error as Error).message}`);
    }
  }
  return { waiting: waiting.length, resent, failed, errors };
}

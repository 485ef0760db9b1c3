import { isTerminal } from '../lifecycle.js';
import { formatSubmissionMessage } from '../message.js';
import { trackOf } from './config.js';
import { putFailed } from './handle-failure.js';
import { type ControlPlane, type EvalAiSubmission, isoNow } from './ports.js';
import type { SubmissionRecord } from './records.js';

/** How long a submission may wait, submitted or resuming, before its message counts as lost. */
export const RECONCILE_AFTER_SECONDS = 900;
/** Messages re-sent to start one attempt before Pitwall gives up and fails the submission on EvalAI. */
export const MAX_RESENDS = 3;

export const NEVER_STARTED =
  'The evaluation backend received this submission but could not start evaluating it. The challenge hosts have been notified; please resubmit or ask them to re-run it.';

export interface ReconcileReport {
  /** Submissions EvalAI lists as submitted or resuming, in the phases Pitwall evaluates. */
  readonly waiting: number;
  readonly resent: readonly number[];
  /** Given up on after MAX_RESENDS re-sent messages: FAILED on EvalAI with NEVER_STARTED. */
  readonly failed: readonly number[];
  readonly errors: readonly string[];
}

/**
 * The scheduled reconciler. EvalAI's queue keeps a message 4 days and has no dead-letter queue, so a lost
 * message would leave its submission "submitted" (or "resuming") forever. Each one EvalAI lists, waiting
 * past RECONCILE_AFTER_SECONDS for an attempt Pitwall has not begun, gets its message again; Register's
 * conditional writes make a duplicate harmless. After MAX_RESENDS it is failed on EvalAI with a reason.
 */
export async function reconcileSubmissions(
  deps: Pick<ControlPlane, 'config' | 'store' | 'evalai' | 'queue' | 'clock'>,
): Promise<ReconcileReport> {
  const { config } = deps;
  const cutoff = deps.clock.now().getTime() - RECONCILE_AFTER_SECONDS * 1000;
  const listed = [
    ...(await deps.evalai.listSubmissions(config.challengePk, 'submitted')),
    ...(await deps.evalai.listSubmissions(config.challengePk, 'resuming')),
  ];
  const waiting = listed.filter((s) => trackOf(config, s.challengePhasePk));
  const resent: number[] = [];
  const failed: number[] = [];
  const errors: string[] = [];
  for (const submission of waiting) {
    // Without the time it started waiting there is no telling a lost message from one still in the queue.
    const since = submission.status === 'resuming' ? submission.resumedAt : submission.submittedAt;
    if (!since || Date.parse(since) > cutoff) continue;
    const ids = { challengePk: config.challengePk, phasePk: submission.challengePhasePk, submissionPk: submission.id };
    try {
      const attempt = attemptNotBegun(submission, await deps.store.get(submission.id));
      if (attempt === undefined) continue; // begun: the sweeper looks after it from here
      const count = await deps.store.countResend(submission.id, attempt, isoNow(deps.clock));
      if (count > MAX_RESENDS) {
        // EvalAI lets the last writer win: a participant's cancel since the list must stand.
        if ((await deps.evalai.getSubmission(submission.id)).status !== submission.status) continue;
        await putFailed(
          deps.evalai,
          ids,
          { reason: NEVER_STARTED, failureClass: 'platform_error' },
          { attempt, outcome: 'failed', resends: MAX_RESENDS },
        );
        failed.push(submission.id);
        continue;
      }
      await deps.queue.send({
        body: formatSubmissionMessage(ids),
        submissionPk: submission.id,
        deduplicationId: `reconcile-${submission.id}-${attempt}-${count}`,
      });
      resent.push(submission.id);
    } catch (error) {
      errors.push(`submission ${submission.id}: ${(error as Error).message}`);
    }
  }
  return { waiting: waiting.length, resent, failed, errors };
}

/** The attempt EvalAI is waiting for, when Pitwall has no trace of beginning it. */
export function attemptNotBegun(
  submission: EvalAiSubmission,
  record: SubmissionRecord | undefined,
): number | undefined {
  if (!record) return 1;
  // A resume Pitwall has seen turns the record from terminal to resuming, as Register begins it.
  if (submission.status === 'resuming' && isTerminal(record.status)) return record.attempt + 1;
  return undefined;
}

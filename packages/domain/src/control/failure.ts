import { InvalidMessageError } from '../errors.js';
import { isEvalAiTerminal, isTerminal } from '../lifecycle.js';
import { type ControlPlane, cancelledOnEvalAi } from './deps.js';
import { deleteJobs, settle } from './finish.js';
import type { SubmissionRecord, SubmissionRef, TerminalStatus } from './records.js';
import { messageBodyOf, type Registration } from './register.js';

/** The error a state machine Catch hands over: {Error, Cause}, Cause being Lambda's JSON or plain text. */
export interface CaughtError {
  readonly Error?: string;
  readonly Cause?: string;
}

/** Set by the state machine when Register rejects a submission: the reason is for the participant. */
export const SUBMISSION_REJECTED = 'SubmissionRejected';

export function describeCaught(error: CaughtError): string {
  const name = error.Error ?? 'Error';
  let message = error.Cause ?? '';
  try {
    const parsed = JSON.parse(message) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') message = parsed.errorMessage;
  } catch {
    // Not Lambda's JSON envelope: the cause is the message itself.
  }
  return message ? `${name}: ${message}` : name;
}

/** What the participant reads when the backend, not their agent, stopped the evaluation. */
export function participantReason(error: CaughtError): string {
  if (error.Error === SUBMISSION_REJECTED) return error.Cause ?? 'The submission was rejected.';
  return `The evaluation could not be completed because of an error in the evaluation backend (${describeCaught(error)}). The challenge hosts have been notified.`;
}

/**
 * Drives one attempt to a terminal status for a reason outside the normal path: its jobs are deleted,
 * EvalAI gets FAILED with the reason as stderr (unless the participant cancelled), and the record follows.
 */
export async function failSubmission(
  deps: Pick<ControlPlane, 'store' | 'evalai' | 'jobs' | 'clock'>,
  submission: SubmissionRef,
  reason: string,
): Promise<{ status: TerminalStatus }> {
  await deleteJobs(deps, submission).catch(() => undefined); // best effort: jobs also expire by TTL
  const status: TerminalStatus = (await cancelledOnEvalAi(deps.evalai, submission.submissionPk))
    ? 'cancelled'
    : 'failed';
  if (status === 'failed') {
    await putFailed(deps.evalai, submission, reason, { attempt: submission.attempt, outcome: 'failed' });
  }
  await settle(deps, submission, status, reason);
  return { status };
}

/**
 * HandleFailure: every Catch in the state machine ends here. With a registered submission it fails that
 * attempt; before registration it still tells EvalAI when the message names a submission; otherwise the
 * message is unreadable and the execution fails with InvalidMessageError.
 */
export async function handleFailure(
  deps: Pick<ControlPlane, 'store' | 'evalai' | 'jobs' | 'clock'>,
  input: { registration?: Registration; event?: unknown; error: CaughtError },
): Promise<{ status: TerminalStatus | 'unreported' }> {
  const reason = participantReason(input.error);
  const registered =
    input.registration && 'submission' in input.registration ? input.registration.submission : undefined;
  if (registered) {
    const record = await deps.store.get(registered.submissionPk);
    if (record && record.attempt !== registered.attempt) return { status: 'unreported' }; // a newer attempt owns it
    if (record && isTerminal(record.status) && record.evalaiReported)
      return { status: record.status as TerminalStatus };
    return failSubmission(deps, registered, reason);
  }
  const ids = idsOf(input.event);
  if (!ids)
    throw new InvalidMessageError('(body)', `cannot be read, and names no submission: ${describeCaught(input.error)}`);
  const remote = await deps.evalai.getSubmission(ids.submissionPk);
  if (isEvalAiTerminal(remote.status)) return { status: 'unreported' };
  await putFailed(deps.evalai, { ...ids, phasePk: remote.challengePhasePk }, reason, {});
  return { status: 'failed' };
}

/** FAILED on EvalAI the way its own workers send it: no result, the reason as stderr. */
export function putFailed(
  evalai: ControlPlane['evalai'],
  submission: { challengePk: number; submissionPk: number; phasePk: number },
  reason: string,
  metadata: Record<string, unknown>,
): Promise<void> {
  return evalai.putResult(submission.challengePk, 'failed', {
    submissionPk: submission.submissionPk,
    phasePk: submission.phasePk,
    result: '[]',
    stdout: '',
    stderr: reason,
    metadata: JSON.stringify(metadata),
  });
}

/** Submission and challenge ids from a message that failed validation, if they are there at all. */
function idsOf(event: unknown): { submissionPk: number; challengePk: number } | undefined {
  try {
    const body = messageBodyOf(event);
    const message = (typeof body === 'string' ? JSON.parse(body) : body) as Record<string, unknown>;
    const id = (value: unknown) => {
      const n = typeof value === 'string' && /^[0-9]{1,15}$/.test(value) ? Number(value) : value;
      return typeof n === 'number' && Number.isSafeInteger(n) && n > 0 ? n : undefined;
    };
    const submissionPk = id(message.submission_pk);
    const challengePk = id(message.challenge_pk);
    return submissionPk && challengePk ? { submissionPk, challengePk } : undefined;
  } catch {
    return undefined;
  }
}

export interface SweepReport {
  readonly examined: number;
  readonly failed: readonly number[];
  readonly errors: readonly string[];
}

/** How long past its deadline a submission may stay active before the sweeper steps in. */
export const SWEEP_GRACE_SECONDS = 900;

/**
 * The scheduled sweeper: no submission stays non-terminal past its deadline or without a live
 * execution. (Terminal records are always reported: the record turns terminal only after EvalAI accepted it.)
 */
export async function sweepSubmissions(
  deps: Pick<ControlPlane, 'store' | 'evalai' | 'jobs' | 'clock' | 'executions'>,
): Promise<SweepReport> {
  const active = await deps.store.listActive();
  const failed: number[] = [];
  const errors: string[] = [];
  for (const record of active) {
    try {
      const reason = await stuckReason(deps, record);
      if (reason) {
        await failSubmission(deps, record, reason);
        failed.push(record.submissionPk);
      }
    } catch (error) {
      errors.push(`submission ${record.submissionPk}: ${(error as Error).message}`);
    }
  }
  return { examined: active.length, failed, errors };
}

async function stuckReason(
  deps: Pick<ControlPlane, 'clock' | 'executions'>,
  record: SubmissionRecord,
): Promise<string | undefined> {
  const overdue = deps.clock.now().getTime() - Date.parse(record.deadline);
  if (overdue > SWEEP_GRACE_SECONDS * 1000) {
    return 'Time limit exceeded: the evaluation did not finish in time and was stopped.';
  }
  if (record.executionId && deps.executions && !(await deps.executions.isRunning(record.executionId))) {
    return 'The evaluation was interrupted in the evaluation backend and could not be completed. Please resubmit or ask the hosts to resume it.';
  }
  return undefined;
}

import { InvalidMessageError } from '../errors.js';
import { canTransition, type EvalAiStatus, isEvalAiTerminal, isTerminal, type SubmissionStatus } from '../lifecycle.js';
import { type AttemptCost, attemptCost } from './cost.js';
import { deleteJobs } from './delete-jobs.js';
import { type Failure, type FailureClass, failureClassLine } from './failure-class.js';
import type { Registration } from './payloads.js';
import { CANCELLED_ON_EVALAI, type ControlPlane, cancelledOnEvalAi, isoNow } from './ports.js';
import { failureClassOf, type SubmissionRecord, type TerminalStatus } from './records.js';
import { idsOf } from './register.js';

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

/** What the participant reads when the backend, not their agent, stopped the evaluation, and its class. */
export function participantReason(error: CaughtError): Failure {
  if (error.Error === SUBMISSION_REJECTED) {
    return { reason: error.Cause ?? 'The submission was rejected.', failureClass: 'rejected' };
  }
  if (error.Error === 'InvalidMessageError') {
    return {
      reason: `EvalAI's message for this submission could not be read (${error.Cause ?? 'no reason given'}). Please submit again; if it happens again, tell the challenge hosts.`,
      failureClass: 'platform_error',
    };
  }
  return {
    reason: `The evaluation could not be completed because of an error in the evaluation backend (${describeCaught(error)}). The challenge hosts have been notified.`,
    failureClass: 'platform_error',
  };
}

/**
 * Drives one attempt to a terminal status for a reason outside the normal path, never over a result:
 * a terminal status EvalAI already has (the participant's cancel, or the result a Publish got through before
 * it died) stands, and the record follows it. Otherwise the record turns failed first, only if it is still
 * as the caller read it (so a run that moved on meanwhile is left alone: RecordChangedError), then the jobs
 * go, then EvalAI gets FAILED with the reason as stderr (right after a fresh read), then the record is
 * marked reported. A record failed but not reported stays listed for the sweeper, which reports it later.
 */
export async function failSubmission(
  deps: Pick<ControlPlane, 'config' | 'store' | 'evalai' | 'jobs' | 'admissions' | 'clock'>,
  record: SubmissionRecord,
  failure: Failure,
): Promise<EndedSubmission> {
  const pk = record.submissionPk;
  const { reason } = failure;
  const ended = (status: TerminalStatus): EndedSubmission => ({
    status,
    ...(status === 'finished' ? {} : { failureClass: status === 'failed' ? failure.failureClass : 'cancelled' }),
    cost: attemptCost(record, deps.config.prices, deps.clock.now()),
  });
  if (isTerminal(record.status) && record.evalaiReported) {
    const failureClass = failureClassOf(record);
    return { status: record.status as TerminalStatus, ...(failureClass ? { failureClass } : {}) };
  }
  const expect = { status: record.status, executionId: record.executionId };
  const at = isoNow(deps.clock);
  const remote = (await deps.evalai.getSubmission(pk)).status;
  if (isEvalAiTerminal(remote)) {
    const status = recordStatusFor(remote, record.status);
    if (!isTerminal(record.status)) {
      await deps.store.transition(pk, record.attempt, status, {
        at,
        reason: `EvalAI already shows the submission as ${remote}.`,
        patch: { evalaiReported: true },
        expect,
      });
    } else await deps.store.markReported(pk, record.attempt, at);
    await deleteJobs(deps, record).catch(() => undefined);
    return ended(status);
  }
  if (!isTerminal(record.status)) {
    await deps.store.transition(pk, record.attempt, 'failed', {
      at,
      reason,
      patch: { evalaiReported: false, outcome: { status: 'failed', reason, failureClass: failure.failureClass } },
      expect,
    });
  }
  await deleteJobs(deps, record).catch(() => undefined); // best effort: jobs also expire by TTL
  if (await cancelledOnEvalAi(deps.evalai, pk)) {
    // The participant's cancel got there first: it stands, and the record follows it.
    await deps.store.transition(pk, record.attempt, 'cancelled', {
      at: isoNow(deps.clock),
      reason: CANCELLED_ON_EVALAI,
      patch: { evalaiReported: true },
    });
    return ended('cancelled');
  }
  await putFailed(deps.evalai, record, failure, { attempt: record.attempt, outcome: 'failed' });
  await deps.store.markReported(pk, record.attempt, isoNow(deps.clock));
  return ended('failed');
}

/**
 * How a submission ended: its terminal status, for a failure or a cancel its class, and what the attempt cost
 * where this call ended it (for the metrics).
 */
export interface EndedSubmission {
  readonly status: TerminalStatus;
  readonly failureClass?: FailureClass;
  readonly cost?: AttemptCost;
}

/** The record's terminal status for one EvalAI has: its own if the lifecycle allows it. */
function recordStatusFor(remote: EvalAiStatus, current: SubmissionStatus): TerminalStatus {
  const wanted: TerminalStatus = remote === 'finished' ? 'finished' : remote === 'failed' ? 'failed' : 'cancelled';
  return isTerminal(current) || canTransition(current, wanted) ? wanted : 'failed';
}

/**
 * HandleFailure: every Catch in the state machine ends here. It fails only the attempt its own execution
 * registered (and still owns); before registration it tells EvalAI only about a submission Pitwall has no
 * record of, so a bad or duplicate message never fails a live run; an unreadable message naming no
 * submission fails the execution with InvalidMessageError.
 */
export async function handleFailure(
  deps: Pick<ControlPlane, 'config' | 'store' | 'evalai' | 'jobs' | 'admissions' | 'clock'>,
  input: { registration?: Registration; event?: unknown; error: CaughtError; executionId?: string },
): Promise<EndedSubmission | { status: 'unreported' }> {
  const failure = participantReason(input.error);
  const registered =
    input.registration && 'submission' in input.registration ? input.registration.submission : undefined;
  if (registered) {
    const record = await deps.store.get(registered.submissionPk);
    if (!record || record.attempt !== registered.attempt) return { status: 'unreported' }; // a newer attempt's
    if (input.executionId && record.executionId !== input.executionId) return { status: 'unreported' };
    return failSubmission(deps, record, failure);
  }
  const ids = input.registration?.action === 'invalid' ? input.registration.ids : idsOf(input.event);
  if (!ids)
    throw new InvalidMessageError('(body)', `cannot be read, and names no submission: ${describeCaught(input.error)}`);
  if (await deps.store.get(ids.submissionPk)) return { status: 'unreported' }; // another execution's run
  const remote = await deps.evalai.getSubmission(ids.submissionPk);
  if (isEvalAiTerminal(remote.status)) return { status: 'unreported' };
  await putFailed(deps.evalai, { ...ids, phasePk: remote.challengePhasePk }, failure, {});
  return { status: 'failed', failureClass: failure.failureClass };
}

/** FAILED on EvalAI the way its own workers send it: no result; as stderr, the class line, then the reason. */
export function putFailed(
  evalai: ControlPlane['evalai'],
  submission: { challengePk: number; submissionPk: number; phasePk: number },
  failure: Failure,
  metadata: Record<string, unknown>,
): Promise<void> {
  return evalai.putResult(submission.challengePk, 'failed', {
    submissionPk: submission.submissionPk,
    phasePk: submission.phasePk,
    result: '[]',
    stdout: '',
    stderr: `${failureClassLine(failure.failureClass)}\n${failure.reason}`,
    metadata: JSON.stringify({ ...metadata, failureClass: failure.failureClass }),
  });
}

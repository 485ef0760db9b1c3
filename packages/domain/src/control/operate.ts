import { EvalAiRejectedError, OperatorActionRefusedError } from '../errors.js';
import { isEvalAiTerminal, isTerminal } from '../lifecycle.js';
import { formatSubmissionMessage } from '../message.js';
import { trackOf } from './config.js';
import { type ControlPlane, isoNow } from './ports.js';
import { attemptNotBegun } from './reconcile.js';

/**
 * The host's resume: a failed submission's next attempt, asked of EvalAI, which turns it resuming and
 * publishes its message again; Register then begins the attempt with the same split, and each worker
 * continues from its checkpoint. Refused for a run that did not fail, here or on EvalAI.
 */
export async function resumeSubmission(
  deps: Pick<ControlPlane, 'store' | 'evalai'>,
  pk: number,
): Promise<{ attempt: number }> {
  const record = await deps.store.get(pk);
  if (!record) throw new OperatorActionRefusedError(`no submission ${pk}`);
  if (record.status === 'cancelled') {
    throw new OperatorActionRefusedError(`submission ${pk} was cancelled: a cancel is never undone by a resume`);
  }
  if (record.status !== 'failed') {
    throw new OperatorActionRefusedError(`submission ${pk} is ${record.status}: only a failed submission resumes`);
  }
  const remote = (await deps.evalai.getSubmission(pk)).status;
  if (remote !== 'failed') {
    throw new OperatorActionRefusedError(
      `submission ${pk} is ${remote} on EvalAI: EvalAI resumes only a failed submission`,
    );
  }
  try {
    await deps.evalai.resumeSubmission(pk);
  } catch (error) {
    if (!(error instanceof EvalAiRejectedError && error.status === 406)) throw error;
    throw new OperatorActionRefusedError(
      `EvalAI refused to resume submission ${pk}: its challenge does not allow resuming submissions (the hosts set allow_resuming_submissions in the challenge's configuration on EvalAI)`,
      { cause: error },
    );
  }
  return { attempt: record.attempt + 1 };
}

/**
 * The host's requeue: the message of a submission EvalAI shows waiting (submitted or resuming) for an
 * attempt Pitwall never began, sent to the queue again, as the reconciler does on its own after
 * RECONCILE_AFTER_SECONDS. Register's conditional writes make it harmless if the first arrives after all.
 */
export async function requeueSubmission(
  deps: Pick<ControlPlane, 'config' | 'store' | 'evalai' | 'queue' | 'clock'>,
  pk: number,
): Promise<{ attempt: number }> {
  const remote = await deps.evalai.getSubmission(pk);
  if (!trackOf(deps.config, remote.challengePhasePk)) {
    throw new OperatorActionRefusedError(
      `submission ${pk} is in phase ${remote.challengePhasePk}, which this Pitwall does not evaluate`,
    );
  }
  if (remote.status !== 'submitted' && remote.status !== 'resuming') {
    throw new OperatorActionRefusedError(
      `submission ${pk} is ${remote.status} on EvalAI: requeue re-sends only the message of a submission waiting to start`,
    );
  }
  const record = await deps.store.get(pk);
  const attempt = attemptNotBegun(remote, record);
  if (attempt === undefined) {
    throw new OperatorActionRefusedError(
      `submission ${pk} has begun (attempt ${record?.attempt}, ${record?.status}): its message arrived; requeue would start nothing`,
    );
  }
  const ids = { challengePk: deps.config.challengePk, phasePk: remote.challengePhasePk, submissionPk: pk };
  await deps.queue.send({
    body: formatSubmissionMessage(ids),
    submissionPk: pk,
    deduplicationId: `requeue-${pk}-${attempt}-${isoNow(deps.clock).replace(/\D/g, '')}`,
  });
  return { attempt };
}

export const CANCELLED_BY_HOSTS = 'The challenge hosts cancelled this submission.';

/**
 * Whether a cancel may go to EvalAI: never for a submission that ended, on EvalAI or in Pitwall (whose own end
 * may not have reached EvalAI yet). EvalAI takes a cancel over any status, and the participant would then see
 * cancelled where Pitwall finished or failed the run.
 */
export async function refuseCancelOfEnded(
  deps: Pick<ControlPlane, 'store' | 'evalai'>,
  pk: number,
): Promise<{ phasePk: number }> {
  const record = await deps.store.get(pk);
  const remote = await deps.evalai.getSubmission(pk);
  if (isEvalAiTerminal(remote.status)) {
    throw new OperatorActionRefusedError(`submission ${pk} is ${remote.status} on EvalAI: there is nothing to cancel`);
  }
  if (record && isTerminal(record.status)) {
    throw new OperatorActionRefusedError(
      `submission ${pk} is ${record.status} in Pitwall (EvalAI shows ${remote.status} until it is told): there is nothing to cancel`,
    );
  }
  return { phasePk: remote.challengePhasePk };
}

/**
 * The host's cancel: CANCELLED on EvalAI (a PUT, as a host may), which Pitwall's status watch turns into the
 * run's end, its jobs deleted. Refused for a submission that ended (refuseCancelOfEnded): its status stands.
 */
export async function cancelAsHost(deps: Pick<ControlPlane, 'config' | 'store' | 'evalai'>, pk: number): Promise<void> {
  const { phasePk } = await refuseCancelOfEnded(deps, pk);
  await deps.evalai.putResult(deps.config.challengePk, 'cancelled', {
    submissionPk: pk,
    phasePk,
    result: '[]',
    stdout: '',
    stderr: CANCELLED_BY_HOSTS,
    metadata: '{}',
  });
}

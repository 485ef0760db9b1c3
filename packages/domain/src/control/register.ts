import { EvalAiRejectedError, EvalAiResponseError, InvalidMessageError, NotFoundError } from '../errors.js';
import { isEligibleForEvaluation } from '../lifecycle.js';
import { parseSubmissionMessage, type SubmissionMessage } from '../message.js';
import { budgetRefusalAtRegister } from './budget.js';
import { trackOf } from './config.js';
import type { MessageIds, Registration } from './payloads.js';
import { type ControlPlane, type EvalAiSubmission, isoNow } from './ports.js';
import { evaluationDeadline, evaluationSecondsUsed, type SubmissionRef, submissionRefOf } from './records.js';

/** In an allowedImages pattern, the submitting team's pk: EvalAI pushes to `…-participant-team-<pk>`. */
export const TEAM_PLACEHOLDER = '{team}';

export const QUALIFIER_REQUIRED =
  'You are not allowed to submit to this track. Please run the qualifier track first and pass it.';

/**
 * The Pipe's input is the SQS batch (an array of one record), a record, or the message itself.
 * Returns the message body (a string or an object) without trusting any of it.
 */
export function messageBodyOf(event: unknown): unknown {
  let item = event;
  if (Array.isArray(event)) {
    if (event.length !== 1) throw new InvalidMessageError('(batch)', `expected one message, got ${event.length}`);
    item = event[0];
  }
  if (item !== null && typeof item === 'object' && 'body' in item && ('messageId' in item || 'receiptHandle' in item)) {
    return (item as { body: unknown }).body;
  }
  return item;
}

/**
 * Register: read the message, ask EvalAI about the submission, and record this attempt exactly once.
 * A second delivery of the same message finds the record and is skipped; a resume starts a new attempt.
 */
export async function registerSubmission(
  deps: Pick<ControlPlane, 'config' | 'store' | 'evalai' | 'clock'>,
  input: { event: unknown; executionId: string },
): Promise<Registration> {
  let message: SubmissionMessage;
  try {
    message = parseSubmissionMessage(messageBodyOf(input.event));
  } catch (error) {
    if (!(error instanceof InvalidMessageError)) throw error;
    // Answered, not thrown: a Catch would add the error to a state that holds the whole (perhaps huge)
    // message, past Step Functions' 256 KB, which no Catch can handle. The state machine keeps only this.
    const ids = idsOf(input.event);
    return { action: 'invalid', reason: error.message, ...(ids ? { ids } : {}) };
  }
  const remote = await deps.evalai.getSubmission(message.submissionPk);
  if (!isEligibleForEvaluation(remote.status)) {
    return { action: 'skip', reason: `EvalAI reports the submission as ${remote.status}` };
  }
  const imageUri = message.submittedImageUri ?? (await imageFromInputFile(deps, remote));
  const existing = await deps.store.get(message.submissionPk);
  if (
    existing?.executionId === input.executionId &&
    (existing.status === 'received' || existing.status === 'resuming')
  ) {
    // A retry of this execution's own Register, whose write went through before an error: carry on with it.
    const own = submissionRefOf(existing);
    const reason = await rejectionReason(deps, message, remote, own);
    return reason ? { action: 'reject', reason, submission: own } : { action: 'run', submission: own };
  }
  const attempt = remote.status === 'resuming' && existing ? existing.attempt + 1 : 1;
  const used = existing && attempt > 1 ? evaluationSecondsUsed(existing.history, attempt) : 0;
  const ref = submissionRef(deps, message, remote, { attempt, imageUri, usedSeconds: used });
  const record = {
    ...ref,
    executionId: input.executionId,
    at: ref.registeredAt,
    ...(remote.submittedAt ? { submittedAt: remote.submittedAt } : {}),
  };
  if (attempt === 1) {
    if (!(await deps.store.create(record))) {
      return { action: 'skip', reason: `already registered (duplicate delivery of submission ${ref.submissionPk})` };
    }
  } else if (existing?.status !== 'failed' || !(await deps.store.beginResume(record, existing.attempt))) {
    return { action: 'skip', reason: `already being resumed (status ${existing?.status})` };
  }
  const reason = await rejectionReason(deps, message, remote, ref);
  return reason ? { action: 'reject', reason, submission: ref } : { action: 'run', submission: ref };
}

/**
 * Some of EvalAI's senders (and Pitwall's reconciler) publish no image URI: the submission's input file
 * has it. A file that names no image leaves it empty, which Register turns into a reason for the participant.
 */
async function imageFromInputFile(deps: Pick<ControlPlane, 'evalai'>, remote: EvalAiSubmission): Promise<string> {
  if (!remote.inputFile) return '';
  try {
    return await deps.evalai.readSubmittedImage(remote);
  } catch (error) {
    // A file that is missing, refused or malformed names no image; an outage is retried.
    if (
      error instanceof EvalAiResponseError ||
      error instanceof NotFoundError ||
      error instanceof EvalAiRejectedError
    ) {
      return '';
    }
    throw error;
  }
}

/**
 * The attempt's facts. Its deadline is the latest it may end: the queue timeout for its first worker pod to
 * run, then the evaluation time the earlier attempts left; Observe brings it forward once a pod runs.
 */
function submissionRef(
  deps: Pick<ControlPlane, 'config' | 'clock'>,
  message: SubmissionMessage,
  remote: EvalAiSubmission,
  attempt: { attempt: number; imageUri: string; usedSeconds: number },
): SubmissionRef {
  const now = deps.clock.now();
  const track = trackOf(deps.config, message.phasePk);
  const queued = new Date(now.getTime() + (track?.queueTimeoutSeconds ?? 0) * 1000);
  return {
    submissionPk: message.submissionPk,
    challengePk: message.challengePk,
    phasePk: message.phasePk,
    attempt: attempt.attempt,
    track: track?.track ?? 'UNCONFIGURED',
    teamPk: remote.participantTeamPk,
    teamName: remote.participantTeamName,
    imageUri: attempt.imageUri,
    registeredAt: isoNow(deps.clock),
    deadline: evaluationDeadline(queued, track?.timeLimitSeconds ?? 0, attempt.usedSeconds),
  };
}

async function rejectionReason(
  deps: Pick<ControlPlane, 'config' | 'store' | 'clock'>,
  message: SubmissionMessage,
  remote: EvalAiSubmission,
  ref: SubmissionRef,
): Promise<string | undefined> {
  const { config } = deps;
  if (message.challengePk !== config.challengePk) {
    return `This submission belongs to challenge ${message.challengePk}; this evaluation backend serves challenge ${config.challengePk}.`;
  }
  if (remote.challengePhasePk !== message.phasePk) {
    return `The queue message names phase ${message.phasePk} but EvalAI has the submission in phase ${remote.challengePhasePk}.`;
  }
  const track = trackOf(config, message.phasePk);
  if (!track) return `Phase ${message.phasePk} is not set up for evaluation. Please contact the challenge hosts.`;
  if (!ref.imageUri) return 'No Docker image was submitted. Push your agent with `evalai push`.';
  const allowed = (team: string) =>
    config.allowedImages.some((pattern) => new RegExp(pattern.replaceAll(TEAM_PLACEHOLDER, team)).test(ref.imageUri));
  if (!allowed(String(ref.teamPk))) {
    // Another team's repository would pass with any team in the placeholder: say which it is.
    const anyTeam = config.allowedImages.some((p) => p.includes(TEAM_PLACEHOLDER)) && allowed('[0-9]+');
    return anyTeam
      ? `The image ${ref.imageUri} is not in your team's own repository. Submit it with \`evalai push\`.`
      : `The image ${ref.imageUri} does not come from an allowed registry. Submit it with \`evalai push\`.`;
  }
  if (track.requiresQualifier && !(await deps.store.hasQualification(ref.teamPk, track.track))) {
    return QUALIFIER_REQUIRED;
  }
  const budget = deps.config.budget;
  if (!budget) return undefined;
  return budgetRefusalAtRegister(await deps.store.listAll(), ref, budget, deps.clock.now());
}

/** Submission and challenge ids from a message that failed validation, if they are there at all. */
export function idsOf(event: unknown): MessageIds | undefined {
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

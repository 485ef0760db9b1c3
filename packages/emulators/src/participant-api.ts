import { EVALAI_STATUSES, type EvalAiStatus } from '@pitwall/domain';
import { type Call, serializeSubmission } from './call.js';
import { fields, HttpError } from './http-error.js';

/** GET …/submission/<pk>: for a host, and for the user who submitted it. */
export function getSubmission({ challenge, user, params, base }: Call) {
  const s = challenge.found(Number(params[0]));
  if (!user.host && s.createdBy !== user.token) {
    throw new HttpError(401, { error: 'Sorry, you are not authorized to access this submission.' });
  }
  return serializeSubmission(s, base);
}

/** POST …/challenge_phase/<pk>/submission/: what `evalai push` sends once the image is pushed. */
export async function submit({ challenge, user, params, body, base }: Call) {
  const data = fields(body);
  const image = data.submitted_image_uri;
  const team = data.team_name;
  if (typeof image !== 'string' || !image)
    throw new HttpError(400, { error: 'Error in submitted_image_uri from submission file' });
  if (typeof team !== 'string' || !team)
    throw new HttpError(403, { error: "You haven't participated in the challenge" });
  const submission = challenge.createSubmission({
    phasePk: Number(params[1]),
    teamPk: challenge.teamPkOf(team),
    teamName: team,
    imageUri: image,
    createdBy: user.token,
  });
  await challenge.options.onSubmission?.(submission, challenge.messageFor(submission.id));
  return serializeSubmission(submission, base);
}

/** POST submissions/<pk>/resume/: resume_submission's checks, in its order (the challenge is active and remote here). */
export async function resumeSubmission({ challenge, user, params }: Call) {
  const s = challenge.found(Number(params[0]));
  if (s.status !== 'failed') throw new HttpError(400, { error: 'Only failed submissions can be resumed' });
  if (!user.host) throw new HttpError(403, { error: 'Only challenge hosts are allowed to resume a submission' });
  if (!challenge.options.allowResumingSubmissions) {
    throw new HttpError(406, { error: `Challenge ${challenge.title} does not allow resuming submissions.` });
  }
  challenge.resume(s.id);
  await challenge.options.onSubmission?.(s, challenge.messageFor(s.id));
  return { success: 'Submission is successfully resumed' };
}

/** PATCH update_submission_meta: a partial SubmissionSerializer, any of EvalAI's statuses, from the participant too. */
export function updateSubmissionMeta({ challenge, user, params, body, base }: Call) {
  const s = challenge.found(Number(params[1]));
  if (!user.host && s.createdBy !== user.token) throw new HttpError(403, { error: 'Submission does not exist' });
  const wanted = fields(body).status;
  if (wanted !== undefined) {
    const status = String(wanted).toLowerCase();
    if (!(EVALAI_STATUSES as readonly string[]).includes(status)) {
      throw new HttpError(400, { status: [`"${String(wanted)}" is not a valid choice.`] });
    }
    challenge.setStatus(s, status as EvalAiStatus, user.host ? 'host' : 'participant');
  }
  return serializeSubmission(s, base);
}

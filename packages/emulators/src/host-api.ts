import type { EvalAiStatus } from '@pitwall/domain';
import { type Call, serializeSubmission } from './call.js';
import { DEFAULT_MAX_CONCURRENT } from './challenge.js';
import { fields, HttpError } from './http-error.js';
import type { EmulatedSubmission, LeaderboardRow } from './model.js';
import { type ResultEntry, resultEntries } from './result-rules.js';

const NOT_A_HOST = { error: 'Sorry, you are not authorized to make this request!' };
/** The statuses the host list filter takes (§7); anything else is a 400. */
const LISTABLE: readonly string[] = [
  'submitted',
  'running',
  'queued',
  'resuming',
  'failed',
  'cancelled',
  'finished',
  'submitting',
];
const UPDATED = { success: 'Submission result has been successfully updated' };

function requireHost({ user, challenge, params }: Call): void {
  if (!user.host || Number(params[0]) !== challenge.options.challengePk) throw new HttpError(400, NOT_A_HOST);
}

/** The phase detail: the fields of ChallengePhase Pitwall reads, for anyone signed in. */
export function phaseDetail({ challenge, params }: Call) {
  const [challengePk, phasePk] = params.map(Number);
  // challenge_phase_detail: 406 for a challenge it does not have, and for a phase not of the challenge.
  if (challengePk !== challenge.options.challengePk) throw new HttpError(406, { error: 'Challenge does not exist' });
  const phase = challenge.options.phases.find((p) => p.pk === phasePk);
  if (!phase) {
    throw new HttpError(406, { error: `Challenge phase ${phasePk} does not exist for challenge ${challengePk}` });
  }
  return {
    id: phase.pk,
    codename: phase.codename,
    challenge: challengePk,
    is_partial_submission_evaluation_enabled: phase.partialEvaluation ?? false,
    max_concurrent_submissions_allowed: phase.maxConcurrentSubmissions ?? DEFAULT_MAX_CONCURRENT,
  };
}

/** GET …/submission/?status=: one status, strict datetime bounds, no pagination. */
export function listSubmissions(call: Call): unknown {
  requireHost(call);
  const { url, challenge, base } = call;
  const wanted = url.searchParams.get('status');
  if (wanted === null || !LISTABLE.includes(wanted)) {
    throw new HttpError(400, { error: `Invalid submission status ${wanted}` });
  }
  const bound = (name: string) => {
    const value = url.searchParams.get(name);
    if (value === null) return undefined;
    const time = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+)?(Z|[+-]\d{2}:?\d{2})?$/.test(value) ? Date.parse(value) : NaN;
    if (Number.isNaN(time)) throw new HttpError(400, { error: `Invalid ${name} datetime ${value}` });
    return time;
  };
  const after = bound('submitted_after');
  const before = bound('submitted_before');
  return [...challenge.submissions.values()]
    .filter((s) => s.status === wanted)
    .filter((s) => after === undefined || Date.parse(s.submittedAt) > after)
    .filter((s) => before === undefined || Date.parse(s.submittedAt) < before)
    .map((s) => serializeSubmission(s, base));
}

/** update_submission: PATCH sets queued or running, PUT writes the final status and the result. */
export function updateSubmission(call: Call): unknown {
  requireHost(call);
  return call.method === 'PATCH'
    ? patchStatus(call, ['queued', 'running'])
    : putResult(call, ['finished', 'failed', 'cancelled'], 'update_submission');
}

/** update_partially_evaluated_submission: PATCH merges into the rows (or sets running), PUT replaces them. */
export function updatePartiallyEvaluated(call: Call): unknown {
  requireHost(call);
  return call.method === 'PATCH'
    ? patchPartial(call)
    : putResult(call, ['failed', 'cancelled', 'finished', 'partially_evaluated'], 'partial');
}

function patchStatus({ challenge, body, base }: Call, allowed: readonly string[]): unknown {
  const data = fields(body);
  const s = challenge.found(Number(data.submission));
  const status = String(data.submission_status ?? '').toLowerCase();
  if (typeof data.job_name === 'string' && data.job_name) s.jobName.push(data.job_name.toLowerCase());
  if (!allowed.includes(status)) throw new HttpError(400, { error: 'Sorry, submission status is invalid' });
  s.startedAt = new Date(challenge.now()).toISOString();
  challenge.setStatus(s, status as EvalAiStatus, 'PATCH update_submission');
  return serializeSubmission(s, base);
}

function patchPartial(call: Call): unknown {
  const { challenge, body } = call;
  const data = fields(body);
  const status = String(data.submission_status ?? '').toLowerCase();
  if (status === 'running') return patchStatus(call, ['running']);
  if (status !== 'partially_evaluated' && status !== 'finished') {
    throw new HttpError(400, { error: 'Sorry, submission status is invalid' });
  }
  const s = challenge.found(Number(data.submission));
  const entries = resultEntries(challenge, data, true);
  const rows = entries.map((entry) => {
    const row = challenge.leaderboard.get(`${s.id}/${entry.split.codename}`);
    if (!row) {
      throw new HttpError(400, {
        error: `Leaderboard Data does not exist with phase_id: ${data.challenge_phase} andsubmission id: ${s.id}`,
      });
    }
    return row;
  });
  entries.forEach((entry, index) => {
    const row = rows[index] as LeaderboardRow;
    row.accuracies = { ...row.accuracies, ...entry.accuracies };
  });
  finishWrite(call, s, data, entries, status as EvalAiStatus, 'PATCH partial');
  return UPDATED;
}

function putResult(call: Call, allowed: readonly string[], via: string): unknown {
  const { challenge, body } = call;
  const data = fields(body);
  const s = challenge.found(Number(data.submission));
  const status = String(data.submission_status ?? '').toLowerCase();
  if (!allowed.includes(status)) throw new HttpError(400, { error: 'Sorry, submission status is invalid' });
  // Only results are read, and only for these: a failed PUT ignores result and challenge_phase.
  const scored = status === 'finished' || (via === 'partial' && status === 'partially_evaluated');
  const entries = scored ? resultEntries(challenge, data, via === 'partial') : [];
  for (const entry of entries) {
    challenge.leaderboard.set(`${s.id}/${entry.split.codename}`, {
      submissionPk: s.id,
      teamName: s.teamName,
      split: entry.split.codename,
      splitId: entry.split.id,
      accuracies: entry.accuracies,
    });
  }
  finishWrite(call, s, data, entries, status as EvalAiStatus, `PUT ${via}`);
  return UPDATED;
}

function finishWrite(
  { challenge }: Call,
  s: EmulatedSubmission,
  data: Record<string, unknown>,
  entries: readonly ResultEntry[],
  status: EvalAiStatus,
  via: string,
): void {
  for (const key of ['stdout', 'stderr']) {
    // EvalAI saves these with ContentFile(...): null is a server error there.
    if (key in data && data[key] === null) {
      throw new HttpError(500, { error: `'NoneType' object has no attribute 'encode'` });
    }
  }
  s.stdout = String(data.stdout ?? '');
  s.stderr = String(data.stderr ?? '');
  if ('metadata' in data) s.metadata = String(data.metadata ?? '');
  s.resultFile = `[${entries
    .filter((e) => e.show)
    .map((e) => e.raw)
    .join(', ')}]`;
  s.completedAt = new Date(challenge.now()).toISOString();
  challenge.setStatus(s, status, via);
}

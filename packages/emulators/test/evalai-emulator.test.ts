import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { EvalAiEmulator } from '../src/index.js';
import { pythonReprOfJson } from '../src/python-repr.js';

// Each rule is asserted on the server's own answer, with plain fetch: none of Pitwall's client is involved.
const CHALLENGE = 203;
const PHASE = 527;
const PARTIAL_PHASE = 528;
const HOST = 'host-token';
const PARTICIPANT = 'participant-token';
const OUTSIDER = 'outsider-token';
const UNVERIFIED = 'unverified-token';
const LABELS = ['Driving score', 'Route completion'];

let time = Date.parse('2026-12-01T10:00:00Z');
let evalai: EvalAiEmulator;
let url: string;

beforeAll(async () => {
  evalai = new EvalAiEmulator({
    challengePk: CHALLENGE,
    phases: [
      { pk: PHASE, codename: 'sensors', splits: ['leaderboard'], maxConcurrentSubmissions: 1 },
      { pk: PARTIAL_PHASE, codename: 'sensors-partial', splits: ['leaderboard'], partialEvaluation: true },
    ],
    labels: LABELS,
    hostToken: HOST,
    participantToken: PARTICIPANT,
    users: [
      { token: OUTSIDER, host: false },
      { token: UNVERIFIED, host: true, emailVerified: false },
    ],
    requestsPerMinute: 10_000,
    now: () => time,
    allowResumingSubmissions: true,
  });
  url = await evalai.start();
});
afterAll(() => evalai.close());

let team = 0;
function submission(phasePk = PHASE) {
  team += 1;
  return evalai.createSubmission({ phasePk, teamPk: team, teamName: `team ${team}`, imageUri: 'x/agent:1' });
}

async function call(method: string, path: string, body?: unknown, token: string | null = HOST) {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: {
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> & unknown[] };
}

const update = `/api/jobs/challenge/${CHALLENGE}/update_submission/`;
const partial = `/api/jobs/challenges/${CHALLENGE}/update_partially_evaluated_submission/`;
const result = (accuracies: Record<string, unknown>, split = 'leaderboard') =>
  JSON.stringify([{ split, show_to_participant: true, accuracies }]);
const put = (pk: number, status: string, extra: Record<string, unknown> = {}) => ({
  challenge_phase: PHASE,
  submission: pk,
  submission_status: status,
  stdout: '',
  stderr: '',
  metadata: '',
  result: '[]',
  ...extra,
});
const board = async (phasePk = PHASE) =>
  (
    await call(
      'GET',
      `/api/jobs/challenge_phase_split/${evalai.splitId(phasePk, 'leaderboard')}/leaderboard/`,
      undefined,
      null,
    )
  ).body as unknown as { count: number; results: { submission__id: number; result: unknown[] }[] };

describe('the EvalAI emulator, rule by rule (docs/evalai.md)', () => {
  beforeEach(() => {
    time += 61_000; // a fresh throttle window for every rule
  });

  it('sets partially_evaluated and completed_at on any partial PUT, even where partial evaluation is off', async () => {
    const s = submission();
    const first = await call(
      'PUT',
      partial,
      put(s.id, 'partially_evaluated', { result: result({ 'Driving score': 10 }) }),
    );
    expect(first).toEqual({ status: 200, body: { success: 'Submission result has been successfully updated' } });
    expect(evalai.get(s.id).status).toBe('partially_evaluated');
    const completed = evalai.get(s.id).completedAt;
    expect(completed).not.toBeNull();
    time += 5_000;
    await call('PUT', partial, put(s.id, 'partially_evaluated', { result: result({ 'Driving score': 20 }) }));
    expect(evalai.get(s.id).completedAt).not.toBe(completed); // on every call
    // …and hidden from the board of a phase without partial evaluation until finished
    expect((await board()).results.some((r) => r.submission__id === s.id)).toBe(false);
  });

  it('shows partially evaluated rows on the board of a partial-evaluation phase, extra keys accepted', async () => {
    const s = submission(PARTIAL_PHASE);
    const answer = await call(
      'PUT',
      partial,
      put(s.id, 'partially_evaluated', {
        challenge_phase: PARTIAL_PHASE,
        result: result({ 'Driving score': 5, extra: 1 }),
      }),
    );
    expect(answer.status).toBe(200);
    const row = (await board(PARTIAL_PHASE)).results.find((r) => r.submission__id === s.id);
    expect(row?.result).toEqual([5, '#']);
  });

  it('lets every write replace a cancel: last writer wins', async () => {
    const s = submission();
    const cancel = await call(
      'PATCH',
      `/api/jobs/challenges/${CHALLENGE}/submissions/${s.id}/update_submission_meta/`,
      { status: 'cancelled' },
      PARTICIPANT,
    );
    expect(cancel.body.status).toBe('cancelled');
    expect((await call('PATCH', update, { submission: s.id, submission_status: 'running' })).body.status).toBe(
      'running',
    );
    evalai.cancel(s.id);
    expect((await call('PUT', partial, put(s.id, 'partially_evaluated', { result: result({}) }))).status).toBe(200);
    expect(evalai.get(s.id).status).toBe('partially_evaluated');
    evalai.cancel(s.id);
    const done = await call(
      'PUT',
      update,
      put(s.id, 'finished', { result: result({ 'Driving score': 90, 'Route completion': 100 }) }),
    );
    expect(done.status).toBe(200);
    expect(evalai.get(s.id).status).toBe('finished');
    expect((await board()).results.find((r) => r.submission__id === s.id)?.result).toEqual([90, 100]);
  });

  it("counts submitted, submitting, resuming, queued and running against the team's limit, and answers 406", async () => {
    const first = await call(
      'POST',
      `/api/jobs/challenge/${CHALLENGE}/challenge_phase/${PHASE}/submission/`,
      {
        team_name: 'limited',
        submitted_image_uri: 'x/agent:1',
      },
      PARTICIPANT,
    );
    expect(first.status).toBe(200);
    const push = () =>
      call(
        'POST',
        `/api/jobs/challenge/${CHALLENGE}/challenge_phase/${PHASE}/submission/`,
        {
          team_name: 'limited',
          submitted_image_uri: 'x/agent:2',
        },
        PARTICIPANT,
      );
    const meta = `/api/jobs/challenges/${CHALLENGE}/submissions/${first.body.id}/update_submission_meta/`;
    for (const status of ['submitted', 'submitting', 'resuming', 'queued', 'running']) {
      await call('PATCH', meta, { status });
      const refused = await push();
      expect(refused.status).toBe(406);
      expect(refused.body.error).toMatch(/^You have 1 submissions that are being processed/);
    }
    // One partial result and the submission no longer counts (measured on the real server).
    await call('PUT', partial, put(Number(first.body.id), 'partially_evaluated', { result: result({}) }));
    expect((await push()).status).toBe(200);
  });

  it('tells the phase’s max_concurrent_submissions_allowed (3 unless set), and 406 for a phase it does not have', async () => {
    const phase = (pk: number, challenge = CHALLENGE) =>
      call('GET', `/api/challenges/challenge/${challenge}/challenge_phase/${pk}`, undefined, PARTICIPANT);
    expect((await phase(PHASE)).body).toMatchObject({ id: PHASE, max_concurrent_submissions_allowed: 1 });
    expect((await phase(PARTIAL_PHASE)).body).toMatchObject({ max_concurrent_submissions_allowed: 3 });
    // EvalAI's challenge_phase_detail: 406 for a phase not of the challenge, and for a challenge it does not have.
    expect(await phase(999)).toEqual({
      status: 406,
      body: { error: `Challenge phase 999 does not exist for challenge ${CHALLENGE}` },
    });
    expect(await phase(PHASE, 1)).toEqual({ status: 406, body: { error: 'Challenge does not exist' } });
  });

  it('throttles on a sliding 60-second log, not a calendar minute', async () => {
    const limited = new EvalAiEmulator({
      challengePk: CHALLENGE,
      phases: [{ pk: PHASE, codename: 'p', splits: ['leaderboard'] }],
      labels: LABELS,
      hostToken: HOST,
      requestsPerMinute: 10,
      now: () => time,
    });
    const limitedUrl = await limited.start();
    try {
      const s = limited.createSubmission({ phasePk: PHASE, teamPk: 1, teamName: 't', imageUri: 'x' });
      const get = () =>
        fetch(`${limitedUrl}/api/jobs/submission/${s.id}`, { headers: { Authorization: `Bearer ${HOST}` } });
      time = Math.ceil(time / 60_000) * 60_000 + 59_000; // one second before a minute boundary
      for (let i = 0; i < 10; i++) expect((await get()).status).toBe(200);
      time += 2_000; // one second after it
      const after = await get();
      expect(after.status).toBe(429);
      expect(after.headers.get('retry-after')).toBe('58');
      expect(((await after.json()) as { detail: string }).detail).toMatch(/^Request was throttled/);
      time += 58_000;
      expect((await get()).status).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it('answers a user who hosts nothing as EvalAI does: 401 on GET submission, 400 on writes and the list', async () => {
    const s = submission();
    expect(await call('GET', `/api/jobs/submission/${s.id}`, undefined, OUTSIDER)).toEqual({
      status: 401,
      body: { error: 'Sorry, you are not authorized to access this submission.' },
    });
    const refused = { status: 400, body: { error: 'Sorry, you are not authorized to make this request!' } };
    expect(await call('PATCH', update, { submission: s.id, submission_status: 'running' }, OUTSIDER)).toEqual(refused);
    expect(await call('PUT', update, put(s.id, 'failed'), OUTSIDER)).toEqual(refused);
    expect(await call('PUT', partial, put(s.id, 'partially_evaluated'), OUTSIDER)).toEqual(refused);
    expect(
      await call('GET', `/api/jobs/challenge/${CHALLENGE}/submission/?status=submitted`, undefined, OUTSIDER),
    ).toEqual(refused);
    // a host of this challenge is not a host of another one
    expect(await call('GET', `/api/jobs/challenge/999/submission/?status=submitted`)).toEqual(refused);
  });

  it('answers an unverified host 403, a missing header 401, a bad token 401 token_not_valid, an unknown pk 404', async () => {
    const s = submission();
    expect(await call('GET', `/api/jobs/submission/${s.id}`, undefined, UNVERIFIED)).toEqual({
      status: 403,
      body: { detail: 'Please verify your email!' },
    });
    expect(await call('GET', `/api/jobs/submission/${s.id}`, undefined, null)).toEqual({
      status: 401,
      body: { detail: 'Authentication credentials were not provided.' },
    });
    const bad = await call('GET', `/api/jobs/submission/${s.id}`, undefined, 'rotated-away');
    expect(bad.status).toBe(401);
    expect(bad.body.code).toBe('token_not_valid');
    const unknown = await call('GET', '/api/jobs/submission/999999');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toHaveProperty('error');
    expect(unknown.body).not.toHaveProperty('detail');
  });

  it('accepts a finished PUT with a schema label missing, and refuses an unknown label', async () => {
    const s = submission();
    const missing = await call('PUT', update, put(s.id, 'finished', { result: result({ 'Driving score': 1 }) }));
    expect(missing.status).toBe(200);
    expect(evalai.leaderboard.get(`${s.id}/leaderboard`)?.accuracies).toEqual({ 'Driving score': 1 });
    const other = submission();
    const unknown = await call('PUT', update, put(other.id, 'finished', { result: result({ Speed: 1 }) }));
    expect(unknown).toEqual({
      status: 400,
      body: { error: "Following metrics are missing in theleaderboard data: ['Speed']" },
    });
    const split = await call('PUT', update, put(other.id, 'finished', { result: result({}, 'test') }));
    expect(split.status).toBe(400);
    expect(split.body.error).toMatch(/^Challenge Phase Split does not exist/);
    const raw = await call('PUT', update, put(other.id, 'finished', { result: [{ split: 'leaderboard' }] }));
    expect(raw.status).toBe(400);
    expect(raw.body.error).toMatch(/^`result` key contains invalid data/);
    expect(evalai.get(other.id).status).toBe('submitted');
  });

  it('accepts a failed PUT whatever its challenge_phase says, and refuses stdout null with a 500', async () => {
    const s = submission();
    expect((await call('PUT', update, put(s.id, 'failed', { challenge_phase: 424242 }))).status).toBe(200);
    expect(evalai.get(s.id).status).toBe('failed');
    expect((await call('PUT', update, put(s.id, 'failed', { stdout: null }))).status).toBe(500);
  });

  it('updates any submission through /challenge/<c>/ when the caller hosts <c>', async () => {
    const s = submission();
    // The body names the submission; nothing checks it against the path's challenge.
    expect(
      (await call('PATCH', update, { submission: s.id, submission_status: 'queued', job_name: 'JOB-A' })).body,
    ).toMatchObject({
      status: 'queued',
      job_name: ['job-a'],
    });
    expect((await call('PATCH', update, { submission: s.id, submission_status: 'finished' })).status).toBe(400);
  });

  it('lets update_submission_meta set any status, not only cancelled', async () => {
    const s = submission();
    const meta = `/api/jobs/challenges/${CHALLENGE}/submissions/${s.id}/update_submission_meta/`;
    expect((await call('PATCH', meta, { status: 'finished' }, PARTICIPANT)).body.status).toBe('finished');
    expect((await call('PATCH', meta, { status: 'bogus' }, PARTICIPANT)).status).toBe(400);
  });

  it('resumes only a failed submission, keeping its pk, for a host, where the challenge allows resuming', async () => {
    const s = submission();
    const resume = `/api/jobs/submissions/${s.id}/resume/`;
    expect(await call('POST', resume)).toEqual({
      status: 400,
      body: { error: 'Only failed submissions can be resumed' },
    });
    await call('PUT', update, {
      submission: s.id,
      submission_status: 'failed',
      result: '[]',
      stdout: '',
      stderr: 'x',
      metadata: '',
    });
    const hostsOnly = { status: 403, body: { error: 'Only challenge hosts are allowed to resume a submission' } };
    expect(await call('POST', resume, undefined, OUTSIDER)).toEqual(hostsOnly);
    expect(await call('POST', resume, undefined, PARTICIPANT)).toEqual(hostsOnly); // its creator too
    expect(await call('POST', '/api/jobs/submissions/99999/resume/')).toEqual({
      status: 404,
      body: { error: 'Submission 99999 does not exist' },
    });
    const resumed = await call('POST', resume);
    expect(resumed).toEqual({ status: 200, body: { success: 'Submission is successfully resumed' } });
    const now = await call('GET', `/api/jobs/submission/${s.id}`);
    expect(now.body).toMatchObject({ id: s.id, status: 'resuming', rerun_resumed_at: new Date(time).toISOString() });
  });

  it('refuses every resume with 406 on a challenge that does not allow resuming (EvalAI’s default)', async () => {
    const strict = new EvalAiEmulator({
      challengePk: CHALLENGE,
      phases: [{ pk: PHASE, codename: 'sensors', splits: ['leaderboard'] }],
      labels: LABELS,
      hostToken: HOST,
      title: 'CARLA AD',
    });
    const strictUrl = await strict.start();
    try {
      const s = strict.createSubmission({ phasePk: PHASE, teamPk: 1, teamName: 'a', imageUri: 'x/agent:1' });
      strict.submissions.set(s.id, { ...s, status: 'failed' });
      const response = await fetch(`${strictUrl}/api/jobs/submissions/${s.id}/resume/`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${HOST}` },
      });
      expect(response.status).toBe(406);
      expect(await response.json()).toEqual({ error: 'Challenge CARLA AD does not allow resuming submissions.' });
    } finally {
      await strict.close();
    }
  });

  it('filters the list by one valid status and strict submitted_after/before bounds', async () => {
    const s = submission();
    const list = (query: string) => call('GET', `/api/jobs/challenge/${CHALLENGE}/submission/?${query}`);
    expect(await list('status=partially_evaluated')).toEqual({
      status: 400,
      body: { error: 'Invalid submission status partially_evaluated' },
    });
    expect((await list('status=submitted&submitted_after=yesterday')).status).toBe(400);
    const all = await list('status=submitted');
    expect(Array.isArray(all.body)).toBe(true);
    expect(all.body.map((item) => (item as { id: number }).id)).toContain(s.id);
    const exact = encodeURIComponent(s.submittedAt);
    const strict = await list(`status=submitted&submitted_after=${exact}`);
    expect(strict.body.map((item) => (item as { id: number }).id)).not.toContain(s.id);
    const before = await list(
      `status=submitted&submitted_before=${encodeURIComponent(new Date(time + 1).toISOString())}`,
    );
    expect(before.body.map((item) => (item as { id: number }).id)).toContain(s.id);
  });

  it("writes the participant's result file as Python's str() of the shown accuracies", async () => {
    const s = submission();
    const text = JSON.stringify([
      {
        split: 'leaderboard',
        show_to_participant: true,
        accuracies: { 'Driving score': 75.0, 'Route completion': 100 },
      },
    ]).replace('"Driving score":75', '"Driving score":75.0');
    await call('PUT', update, put(s.id, 'finished', { result: text }));
    const file = (await call('GET', `/api/jobs/submission/${s.id}`)).body.submission_result_file as string;
    expect(await (await fetch(file)).text()).toBe("[{'Driving score': 75.0, 'Route completion': 100}]");
    expect(pythonReprOfJson('{"a":[true,null,1e-05,"it\'s"]}')).toBe(`{'a': [True, None, 1e-05, "it's"]}`);
  });

  it('serves the public board at challenge_phase_split/<id>/leaderboard/: paginated, best entry per team', async () => {
    const scores: [number, string, number][] = [
      [501, 'A', 99_990],
      [501, 'A', 99_999],
      [502, 'B', 99_995],
    ];
    const pks: number[] = [];
    for (const [teamPk, teamName, score] of scores) {
      const { id } = evalai.createSubmission({ phasePk: PHASE, teamPk, teamName, imageUri: 'x' });
      await call(
        'PUT',
        update,
        put(id, 'finished', { result: result({ 'Route completion': 1, 'Driving score': score }) }),
      );
      pks.push(id);
    }
    const [teamA, teamA2, teamB] = pks;
    const page = await board();
    const top = page.results.slice(0, 2);
    expect(top.map((r) => r.submission__id)).toEqual([teamA2, teamB]);
    expect(top[0]?.result).toEqual([99_999, 1]); // in label order
    expect(page).toMatchObject({ count: expect.any(Number), next: null, previous: null });
    expect(page.results.some((r) => r.submission__id === teamA)).toBe(false);
    expect((await call('GET', '/api/challenges/203/leaderboard/')).status).toBe(404);
  });

  it('accepts only queued and running on PATCH update_submission, and only terminal statuses, any case, on PUT', async () => {
    const s = submission();
    expect((await call('PATCH', update, { submission: s.id, submission_status: 'finished' })).status).toBe(400);
    expect((await call('PUT', update, put(s.id, 'running'))).status).toBe(400);
    expect((await call('PUT', update, put(s.id, 'FAILED'))).status).toBe(200);
    expect(evalai.get(s.id).status).toBe('failed');
  });

  it('publishes the message the way EvalAI does: challenge and phase as strings', () => {
    const s = submission();
    expect(JSON.parse(evalai.messageFor(s.id))).toEqual({
      challenge_pk: String(CHALLENGE),
      phase_pk: String(PHASE),
      submission_pk: s.id,
      submitted_image_uri: 'x/agent:1',
      is_static_dataset_code_upload_submission: false,
    });
    expect(JSON.parse(evalai.messageFor(s.id, { withImage: false }))).toEqual({
      challenge_pk: String(CHALLENGE),
      phase_pk: String(PHASE),
      submission_pk: s.id,
    });
  });

  it('cancels just before the nth request, or before the next request of a kind (test hook)', async () => {
    const s = submission();
    evalai.cancelBefore(s.id, { nth: 2 });
    expect((await call('GET', `/api/jobs/submission/${s.id}`)).body.status).toBe('submitted');
    expect((await call('GET', `/api/jobs/submission/${s.id}`)).body.status).toBe('cancelled');
    const t = submission();
    evalai.cancelBefore(t.id, { method: 'PATCH', path: /update_submission\/$/ });
    await call('GET', `/api/jobs/submission/${t.id}`);
    expect(evalai.get(t.id).status).toBe('submitted');
    const patched = await call('PATCH', update, { submission: t.id, submission_status: 'queued' });
    expect(patched.body.status).toBe('queued'); // the cancel landed first, and the PATCH replaced it
    expect(evalai.get(t.id).history.map((h) => h.status)).toEqual(['submitted', 'cancelled', 'queued']);
  });
});

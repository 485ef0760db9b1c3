import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import {
  EvalAiAuthError,
  EvalAiNotHostError,
  EvalAiRateLimitedError,
  EvalAiRejectedError,
  EvalAiResponseError,
  EvalAiUnavailableError,
  EvalAiUnverifiedEmailError,
  NotFoundError,
} from '@pitwall/domain';
import { EvalAiEmulator } from '@pitwall/emulators';
import { EvalAiClient, MemoryRequestBudget } from '../src/index.js';

const LABELS = ['Driving score', 'Route completion'];
const emulator = new EvalAiEmulator({
  challengePk: 7,
  phases: [{ pk: 11, codename: 'sensors', splits: ['leaderboard'] }],
  labels: LABELS,
  hostToken: 'host-token',
  queueName: 'challenge-7-queue',
  users: [
    { token: 'outsider-token', host: false },
    { token: 'unverified-token', host: true, emailVerified: false },
  ],
});
let url = '';
const client = (overrides: Partial<ConstructorParameters<typeof EvalAiClient>[0]> = {}) =>
  new EvalAiClient({
    baseUrl: url,
    token: 'host-token',
    minRetryDelayMs: 1,
    maxRetryDelayMs: 5,
    retries: 3,
    ...overrides,
  });
const result = (accuracies: Record<string, number>, split = 'leaderboard') =>
  JSON.stringify([{ split, show_to_participant: true, accuracies }]);
const update = (submissionPk: number, resultText = '[]') => ({
  submissionPk,
  phasePk: 11,
  result: resultText,
  stdout: 'out',
  stderr: '',
  metadata: '{}',
});
const listedRow = (id: number) => ({ id, status: 'submitted', participant_team: 3, challenge_phase: 11 });
let team = 0;
const newSubmission = () =>
  emulator.createSubmission({ phasePk: 11, teamPk: ++team, teamName: 'Team Ünï', imageUri: 'img' });

beforeAll(async () => {
  url = await emulator.start();
});
afterAll(() => emulator.close());
afterEach(() => {
  emulator.faults.length = 0;
});

describe('EvalAiClient against the EvalAI emulator', () => {
  it('reads a submission', async () => {
    const s = newSubmission();
    expect(await client().getSubmission(s.id)).toEqual({
      id: s.id,
      status: 'submitted',
      participantTeamPk: team,
      participantTeamName: 'Team Ünï',
      challengePhasePk: 11,
      submittedAt: s.submittedAt,
      inputFile: `${url}/media/submission_files/${s.id}.json`,
    });
  });

  it('PATCHes queued then running, appending the job name', async () => {
    const s = newSubmission();
    await client().patchStatus(7, { submissionPk: s.id, status: 'queued', jobName: 'Team-W0' });
    await client().patchStatus(7, { submissionPk: s.id, status: 'running' });
    expect(emulator.get(s.id).status).toBe('running');
    expect(emulator.get(s.id).jobName).toEqual(['team-w0']);
  });

  it('PUTs a finished result that EvalAI accepts, and the leaderboard shows it', async () => {
    const s = newSubmission();
    await client().putResult(7, 'finished', update(s.id, result({ 'Driving score': 51.2, 'Route completion': 80 })));
    expect(emulator.get(s.id).status).toBe('finished');
    expect(emulator.leaderboard.get(`${s.id}/leaderboard`)?.accuracies).toEqual({
      'Driving score': 51.2,
      'Route completion': 80,
    });
  });

  it("surfaces EvalAI's own message when a result does not match the leaderboard", async () => {
    const s = newSubmission();
    const wrong = client().putResult(7, 'finished', update(s.id, result({ 'Driving score': 1, Speed: 2 })));
    await expect(wrong).rejects.toThrow(EvalAiRejectedError);
    await expect(client().putResult(7, 'finished', update(s.id, result({ Speed: 1 })))).rejects.toThrow(
      "Following metrics are missing in theleaderboard data: ['Speed']",
    );
    await expect(
      client().putResult(7, 'finished', update(s.id, result({ 'Driving score': 1, 'Route completion': 2 }, 'test'))),
    ).rejects.toThrow('Challenge Phase Split does not exist');
  });

  it('sends partial results to the partial-evaluation endpoint', async () => {
    const s = newSubmission();
    const sent = await client().putPartialResult(
      7,
      update(s.id, result({ 'Driving score': 0, 'Route completion': 0 })),
    );
    expect(sent).toBe(true);
    expect(emulator.get(s.id).status).toBe('partially_evaluated');
  });

  it('turns 401 token_not_valid into an error that tells the host to rotate the token', async () => {
    const bad = client({ token: 'expired' }).getSubmission(1);
    await expect(bad).rejects.toThrow(EvalAiAuthError);
    await expect(client({ token: 'expired' }).getSubmission(1)).rejects.toThrow(/Rotate the token/);
  });

  it('turns 404 into NotFoundError without retrying', async () => {
    const before = emulator.requests.length;
    await expect(client().getSubmission(99_999)).rejects.toThrow(NotFoundError);
    expect(emulator.requests.length - before).toBe(1);
  });

  it('retries 5xx with backoff and then succeeds', async () => {
    const s = newSubmission();
    emulator.faults.push({ method: 'GET', status: 502, times: 2 });
    const before = emulator.requests.length;
    expect((await client().getSubmission(s.id)).id).toBe(s.id);
    expect(emulator.requests.slice(before).map((r) => r.status)).toEqual([502, 502, 200]);
  });

  it('gives up on a persistent 5xx with a transient error', async () => {
    emulator.faults.push({ method: 'GET', status: 503, times: 10 });
    await expect(client({ retries: 2 }).getSubmission(1)).rejects.toThrow(EvalAiUnavailableError);
  });

  it('waits out a short Retry-After exactly, with no backoff on top, and tries again', async () => {
    const s = newSubmission();
    emulator.faults.push({ method: 'GET', status: 429, times: 1, retryAfterSeconds: 3 });
    const waits: number[] = [];
    const answers: number[] = [];
    const evalai = client({
      sleep: async (ms) => void waits.push(ms),
      minRetryDelayMs: 400,
      onAnswer: (status) => answers.push(status),
    });
    expect((await evalai.getSubmission(s.id)).id).toBe(s.id);
    expect(waits).toEqual([3000]);
    expect(answers).toEqual([429, 200]); // each answer told, for the requests-and-429s metric
  });

  it('tells the host the token hosts nothing, needs a verified e-mail, or never arrived, without retrying', async () => {
    const s = newSubmission();
    const before = emulator.requests.length;
    const outsider = client({ token: 'outsider-token', challengePk: 7 });
    await expect(outsider.getSubmission(s.id)).rejects.toThrow(EvalAiNotHostError);
    await expect(outsider.getSubmission(s.id)).rejects.toThrow('is not a host of challenge 7');
    await expect(outsider.patchStatus(7, { submissionPk: s.id, status: 'running' })).rejects.toThrow(
      EvalAiNotHostError,
    );
    await expect(outsider.listSubmissions(7, 'submitted')).rejects.toThrow('is not a host of challenge 7');
    await expect(outsider.putResult(7, 'failed', update(s.id))).rejects.toThrow(EvalAiNotHostError);
    await expect(client({ token: 'unverified-token' }).getSubmission(s.id)).rejects.toThrow(EvalAiUnverifiedEmailError);
    expect(emulator.requests.length - before).toBe(6); // one request each: none is retried
    const stripped: typeof fetch = (input, init) => {
      const headers = new Headers(init?.headers);
      headers.delete('authorization');
      return fetch(input, { ...init, headers });
    };
    const error = await client({ fetch: stripped })
      .getSubmission(s.id)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EvalAiAuthError);
    expect((error as Error).message).toContain('The Authorization header did not reach EvalAI');
    expect(emulator.get(s.id).status).toBe('submitted');
  });

  it('reads the public leaderboard, without the token, in label order', async () => {
    const s = newSubmission();
    await client().putResult(7, 'finished', update(s.id, result({ 'Route completion': 80, 'Driving score': 99_999 })));
    const entries = await client({ token: 'not-sent' }).leaderboard(emulator.splitId(11, 'leaderboard'));
    expect(entries[0]).toEqual({
      submissionPk: s.id,
      teamName: 'Team Ünï',
      values: { 'Driving score': 99_999, 'Route completion': 80 },
    });
  });

  it('hands a long Retry-After to the caller as a rate-limit error', async () => {
    emulator.faults.push({ method: 'GET', status: 429, times: 1, retryAfterSeconds: 45 });
    const error = await client()
      .getSubmission(1)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EvalAiRateLimitedError);
    expect((error as EvalAiRateLimitedError).retryAfterSeconds).toBe(45);
  });

  it('rejects an answer that is not a submission', async () => {
    const fetch = async () => new Response(JSON.stringify({ id: 'x' }), { status: 200 });
    await expect(client({ fetch }).getSubmission(1)).rejects.toThrow(EvalAiResponseError);
  });

  it('lists the challenge’s submissions in one status', async () => {
    const waiting = newSubmission();
    const cancelled = newSubmission();
    emulator.cancel(cancelled.id);
    const listed = await client().listSubmissions(7, 'submitted');
    expect(listed.map((s) => s.id)).toContain(waiting.id);
    expect(listed.map((s) => s.id)).not.toContain(cancelled.id);
    expect(listed.every((s) => s.status === 'submitted')).toBe(true);
    const paged = async () => new Response(JSON.stringify({ count: 1, results: [{ ...listedRow(waiting.id) }] }));
    expect((await client({ fetch: paged }).listSubmissions(7, 'submitted'))[0]?.id).toBe(waiting.id);
    const notAList = async () => new Response(JSON.stringify({ detail: 'x' }));
    await expect(client({ fetch: notAList }).listSubmissions(7, 'submitted')).rejects.toThrow('is not a list');
  });

  it('reads the image from the input file, without sending the token', async () => {
    const s = emulator.createSubmission({ phasePk: 11, teamPk: ++team, teamName: 'T', imageUri: 'registry/agent:7' });
    const sent: Headers[] = [];
    const recording: typeof fetch = (input, init) => {
      sent.push(new Headers(init?.headers));
      return fetch(input, init);
    };
    const evalai = client({ fetch: recording });
    const submission = await evalai.getSubmission(s.id);
    expect(await evalai.readSubmittedImage(submission)).toBe('registry/agent:7');
    expect(sent.map((h) => h.has('authorization'))).toEqual([true, false]);
  });

  it.each([
    ['not JSON', '<html>', 'is not JSON'],
    ['without the image', '{"something": "else"}', 'names no Docker image'],
    ['too large', JSON.stringify({ submitted_image_uri: 'a', pad: 'x'.repeat(20_000) }), 'larger than'],
  ])('refuses an input file %s', async (_, file, message) => {
    const s = newSubmission();
    emulator.get(s.id).inputFile = file;
    const evalai = client();
    const error = await evalai.readSubmittedImage(await evalai.getSubmission(s.id)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EvalAiResponseError);
    expect((error as Error).message).toContain(message);
  });

  it('reads an input file only over https or from the EvalAI server itself', async () => {
    const s = await client().getSubmission(newSubmission().id);
    const elsewhere = { ...s, inputFile: 'http://169.254.169.254/latest/meta-data/' };
    await expect(client().readSubmittedImage(elsewhere)).rejects.toThrow('is not an https URL');
  });

  it('spends the shared budget by priority: partial results give way first', async () => {
    const s = newSubmission();
    const budget = new MemoryRequestBudget(4, () => 0);
    const limited = client({ budget });
    const partial = update(s.id, result({ 'Driving score': 0, 'Route completion': 0 }));
    expect(await limited.putPartialResult(7, partial)).toBe(true); // 1 of 2 partial slots (50%)
    expect(await limited.putPartialResult(7, partial)).toBe(true);
    expect(await limited.putPartialResult(7, partial)).toBe(false);
    await limited.getSubmission(s.id); // read may use 80% = 3
    await expect(limited.getSubmission(s.id)).rejects.toThrow(EvalAiRateLimitedError);
    await limited.putResult(7, 'failed', update(s.id)); // results may use the whole window
    await expect(limited.putResult(7, 'failed', update(s.id))).rejects.toThrow(EvalAiRateLimitedError);
  });
});

describe("EvalAiClient's resume, under EvalAI's rules", () => {
  it('names a resume by a user who is not a host, and one the challenge does not allow', async () => {
    const s = newSubmission();
    emulator.submissions.set(s.id, { ...s, status: 'failed' });
    await expect(client({ token: 'outsider-token' }).resumeSubmission(s.id)).rejects.toThrow(EvalAiNotHostError);
    const refused = client().resumeSubmission(s.id); // this emulator's challenge does not allow resuming
    await expect(refused).rejects.toThrow(EvalAiRejectedError);
    await expect(refused).rejects.toThrow(/\(406\).*does not allow resuming submissions/);
  });
});

describe("EvalAiClient.queueProxy (EvalAI's REST proxy of the challenge's queue)", () => {
  it('hands out one message at a time until it is deleted, then the next, then nothing', async () => {
    emulator.queued.length = 0;
    const [a, b] = [newSubmission(), newSubmission()];
    const queue = client().queueProxy('challenge-7-queue');
    const first = await queue.receive();
    expect(first?.body).toEqual(JSON.parse(emulator.messageFor(a.id)));
    const second = await queue.receive(); // the first is invisible for 30 s
    expect(second?.body).toEqual(JSON.parse(emulator.messageFor(b.id)));
    await queue.delete(first?.receiptHandle ?? '');
    await queue.delete(second?.receiptHandle ?? '');
    expect(await queue.receive()).toBeUndefined();
    expect(emulator.requests.filter((r) => r.path.includes('queues/')).map((r) => `${r.method} ${r.status}`)).toEqual(
      expect.arrayContaining(['GET 200', 'POST 200']),
    );
  });

  it('tries a delete that EvalAI answers with its 500 page once more, no further: two slots of the budget', async () => {
    emulator.queued.length = 0;
    newSubmission();
    const queue = client().queueProxy('challenge-7-queue');
    const message = await queue.receive();
    emulator.faults.push({ method: 'POST', path: /queues\//, status: 500, html: true, times: 5 });
    const before = emulator.requests.length;
    await expect(queue.delete(message?.receiptHandle ?? '')).rejects.toBeInstanceOf(EvalAiUnavailableError);
    const tries = emulator.requests.slice(before).filter((r) => r.method === 'POST' && r.path.includes('queues/'));
    expect(tries.map((r) => r.status)).toEqual([500, 500]);
  });

  it("answers a delete as EvalAI's view does: SQS's refusal of a handle is its 500 page, an empty one a 400", async () => {
    const remove = (body: unknown) =>
      fetch(`${url}/api/jobs/queues/challenge-7-queue/`, {
        method: 'POST',
        headers: { Authorization: 'Bearer host-token', 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
    const refused = await remove({ receipt_handle: 'not-a-handle-sqs-gave' });
    expect(refused.status).toBe(500);
    expect(refused.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await refused.text()).toContain('Server Error (500)');
    expect((await remove({})).status).toBe(500); // request.data["receipt_handle"]: a KeyError
    const empty = await remove({ receipt_handle: '' });
    expect({ status: empty.status, body: await empty.json() }).toEqual({
      status: 400,
      body: { error: 'Please add message receipt handle in the body' },
    });
  });

  it('names the refusal of a queue that does not exist, and of a token that is not the host’s', async () => {
    await expect(client().queueProxy('no-such-queue').receive()).rejects.toBeInstanceOf(EvalAiRejectedError);
    await expect(client({ token: 'outsider-token' }).queueProxy('challenge-7-queue').receive()).rejects.toBeInstanceOf(
      EvalAiAuthError,
    );
  });
});

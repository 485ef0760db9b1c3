import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type EvalAiHost, EvalAiRejectedError, type EvalAiStatus, NotFoundError } from '@pitwall/domain';
import { MemoryEvalAi } from '@pitwall/domain/testing';
import { EvalAiEmulator } from '@pitwall/emulators';
import { EvalAiClient } from '../src/index.js';

// One contract, two EvalAIs: the in-memory double the unit tier uses must answer as the client over the
// emulator (the model of EvalAI's server) does, so it cannot drift from the real behaviour.
interface Side {
  readonly host: EvalAiHost;
  submit(teamPk: number): number;
  setStatus(pk: number, status: EvalAiStatus): void;
  statusOf(pk: number): EvalAiStatus;
}

const emulator = new EvalAiEmulator({
  challengePk: 7,
  phases: [{ pk: 11, codename: 'p', splits: ['leaderboard'] }],
  labels: ['Driving score'],
  hostToken: 'host',
  participantToken: 'participant',
  allowResumingSubmissions: true,
});
let url = '';
beforeAll(async () => {
  url = await emulator.start();
});
afterAll(() => emulator.close());

const overEmulator = (): Side => ({
  host: new EvalAiClient({ baseUrl: url, token: 'host', retries: 0 }),
  submit: (teamPk) => emulator.createSubmission({ phasePk: 11, teamPk, teamName: 'T', imageUri: 'img:1' }).id,
  setStatus: (pk, status) => {
    emulator.get(pk).status = status;
  },
  statusOf: (pk) => emulator.get(pk).status,
});
const inMemory = (): Side => {
  const evalai = new MemoryEvalAi();
  return {
    host: evalai,
    submit: (teamPk) => evalai.submit({ phasePk: 11, teamPk, teamName: 'T', imageUri: 'img:1' }).id,
    setStatus: (pk, status) => evalai.setStatus(pk, status),
    statusOf: (pk) => evalai.statusOf(pk),
  };
};

const update = (submissionPk: number) => ({
  submissionPk,
  phasePk: 11,
  result: JSON.stringify([{ split: 'leaderboard', show_to_participant: true, accuracies: { 'Driving score': 1 } }]),
  stdout: '',
  stderr: '',
  metadata: '',
});

let team = 0;
describe.each([
  ['EvalAiClient over the emulator', overEmulator],
  ['MemoryEvalAi', inMemory],
] as const)('the EvalAI host contract: %s', (_, side) => {
  it('reads a submission, with its team, phase and time', async () => {
    const s = side();
    const pk = s.submit(++team);
    expect(await s.host.getSubmission(pk)).toMatchObject({
      id: pk,
      status: 'submitted',
      participantTeamPk: team,
      participantTeamName: 'T',
      challengePhasePk: 11,
      submittedAt: expect.any(String),
    });
    expect(await s.host.readSubmittedImage(await s.host.getSubmission(pk))).toBe('img:1');
  });

  it('reads a phase’s limit of submissions in progress per team (EvalAI’s default of 3)', async () => {
    expect(await side().host.getPhase(7, 11)).toEqual({ id: 11, maxConcurrentSubmissions: 3 });
  });

  it('lets the last writer win, over a cancel too', async () => {
    const s = side();
    const pk = s.submit(++team);
    await s.host.patchStatus(7, { submissionPk: pk, status: 'queued' });
    s.setStatus(pk, 'cancelled');
    await s.host.patchStatus(7, { submissionPk: pk, status: 'running' });
    expect(s.statusOf(pk)).toBe('running');
    s.setStatus(pk, 'cancelled');
    expect(await s.host.putPartialResult(7, update(pk))).toBe(true);
    expect(s.statusOf(pk)).toBe('partially_evaluated');
    s.setStatus(pk, 'cancelled');
    await s.host.putResult(7, 'finished', update(pk));
    expect(s.statusOf(pk)).toBe('finished');
  });

  it('lists the submissions in one status', async () => {
    const s = side();
    const waiting = s.submit(++team);
    const failed = s.submit(++team);
    await s.host.putResult(7, 'failed', { ...update(failed), result: '[]' });
    const listed = (await s.host.listSubmissions(7, 'submitted')).map((x) => x.id);
    expect(listed).toContain(waiting);
    expect(listed).not.toContain(failed);
  });

  it('lists only those submitted after a time, strictly after it (the status watch looks back no further)', async () => {
    const s = side();
    const older = s.submit(++team);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const newer = s.submit(++team);
    s.setStatus(older, 'cancelled');
    s.setStatus(newer, 'cancelled');
    const since = (await s.host.getSubmission(older)).submittedAt ?? '';
    const listed = (await s.host.listSubmissions(7, 'cancelled', { submittedAfter: since })).map((x) => x.id);
    expect(listed).toContain(newer);
    expect(listed).not.toContain(older);
  });

  it('resumes only a failed submission, as resuming with the same pk', async () => {
    const s = side();
    const pk = s.submit(++team);
    await expect(s.host.resumeSubmission(pk)).rejects.toThrow(EvalAiRejectedError);
    expect(s.statusOf(pk)).toBe('submitted');
    await s.host.putResult(7, 'failed', { ...update(pk), result: '[]' });
    await s.host.resumeSubmission(pk);
    expect(await s.host.getSubmission(pk)).toMatchObject({ id: pk, status: 'resuming', resumedAt: expect.any(String) });
  });

  it('answers NotFoundError for an unknown submission', async () => {
    await expect(side().host.getSubmission(987_654)).rejects.toThrow(NotFoundError);
  });
});

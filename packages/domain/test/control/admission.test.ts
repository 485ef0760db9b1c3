import { describe, expect, it } from '@jest/globals';
import {
  awaitAdmission,
  deleteJobs,
  EvalAiRejectedError,
  launchWorker,
  markQueued,
  observeSubmission,
  planSubmission,
  queuePlaces,
  registerSubmission,
  type SubmissionRef,
  scheduleAdmissions,
  sweepSubmissions,
} from '../../src/index.js';
import { harness, IMAGE, PHASE_PK } from './harness.js';

// Pitwall's queue: a track's GPU budget, a team's cap, the least recent user first; EvalAI shows queued.

/** Two workers a submission, a budget of two on the track: one runs at a time. */
const queued = () =>
  harness({
    queue: { capacity: { SENSORS: 2, SENSORS_QUALIFIER: 2 }, maxConcurrentPerTeam: 1, pollSeconds: 30 },
  });

/** Registered and planned, as the state machine has it when it reaches AwaitAdmission; a new team each unless named. */
async function waiting(h: ReturnType<typeof queued>, teamPk?: number): Promise<SubmissionRef> {
  let event: unknown;
  if (teamPk === undefined) event = h.submit().event;
  else {
    const { id } = h.evalai.submit({ phasePk: PHASE_PK, teamPk, teamName: `team ${teamPk}`, imageUri: IMAGE });
    const body = JSON.stringify({
      challenge_pk: 203,
      phase_pk: PHASE_PK,
      submission_pk: id,
      submitted_image_uri: IMAGE,
    });
    event = [{ messageId: `m-${id}`, receiptHandle: 'r', body }];
  }
  const registration = await registerSubmission(h.plane, { event, executionId: `exec-${Math.random()}` });
  if (registration.action !== 'run') throw new Error(registration.action);
  await planSubmission(h.plane, registration.submission);
  h.clock.advance(1);
  return registration.submission;
}

describe('the queue', () => {
  it('admits what fits at once, and keeps the rest waiting, shown queued on EvalAI', async () => {
    const h = queued();
    const first = await waiting(h);
    expect(await awaitAdmission(h.plane, { submission: first })).toMatchObject({ phase: 'admitted', turn: 1 });
    const second = await waiting(h);
    expect(await awaitAdmission(h.plane, { submission: second })).toEqual({
      phase: 'waiting',
      turn: 1,
      waitSeconds: 30,
    });
    expect(h.evalai.statusOf(second.submissionPk)).toBe('queued');
    expect(h.jobs.launches).toEqual([]); // no pods for either yet: Launch comes after admission
    expect((await h.store.get(second.submissionPk))?.admission).toEqual({ requestedAt: expect.any(String) });
    // Later turns read the record only.
    const before = h.evalai.writesOf(second.submissionPk).length;
    expect(await awaitAdmission(h.plane, { submission: second, admission: { turn: 1 } })).toMatchObject({
      phase: 'waiting',
      turn: 2,
    });
    expect(h.evalai.writesOf(second.submissionPk)).toHaveLength(before);
  });

  it('gives released capacity to the team that used the least, not to the oldest submission', async () => {
    const h = harness({
      queue: { capacity: { SENSORS: 2, SENSORS_QUALIFIER: 2 }, maxConcurrentPerTeam: 2, pollSeconds: 30 },
    });
    const [h1, h2, h3] = [await waiting(h, 501), await waiting(h, 501), await waiting(h, 501)]; // a burst
    const light = await waiting(h, 502); // one submission, after the burst
    for (const submission of [h1, h2, h3, light]) await awaitAdmission(h.plane, { submission });
    expect((await h.store.get(h1.submissionPk))?.admission?.admittedAt).toBeDefined();
    h.clock.advance(3600);
    await deleteJobs(h.plane, h1); // an hour of two GPUs, counted to team 501
    expect((await scheduleAdmissions(h.plane)).admitted).toEqual([light.submissionPk]);
    expect((await h.plane.admissions.read()).usage.get(501)?.gpuSeconds).toBeCloseTo(2 * 3600, 0);
    expect((await h.store.get(h2.submissionPk))?.admission?.admittedAt).toBeUndefined();
  });

  it('orders the waiting by decayed use per team, and reports each one’s place', async () => {
    const h = queued();
    const running = await waiting(h);
    await awaitAdmission(h.plane, { submission: running });
    const a = await waiting(h);
    const b = await waiting(h);
    await awaitAdmission(h.plane, { submission: a });
    await awaitAdmission(h.plane, { submission: b });
    const places = await queuePlaces(h.plane, await h.store.listAll());
    expect([...places.entries()]).toEqual([
      [a.submissionPk, { position: 1 }], // no run has ended on the track yet: no estimate
      [b.submissionPk, { position: 2 }],
    ]);
    h.clock.advance(600);
    // The first run drove half its routes in 602 s on two GPUs, then failed.
    const total = (await h.store.get(running.submissionPk))?.plan?.expectedRoutes ?? 0;
    await h.store.patch(running.submissionPk, 1, { progress: { done: total / 2, total } }, h.clock.now().toISOString());
    await h.store.transition(running.submissionPk, 1, 'failed', { at: h.clock.now().toISOString() });
    await deleteJobs(h.plane, running);
    await scheduleAdmissions(h.plane); // a is admitted; b waits for a's whole route set at that rate
    const now = h.clock.now().getTime();
    expect(await queuePlaces(h.plane, await h.store.listAll())).toEqual(
      new Map([[b.submissionPk, { position: 1, estimatedStartAt: new Date(now + 2 * 602_000).toISOString() }]]),
    );
  });

  it('never fails a submission for its wait in the queue: its clocks start at admission', async () => {
    const h = queued();
    const first = await waiting(h);
    await awaitAdmission(h.plane, { submission: first });
    const patient = await waiting(h);
    await awaitAdmission(h.plane, { submission: patient });
    h.clock.advance(3 * 24 * 3600); // three days, past the queue timeout (24 h) and the time limit (1 h)
    for (const { executionId } of await h.store.listAll()) h.executions.running.add(executionId ?? '');
    expect((await sweepSubmissions(h.plane)).failed).toEqual([first.submissionPk]); // the one admitted, past its time
    await h.store
      .transition(first.submissionPk, 1, 'failed', { at: h.clock.now().toISOString() })
      .catch(() => undefined);
    // Its failure gave back its slots (failSubmission deletes its jobs): the patient one is next.
    expect((await scheduleAdmissions(h.plane)).admitted).toEqual([patient.submissionPk]);
    expect(Date.parse((await h.store.get(patient.submissionPk))?.deadline ?? '')).toBe(
      h.clock.now().getTime() + (24 * 3600 + 3600) * 1000,
    );
    await launchWorker(h.plane, { submission: patient, worker: 0 });
    await launchWorker(h.plane, { submission: patient, worker: 1 });
    await markQueued(h.plane, patient);
    expect((await observeSubmission(h.plane, { submission: patient })).phase).toBe('running');
  });

  it('in deadline mode admits a team with no result yet before one that has a result', async () => {
    const h = harness({
      queue: { capacity: { SENSORS: 2, SENSORS_QUALIFIER: 2 }, maxConcurrentPerTeam: 1, deadlineMode: true },
    });
    const earlier = await waiting(h, 601);
    await awaitAdmission(h.plane, { submission: earlier });
    await h.store.transition(earlier.submissionPk, 1, 'queued', { at: h.clock.now().toISOString() });
    await h.store.transition(earlier.submissionPk, 1, 'finished', { at: h.clock.now().toISOString() });
    await deleteJobs(h.plane, earlier); // team 601 has its result, and what it used counts
    h.clock.advance(30 * 24 * 3600); // so long ago that its use has decayed to nothing
    const holder = await waiting(h, 603); // holds the GPUs while the other two arrive
    await awaitAdmission(h.plane, { submission: holder });
    const again = await waiting(h, 601);
    const fresh = await waiting(h, 602);
    for (const submission of [again, fresh]) await awaitAdmission(h.plane, { submission });
    await deleteJobs(h.plane, holder);
    expect((await scheduleAdmissions(h.plane)).admitted).toEqual([fresh.submissionPk]);
  });

  it('caps a team at its phase’s max_concurrent_submissions_allowed on EvalAI where the stage sets no cap', async () => {
    const h = harness({ queue: { capacity: { SENSORS: 8, SENSORS_QUALIFIER: 2 }, pollSeconds: 30 } });
    h.evalai.phaseLimits.set(PHASE_PK, 2);
    const burst = [await waiting(h, 701), await waiting(h, 701), await waiting(h, 701)];
    for (const submission of burst) await awaitAdmission(h.plane, { submission });
    const admitted = async () => {
      const records = await Promise.all(burst.map((s) => h.store.get(s.submissionPk)));
      return records.filter((r) => r?.admission?.admittedAt).length;
    };
    expect(await admitted()).toBe(2); // room for four, but EvalAI's limit on the phase is two
    expect((await h.store.get(burst[2]?.submissionPk ?? 0))?.admission?.teamCap).toBe(2);
    // The stage's own cap wins over EvalAI's.
    const staged = harness({
      queue: { capacity: { SENSORS: 8, SENSORS_QUALIFIER: 2 }, maxConcurrentPerTeam: 3, pollSeconds: 30 },
    });
    staged.evalai.phaseLimits.set(PHASE_PK, 1);
    const three = [await waiting(staged, 702), await waiting(staged, 702), await waiting(staged, 702)];
    for (const submission of three) await awaitAdmission(staged.plane, { submission });
    const records = await Promise.all(three.map((s) => staged.store.get(s.submissionPk)));
    expect(records.every((r) => r?.admission?.admittedAt && r.admission.teamCap === undefined)).toBe(true);
  });

  it('takes the default team cap when EvalAI refuses to tell the phase (406: a phase not of the challenge)', async () => {
    const h = harness({ queue: { capacity: { SENSORS: 8, SENSORS_QUALIFIER: 2 }, pollSeconds: 30 } });
    h.evalai.beforeRequest = (request) => {
      if (request === 'GET phase') {
        throw new EvalAiRejectedError(
          'EvalAI refused GET phase (406): {"error": "Challenge phase 1 does not exist"}',
          406,
        );
      }
    };
    const submission = await waiting(h, 703);
    expect(await awaitAdmission(h.plane, { submission })).toMatchObject({ phase: 'admitted' });
    expect((await h.store.get(submission.submissionPk))?.admission?.teamCap).toBeUndefined();
  });

  it('ends the wait of a submission cancelled on EvalAI', async () => {
    const h = queued();
    await awaitAdmission(h.plane, { submission: await waiting(h) });
    const cancelled = await waiting(h);
    await awaitAdmission(h.plane, { submission: cancelled });
    h.evalai.setStatus(cancelled.submissionPk, 'cancelled');
    h.clock.advance(60); // the status watch looks again
    expect(await awaitAdmission(h.plane, { submission: cancelled, admission: { turn: 1 } })).toMatchObject({
      phase: 'cancelled',
    });
  });

  it('gives back the slots of a run that ended without its Cleanup, and admits the next', async () => {
    const h = queued();
    const lost = await waiting(h);
    await awaitAdmission(h.plane, { submission: lost });
    const next = await waiting(h);
    await awaitAdmission(h.plane, { submission: next });
    await h.store.transition(lost.submissionPk, 1, 'failed', { at: h.clock.now().toISOString() });
    expect(await scheduleAdmissions(h.plane)).toEqual({
      waiting: 1,
      admitted: [next.submissionPk],
      reclaimed: [lost.submissionPk],
    });
  });

  it('finishes an admission whose slots were taken but whose record was never told (a scheduler stopped between)', async () => {
    const h = queued();
    const half = await waiting(h);
    const pk = half.submissionPk;
    const record = await h.store.get(pk);
    if (!record?.plan) throw new Error('no plan');
    const at = h.clock.now().toISOString();
    await h.store.patch(pk, 1, { admission: { requestedAt: at } }, at);
    const claim = { submissionPk: pk, attempt: 1, teamPk: record.teamPk, phasePk: record.phasePk, track: record.track };
    expect(
      await h.plane.admissions.take(
        { ...claim, workers: record.plan.workerCount },
        { trackWorkers: 2, teamPlaces: 1 },
        at,
      ),
    ).toBe(true);
    expect(await scheduleAdmissions(h.plane)).toEqual({ waiting: 0, admitted: [pk], reclaimed: [] });
    expect((await h.store.get(pk))?.admission?.admittedAt).toBe(at);
    expect(await awaitAdmission(h.plane, { submission: half, admission: { turn: 1 } })).toMatchObject({
      phase: 'admitted',
    });
  });

  it('counts the runs in flight when a queue block is added: a team’s run launched before it holds its place', async () => {
    const h = queued();
    // Launched before the stage had a queue: Register, Plan, Launch, MarkQueued, no admission.
    const { id } = h.evalai.submit({ phasePk: PHASE_PK, teamPk: 800, teamName: 'team 800', imageUri: IMAGE });
    const body = JSON.stringify({
      challenge_pk: 203,
      phase_pk: PHASE_PK,
      submission_pk: id,
      submitted_image_uri: IMAGE,
    });
    const earlier = await h.start([{ messageId: `m-${id}`, receiptHandle: 'r', body }], 'exec-early');
    expect((await h.store.get(earlier.submissionPk))?.status).toBe('queued');
    const second = await waiting(h, 800);
    expect(await awaitAdmission(h.plane, { submission: second })).toMatchObject({ phase: 'waiting' });
    expect((await h.plane.admissions.read()).holdings.map((x) => x.submissionPk)).toEqual([earlier.submissionPk]);
    const before = await h.store.get(earlier.submissionPk);
    await scheduleAdmissions(h.plane); // adopted, not admitted: its deadline is its own
    expect(await h.store.get(earlier.submissionPk)).toMatchObject({ deadline: before?.deadline });
    expect((await h.store.get(earlier.submissionPk))?.admission).toBeUndefined();
    // Its end gives the place back, as any admitted run's does.
    await h.store.transition(earlier.submissionPk, 1, 'finished', { at: h.clock.now().toISOString() });
    expect(await scheduleAdmissions(h.plane)).toMatchObject({ admitted: [second.submissionPk] });
  });

  it('refuses a queue that gives a phase’s track no room for its workers', () => {
    expect(() => harness({ queue: { capacity: { SENSORS: 1, SENSORS_QUALIFIER: 2 } } })).toThrow(
      'is 1 workers, fewer than the 2 of phase 527: its submissions would never fit',
    );
    expect(() => harness({ queue: { capacity: { SENSORS: 2 } } })).toThrow(
      'gives track SENSORS_QUALIFIER (phase 528) no workers: its submissions would wait for ever',
    );
  });

  it('admits at once on a stage with no queue', async () => {
    const h = harness();
    const { event } = h.submit();
    const registration = await registerSubmission(h.plane, { event, executionId: 'e' });
    if (registration.action !== 'run') throw new Error(registration.action);
    expect(await awaitAdmission(h.plane, { submission: registration.submission })).toEqual({
      phase: 'admitted',
      turn: 1,
      waitSeconds: 0,
    });
  });
});

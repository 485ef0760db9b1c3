import { describe, expect, it } from '@jest/globals';
import {
  awaitAdmission,
  deleteJobs,
  planSubmission,
  registerSubmission,
  type SubmissionRef,
  scheduleAdmissions,
} from '../../src/index.js';
import { harness, IMAGE, PHASE_PK } from './harness.js';

// A team's GPU-hour budget holds at admission, not only at Register: a team that queues several submissions at
// once gets only those its budget covers, counting what its runs under way are estimated to take still.

const TEAM = 700;
/** Kilometres per GPU-hour assumed before any run on the track has ended. */
const ASSUMED = 4;

type Harness = ReturnType<typeof harness>;

/** Team 700's push, registered and planned, as the state machine has it when it reaches AwaitAdmission. */
async function planned(h: Harness, executionId: string): Promise<SubmissionRef> {
  const { id } = h.evalai.submit({ phasePk: PHASE_PK, teamPk: TEAM, teamName: 'Team Burst', imageUri: IMAGE });
  const body = JSON.stringify({ challenge_pk: 203, phase_pk: PHASE_PK, submission_pk: id, submitted_image_uri: IMAGE });
  const registration = await registerSubmission(h.plane, {
    event: [{ messageId: `m-${id}`, receiptHandle: 'r', body }],
    executionId,
  });
  if (registration.action !== 'run') throw new Error(`expected run, got ${JSON.stringify(registration)}`);
  await planSubmission(h.plane, registration.submission);
  h.clock.advance(1);
  return registration.submission;
}

/** The GPU-hours one evaluation of the phase is estimated to take at the assumed rate (planned on a harness of its own). */
async function oneEvaluation(): Promise<number> {
  const h = harness();
  const submission = await planned(h, 'probe');
  return ((await h.store.get(submission.submissionPk))?.plan?.metres ?? 0) / 1000 / ASSUMED;
}

describe("a team's GPU-hour budget at admission", () => {
  it('admits of a burst only what the budget covers, reserving what the admitted runs will take', async () => {
    // Room for one evaluation and a half: each of a burst of three passes Register, one may run.
    const hours = await oneEvaluation();
    const h = harness({
      budget: { gpuHoursPerTeam: hours * 1.5 },
      queue: { capacity: { SENSORS: 8, SENSORS_QUALIFIER: 8 }, maxConcurrentPerTeam: 3, pollSeconds: 30 },
    });
    const burst = [await planned(h, 'e1'), await planned(h, 'e2'), await planned(h, 'e3')];
    const answers = [];
    for (const submission of burst) answers.push(await awaitAdmission(h.plane, { submission }));
    expect(answers.map((a) => a.phase)).toEqual(['admitted', 'refused', 'refused']);
    expect(answers[1]?.reason).toBe(
      `Your team has used 0.0 of its ${hours * 1.5} GPU-hours for the last 30 days, its evaluations under way are estimated to take ${hours.toFixed(1)} more, and this one ${hours.toFixed(1)} (its routes' kilometres at an assumed 4 km per GPU-hour, before any run on its track has ended), so this submission was not evaluated. Submit again once earlier evaluations are older than that, or ask the challenge hosts.`,
    );
    // A refused submission holds no place: a later schedule neither admits it nor counts it as waiting.
    expect(await scheduleAdmissions(h.plane)).toMatchObject({ waiting: 0, admitted: [] });
    expect((await h.admissions.read()).holdings.map((x) => x.submissionPk)).toEqual([burst[0]?.submissionPk]);
    // Its later turns give the same answer without asking the scheduler.
    expect(await awaitAdmission(h.plane, { submission: burst[1] as SubmissionRef, admission: { turn: 1 } })).toEqual({
      phase: 'refused',
      turn: 2,
      waitSeconds: 0,
      reason: answers[1]?.reason,
    });
  });

  it('admits one of a team picked together in one schedule, the others counted as admitted by then', async () => {
    const hours = await oneEvaluation();
    const h = harness({
      budget: { gpuHoursPerTeam: hours * 1.5 },
      queue: { capacity: { SENSORS: 6, SENSORS_QUALIFIER: 2 }, maxConcurrentPerTeam: 3, pollSeconds: 30 },
    });
    // Other teams hold the track while the burst queues, then their runs end: one schedule picks all three.
    const others: SubmissionRef[] = [];
    for (const executionId of ['o1', 'o2', 'o3']) {
      const registration = await registerSubmission(h.plane, { event: h.submit().event, executionId });
      if (registration.action !== 'run') throw new Error(registration.action);
      await planSubmission(h.plane, registration.submission);
      expect((await awaitAdmission(h.plane, { submission: registration.submission })).phase).toBe('admitted');
      others.push(registration.submission);
    }
    const burst = [await planned(h, 'e1'), await planned(h, 'e2'), await planned(h, 'e3')];
    for (const submission of burst) expect((await awaitAdmission(h.plane, { submission })).phase).toBe('waiting');
    for (const submission of others) await deleteJobs(h.plane, submission);
    expect((await scheduleAdmissions(h.plane)).admitted).toEqual([burst[0]?.submissionPk]);
    const phases = [];
    for (const submission of burst)
      phases.push((await awaitAdmission(h.plane, { submission, admission: { turn: 1 } })).phase);
    expect(phases).toEqual(['admitted', 'refused', 'refused']);
  });

  it('holds on a stage without a queue too, the first to arrive going first', async () => {
    const hours = await oneEvaluation();
    const h = harness({ budget: { gpuHoursPerTeam: hours * 1.5 } });
    const [first, second] = [await planned(h, 'e1'), await planned(h, 'e2')];
    // The later one is checked first: it counts the earlier one as under way, which never counts it back.
    expect((await awaitAdmission(h.plane, { submission: second as SubmissionRef })).phase).toBe('refused');
    expect((await awaitAdmission(h.plane, { submission: first as SubmissionRef })).phase).toBe('admitted');
  });

  it("counts a resumed submission's earlier attempts against its team, at Register already", async () => {
    const hours = await oneEvaluation();
    const h = harness({ budget: { gpuHoursPerTeam: hours * 1.5 } });
    const submission = await planned(h, 'e1');
    const pk = submission.submissionPk;
    // Attempt 1 ran one GPU for 60% of the estimate and crashed (the participant's fault); the host resumes it.
    const at = h.clock.now();
    const endedAt = new Date(at.getTime() + hours * 0.6 * 3_600_000).toISOString();
    const usage = [
      { attempt: 1, worker: 0, job: 'j', interruptions: 0, pods: [{ startedAt: at.toISOString(), endedAt }] },
    ];
    await h.store.patch(pk, 1, { usage, progress: { done: 0, total: 20 } }, at.toISOString());
    await h.store.transition(pk, 1, 'queued', { at: at.toISOString() });
    await h.store.transition(pk, 1, 'failed', {
      at: endedAt,
      patch: { evalaiReported: true, outcome: { status: 'failed', failureClass: 'agent_crashed' } },
    });
    h.evalai.setStatus(pk, 'resuming');
    const resumed = await registerSubmission(h.plane, {
      event: h.resumeEvent(pk),
      executionId: 'e2',
    });
    // Register refuses it already: the earlier attempt's hours and the estimate pass the budget together.
    expect(resumed).toMatchObject({ action: 'reject' });
    expect(resumed.action === 'reject' && resumed.reason).toContain(
      `Your team has used ${(hours * 0.6).toFixed(1)} of its`,
    );
  });
});

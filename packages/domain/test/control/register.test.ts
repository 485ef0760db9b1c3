import { describe, expect, it } from '@jest/globals';
import { registerSubmission } from '../../src/index.js';
import { CHALLENGE_PK, harness, IMAGE, PHASE_PK } from './harness.js';

describe('Register', () => {
  it('records a first attempt once: a second delivery is skipped', async () => {
    const h = harness();
    const { pk, event } = h.submit();
    expect(await registerSubmission(h.plane, { event, executionId: 'exec-1' })).toMatchObject({ action: 'run' });
    expect(await registerSubmission(h.plane, { event, executionId: 'exec-2' })).toMatchObject({ action: 'skip' });
    expect((await h.store.get(pk))?.executionId).toBe('exec-1');
  });

  it('continues its own registration when retried after its write went through (item 1)', async () => {
    const h = harness();
    const { pk, event } = h.submit();
    // The first try writes the record, then its answer is lost (a timeout, a transient error after the write).
    await registerSubmission(h.plane, { event, executionId: 'exec-1' });
    const registered = await h.store.get(pk);
    h.clock.advance(30);
    const retry = await registerSubmission(h.plane, { event, executionId: 'exec-1' });
    expect(retry).toEqual({ action: 'run', submission: expect.objectContaining({ submissionPk: pk, attempt: 1 }) });
    // the retry keeps the registration's own times, not new ones
    if (retry.action === 'run') expect(retry.submission.deadline).toBe(registered?.deadline);
    expect(await registerSubmission(h.plane, { event, executionId: 'exec-other' })).toMatchObject({ action: 'skip' });
  });

  it("takes an image only from the submitting team's own repository when the pattern says {team}", async () => {
    const h = harness({ allowedImages: ['^registry\\.example/challenge-participant-team-{team}:'] });
    const push = (teamPk: number, imageUri: string) => {
      const { id } = h.evalai.submit({ phasePk: PHASE_PK, teamPk, teamName: `team ${teamPk}`, imageUri });
      const body = JSON.stringify({
        challenge_pk: String(CHALLENGE_PK),
        phase_pk: String(PHASE_PK),
        submission_pk: id,
        submitted_image_uri: imageUri,
      });
      return [{ messageId: `m-${id}`, receiptHandle: 'r', body }];
    };
    const own = await registerSubmission(h.plane, {
      event: push(7, 'registry.example/challenge-participant-team-7:v1'),
      executionId: 'e1',
    });
    expect(own.action).toBe('run');
    const borrowed = await registerSubmission(h.plane, {
      event: push(7, 'registry.example/challenge-participant-team-71:v1'),
      executionId: 'e2',
    });
    expect(borrowed).toMatchObject({
      action: 'reject',
      reason:
        "The image registry.example/challenge-participant-team-71:v1 is not in your team's own repository. Submit it with `evalai push`.",
    });
  });

  it('skips what EvalAI no longer wants evaluated, without a record', async () => {
    const h = harness();
    const { pk, event } = h.submit();
    h.evalai.setStatus(pk, 'cancelled');
    expect(await registerSubmission(h.plane, { event, executionId: 'e' })).toMatchObject({ action: 'skip' });
    expect(await h.store.get(pk)).toBeUndefined();
  });

  it('starts attempt 2 on a resume of a failed attempt, and only once', async () => {
    const h = harness();
    const { pk, event } = h.submit();
    await registerSubmission(h.plane, { event, executionId: 'e1' });
    await h.store.transition(pk, 1, 'failed', { at: 't', patch: { evalaiReported: true } });
    h.evalai.setStatus(pk, 'resuming');
    expect(await registerSubmission(h.plane, { event, executionId: 'e2' })).toMatchObject({
      action: 'run',
      submission: { attempt: 2 },
    });
    expect(await registerSubmission(h.plane, { event, executionId: 'e3' })).toMatchObject({ action: 'skip' });
  });

  it('answers an unreadable message instead of throwing, with the ids it still names (item 10)', async () => {
    const h = harness();
    const { pk } = h.submit();
    const body = JSON.stringify({ challenge_pk: '203', phase_pk: '527', submission_pk: pk, pad: 'x'.repeat(250_000) });
    const registration = await registerSubmission(h.plane, {
      event: [{ messageId: 'm', receiptHandle: 'r', body }],
      executionId: 'e',
    });
    expect(registration).toEqual({
      action: 'invalid',
      reason: expect.stringContaining('more than the 16384-byte limit'),
      ids: { submissionPk: pk, challengePk: 203 },
    });
    expect(JSON.stringify(registration).length).toBeLessThan(1000);
  });
});

describe('a team’s GPU-hour budget', () => {
  const h = () => harness({ budget: { gpuHoursPerTeam: 3, periodDays: 30 } });
  const TEAM = 900;
  /** Team 900's push, registered as the state machine's Register would. */
  async function push(plane: ReturnType<typeof h>, executionId: string) {
    const { id } = plane.evalai.submit({ phasePk: PHASE_PK, teamPk: TEAM, teamName: 'Team Heavy', imageUri: IMAGE });
    const body = JSON.stringify({
      challenge_pk: CHALLENGE_PK,
      phase_pk: PHASE_PK,
      submission_pk: id,
      submitted_image_uri: IMAGE,
    });
    return registerSubmission(plane.plane, {
      event: [{ messageId: `m-${id}`, receiptHandle: 'r', body }],
      executionId,
    });
  }
  /** The submission ends `status` after `hours` on one GPU. */
  async function used(
    plane: ReturnType<typeof h>,
    pk: number,
    hours: number,
    status: 'finished' | 'failed',
    failureClass?: 'platform_error' | 'agent_crashed',
  ) {
    const at = plane.clock.now().toISOString();
    const endedAt = new Date(plane.clock.now().getTime() + hours * 3_600_000).toISOString();
    await plane.store.patch(
      pk,
      1,
      { usage: [{ attempt: 1, worker: 0, job: 'j', interruptions: 0, pods: [{ startedAt: at, endedAt }] }] },
      at,
    );
    await plane.store.transition(pk, 1, 'queued', { at });
    await plane.store.transition(pk, 1, status, {
      at: endedAt,
      ...(failureClass ? { patch: { outcome: { status, failureClass } } } : {}),
    });
  }

  it('refuses a submission of a team that has used its GPU-hours in the period, saying so', async () => {
    const plane = h();
    const first = await push(plane, 'e1');
    expect(first.action).toBe('run');
    await used(plane, first.action === 'run' ? first.submission.submissionPk : 0, 3.5, 'finished');
    const second = await push(plane, 'e2');
    expect(second).toMatchObject({
      action: 'reject',
      reason:
        'Your team has used 3.5 of its 3 GPU-hours for the last 30 days, so this submission was not evaluated. Submit again once earlier evaluations are older than that, or ask the challenge hosts.',
    });
  });

  it('charges no failure that was the platform’s fault, and nothing older than the period', async () => {
    const plane = h();
    const lost = await push(plane, 'e1');
    await used(plane, lost.action === 'run' ? lost.submission.submissionPk : 0, 5, 'failed', 'platform_error');
    expect((await push(plane, 'e2')).action).toBe('run');
    const crashed = await push(plane, 'e3');
    await used(plane, crashed.action === 'run' ? crashed.submission.submissionPk : 0, 4, 'failed', 'agent_crashed');
    expect((await push(plane, 'e4')).action).toBe('reject'); // the participant's crash is charged
    plane.clock.advance(31 * 24 * 3600);
    expect((await push(plane, 'e5')).action).toBe('run');
  });

  it('refuses a submission whose estimate would take the team past its budget, saying so', async () => {
    for (const [gpuHoursPerTeam, action] of [
      [3, 'reject'],
      [4, 'run'],
    ] as const) {
      const plane = harness({ budget: { gpuHoursPerTeam, periodDays: 30 } });
      const first = await push(plane, 'e1');
      const pk = first.action === 'run' ? first.submission.submissionPk : 0;
      // The team's first run drove its phase's 20 km on one GPU in 2 hours: 10 km per GPU-hour, 2 GPU-hours.
      const at = plane.clock.now();
      const endedAt = new Date(at.getTime() + 2 * 3_600_000).toISOString();
      const pods = [{ startedAt: at.toISOString(), endedAt }];
      await plane.store.patch(
        pk,
        1,
        {
          plan: {
            strategy: 'balanced',
            workerCount: 1,
            repetitions: 1,
            expectedRoutes: 4,
            routesKey: 'r',
            metres: 20_000,
            workers: [],
          },
          progress: { done: 4, total: 4 },
          usage: [{ attempt: 1, worker: 0, job: 'j', interruptions: 0, pods }],
        },
        at.toISOString(),
      );
      for (const status of ['queued', 'running'] as const)
        await plane.store.transition(pk, 1, status, { at: at.toISOString() });
      await plane.store.transition(pk, 1, 'finished', { at: endedAt });
      // 2 used and 2 estimated: past a budget of 3, within one of 4.
      const second = await push(plane, 'e2');
      expect(second.action).toBe(action);
      if (action === 'reject') {
        expect(second).toMatchObject({
          reason:
            "Your team has used 2.0 of its 3 GPU-hours for the last 30 days, and this evaluation is estimated to take 2.0 more (its routes' kilometres at the rate recent runs drove), so this submission was not evaluated. Submit again once earlier evaluations are older than that, or ask the challenge hosts.",
        });
      }
    }
  });
});

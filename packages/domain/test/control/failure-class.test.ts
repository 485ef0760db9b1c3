import { describe, expect, it } from '@jest/globals';
import {
  artifactKeys,
  type ContainerObservation,
  collectResults,
  FAILURE_CLASSES,
  failureClassOf,
  handleFailure,
  observeSubmission,
  PARTNER_CRASHED_EXIT,
  publishOutcome,
  SUBMISSION_REJECTED,
  sweepSubmissions,
} from '../../src/index.js';
import { checkpointText } from '../../src/testing/index.js';
import { harness } from './harness.js';

// Every way a run ends without a result has one class from a closed list, whose fault it is, stored on
// the record and sent to EvalAI as the stderr's first line.

async function endedWith(
  h: ReturnType<typeof harness>,
  crash: { container: string; exitCode: number; reason?: string; containers?: ContainerObservation[] },
  routeStatus?: string,
) {
  const submission = await h.start(h.submit().event);
  const pk = submission.submissionPk;
  const [first, second] = (await h.store.get(pk))?.plan?.workers ?? [];
  if (!first || !second) throw new Error('no plan');
  h.jobs.setState(second.jobName, 'running');
  if (routeStatus) {
    const written = JSON.parse(checkpointText(first.routeIds, 1));
    written._checkpoint.records[0].status = routeStatus;
    await h.artifacts.put(artifactKeys.checkpoint(pk, first.worker), JSON.stringify(written));
  }
  h.jobs.setState(first.jobName, 'failed', {
    reason: crash.reason ?? 'BackoffLimitExceeded',
    containers: crash.containers ?? [{ name: crash.container, restarts: 1, lastExitCode: crash.exitCode }],
  });
  const poll = await observeSubmission(h.plane, { submission });
  const outcome = await collectResults(h.plane, { submission, poll });
  await publishOutcome(h.plane, { submission, outcome });
  return { pk, poll, outcome, record: await h.store.get(pk) };
}

describe('failure classes', () => {
  it('blames the container that brought the job down, and stores the class on the record', async () => {
    const h = harness();
    const agent = await endedWith(h, { container: 'agent', exitCode: 1 });
    expect(agent.poll.failureClass).toBe('agent_crashed');
    expect(agent.record?.outcome).toMatchObject({ status: 'failed', failureClass: 'agent_crashed' });
    expect(failureClassOf(agent.record ?? ({} as never))).toBe('agent_crashed');
    const simulator = await endedWith(h, { container: 'simulator', exitCode: 139 });
    expect(simulator.outcome.failureClass).toBe('simulator_crashed');
    expect(FAILURE_CLASSES.simulator_crashed.fault).toBe('platform');
    const deadline = await endedWith(h, { container: 'agent', exitCode: 137, reason: 'DeadlineExceeded' });
    expect(deadline.outcome.failureClass).toBe('time_limit');
  });

  it('follows the container that failed first: its partner ends its round with exit 3, not a failure of its own', async () => {
    const h = harness();
    const at = (second: number) => new Date(Date.UTC(2026, 11, 1, 12, 0, second)).toISOString();
    /** A pod whose containers ended with these exits, each [code, second]; the simulator stopped last (143). */
    type Exits = [exitCode: number, second: number][];
    const pod = (simulator: Exits, agent: Exits): ContainerObservation[] =>
      (
        [
          { name: 'simulator', exits: [...simulator, [143, 9]] },
          { name: 'agent', exits: agent },
        ] as { name: string; exits: Exits }[]
      ).map(({ name, exits }) => ({
        name,
        restarts: name === 'simulator' ? exits.length - 1 : 0,
        lastExitCode: exits.at(-1)?.[0] ?? 0,
        exits: exits.map(([exitCode, second]) => ({ exitCode, at: at(second) })),
      }));
    const endedBy = async (containers: ContainerObservation[]) =>
      (await endedWith(h, { container: 'agent', exitCode: 1, containers })).outcome.failureClass;
    expect(await endedBy(pod([[PARTNER_CRASHED_EXIT, 2]], [[1, 1]]))).toBe('agent_crashed');
    expect(await endedBy(pod([[139, 1]], [[PARTNER_CRASHED_EXIT, 2]]))).toBe('simulator_crashed');
    // An agent that says its simulator crashed (a marker it wrote itself) while the simulator never did: its own.
    expect(await endedBy(pod([[PARTNER_CRASHED_EXIT, 2]], [[PARTNER_CRASHED_EXIT, 1]]))).toBe('agent_crashed');
  });

  it('prefers what the evaluator wrote of its routes to the exit of the agent container', async () => {
    const h = harness();
    const setup = await endedWith(h, { container: 'agent', exitCode: 1 }, "Failed - Agent couldn't be set up");
    expect(setup.outcome.failureClass).toBe('agent_setup');
    const sensors = await endedWith(h, { container: 'agent', exitCode: 1 }, "Failed - Agent's sensors were invalid");
    expect(sensors.outcome.failureClass).toBe('invalid_sensors');
  });

  it('sends the class as the first line of the stderr EvalAI shows', async () => {
    const h = harness();
    const { pk } = await endedWith(h, { container: 'agent', exitCode: 1 });
    const [first, second] = h.evalai.resultOf(pk)?.stderr.split('\n') ?? [];
    expect(first).toBe('Failure: the agent crashed [agent_crashed; a problem with the submission]');
    expect(second).toMatch(/^The evaluation failed\. worker 0: BackoffLimitExceeded, agent exited with code 1/);
  });

  it('calls a results file that cannot be accepted bad_checkpoint', async () => {
    const h = harness();
    const submission = await h.start(h.submit().event);
    const pk = submission.submissionPk;
    await h.finishWorkers(submission);
    await h.artifacts.put(artifactKeys.checkpoint(pk, 0), '{"_checkpoint": "not a checkpoint"}');
    const poll = await observeSubmission(h.plane, { submission });
    const outcome = await collectResults(h.plane, { submission, poll });
    expect(outcome).toMatchObject({ status: 'failed', failureClass: 'bad_checkpoint' });
  });

  it('says once why a results file was refused, and counts the routes against all the submission had', async () => {
    const h = harness();
    const submission = await h.start(h.submit().event);
    const pk = submission.submissionPk;
    await h.finishWorkers(submission);
    const record = await h.store.get(pk);
    const [first] = record?.plan?.workers ?? [];
    if (!first || !record?.plan) throw new Error('no plan');
    const forged = JSON.parse(checkpointText(first.routeIds));
    forged._checkpoint.records[0].scores.score_route = 250;
    await h.artifacts.put(artifactKeys.checkpoint(pk, first.worker), JSON.stringify(forged));
    const poll = await observeSubmission(h.plane, { submission });
    await publishOutcome(h.plane, { submission, outcome: await collectResults(h.plane, { submission, poll }) });
    const sent = h.evalai.resultOf(pk);
    const stderr = sent?.stderr.split('\n') ?? [];
    expect(stderr[0]).toBe(
      'Failure: the results file cannot be accepted [bad_checkpoint; a problem with the submission]',
    );
    expect(stderr[1]).toMatch(/^Worker 0 wrote a results file that cannot be accepted: /);
    expect(stderr.filter((line) => line === stderr[1])).toHaveLength(1);
    const accepted = record.plan.expectedRoutes - first.routeIds.length;
    expect(sent?.stdout).toContain(`Completed ${accepted} out of ${record.plan.expectedRoutes} routes`);
    expect(sent?.stdout).toContain(
      'The results of worker 0 could not be accepted (see the errors): its routes are not counted.',
    );
  });

  it('classes a rejection, a run past its deadline, and a cancel', async () => {
    const h = harness();
    const submission = await h.start(h.submit().event);
    await handleFailure(h.plane, {
      registration: { action: 'reject', reason: 'No Docker image was submitted.', submission },
      error: { Error: SUBMISSION_REJECTED, Cause: 'No Docker image was submitted.' },
      executionId: 'exec-1',
    });
    expect((await h.store.get(submission.submissionPk))?.outcome?.failureClass).toBe('rejected');

    const stuck = await h.start(h.submit().event, 'exec-2');
    h.executions.running.add('exec-2');
    h.clock.advance(3 * 24 * 3600);
    await sweepSubmissions(h.plane);
    expect((await h.store.get(stuck.submissionPk))?.outcome?.failureClass).toBe('time_limit');

    const cancelled = await h.start(h.submit().event, 'exec-3');
    h.evalai.setStatus(cancelled.submissionPk, 'cancelled');
    const poll = await observeSubmission(h.plane, { submission: cancelled });
    expect(poll.failureClass).toBe('cancelled');
  });
});

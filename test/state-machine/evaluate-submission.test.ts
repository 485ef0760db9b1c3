import { getEventListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { RequestBudget } from '@pitwall/adapters';
import { artifactKeys } from '@pitwall/domain';
import { loadStateMachine, STATE_MACHINE_FILE } from '@pitwall/workflow/state-machine';
import aslValidator from 'asl-validator';
import { parse } from 'yaml';
import { checkpointText, instantEvaluations, routesOf, writeCheckpoint } from '../support/evaluator.js';
import { runExecution } from '../support/run-execution.js';
import { IMAGE, PHASE_PK, Stack } from '../support/stack.js';

let stack: Stack;
let team = 0;

beforeAll(async () => {
  stack = await Stack.start();
});
afterAll(() => stack.stop());
afterEach(() => {
  stack.jobs.onLaunch = undefined;
  stack.evalai.faults.length = 0;
});

/** A participant pushes an image; returns the submission and the Pipe's input (an SQS batch of one). */
function submit(image = IMAGE) {
  team += 1;
  const submission = stack.evalai.createSubmission({
    phasePk: PHASE_PK,
    teamPk: team,
    teamName: `Team ${team} «Zoë»?`,
    imageUri: image,
  });
  const input = [{ messageId: `m-${submission.id}`, receiptHandle: 'r', body: stack.evalai.messageFor(submission.id) }];
  return { pk: submission.id, input };
}

const record = (pk: number) => stack.plane.store.get(pk);

describe('evaluate-submission.asl.yaml', () => {
  it('is accepted by asl-validator and keeps to JSONPath (no JSONata, no Assign)', () => {
    const definition = loadStateMachine();
    // Checked before validation: asl-validator fills in the default QueryLanguage.
    expect(JSON.stringify(definition)).not.toMatch(/QueryLanguage|"Assign"|\.sync|waitForTaskToken|DISTRIBUTED/);
    const { isValid, errorsText } = aslValidator(definition);
    expect(errorsText()).toBe('');
    expect(isValid).toBe(true);
    expect(parse(readFileSync(STATE_MACHINE_FILE, 'utf8')).TimeoutSeconds).toBeGreaterThan(0);
  });

  it('evaluates a submission end to end and publishes FINISHED with the merged scores', async () => {
    instantEvaluations(stack);
    const { pk, input } = submit();
    const result = await runExecution(stack, input);

    expect(result.status).toBe('SUCCEEDED');
    expect(result.path).toEqual(
      expect.arrayContaining([
        'Register',
        'Plan',
        'Launch',
        'MarkQueued',
        'Observe',
        'Collect',
        'Publish',
        'Cleanup',
        'Done',
      ]),
    );
    const remote = stack.evalai.get(pk);
    expect(remote.status).toBe('finished');
    expect(remote.history.map((h) => h.status)).toEqual(['submitted', 'queued', 'running', 'finished']);
    // The phase has no partial evaluation: no partial PUT, which would free the team's concurrency slot.
    expect(stack.evalai.requests.some((r) => r.path.includes('update_partially_evaluated_submission'))).toBe(false);
    // 10 perfect routes (100) and 10 with a collision (50): (10 × 5 + 10 × 2.5) = 75
    const row = stack.evalai.leaderboard.get(`${pk}/leaderboard`);
    expect(row?.accuracies['Driving score']).toBe(75);
    expect(row?.accuracies['Route completion']).toBe(100);
    expect(row?.accuracies['Collisions vehicles']).toBe(0.5); // 10 collisions over 20 km
    expect(remote.stdout).toContain('Completed 20 out of 20 routes');
    const stored = await record(pk);
    expect(stored).toMatchObject({ status: 'finished', evalaiReported: true, progress: { done: 20, total: 20 } });
    expect(stored?.metrics?.score_composed).toBe(75);
    expect(await stack.plane.artifacts.get(artifactKeys.merged(pk))).toContain('"entry_status": "Finished"');
    expect(await stack.plane.artifacts.get(artifactKeys.cancel(pk, 1))).toBeUndefined();
    const jobs = stored?.plan?.workers.map((w) => w.jobName) ?? [];
    expect(jobs).toHaveLength(4);
    expect(stack.jobs.deletions).toEqual(expect.arrayContaining(jobs));
  });

  it('lets go of the abort signal when an execution ends, so a long-lived engine does not hold on to it', async () => {
    instantEvaluations(stack);
    const stop = new AbortController();
    const { input } = submit();
    expect((await runExecution(stack, input, { signal: stop.signal })).status).toBe('SUCCEEDED');
    expect(getEventListeners(stop.signal, 'abort')).toHaveLength(0);
  });

  it('skips a submission EvalAI no longer wants evaluated, without side effects', async () => {
    const { pk, input } = submit();
    stack.evalai.cancel(pk);
    const before = stack.evalai.requests.length;
    const result = await runExecution(stack, input);
    expect(result.status).toBe('SUCCEEDED');
    expect(result.path.at(-1)).toBe('Skipped');
    expect(await record(pk)).toBeUndefined();
    expect(stack.evalai.requests.slice(before).map((r) => r.method)).toEqual(['GET']);
  });

  it('launches once when the same message is delivered twice', async () => {
    instantEvaluations(stack);
    const { pk, input } = submit();
    const [first, second] = await Promise.all([runExecution(stack, input), runExecution(stack, input)]);
    expect([first.status, second.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect([first.path.at(-1), second.path.at(-1)].sort()).toEqual(['Done', 'Skipped']);
    expect(stack.jobs.launches.filter((s) => s.submissionPk === pk)).toHaveLength(4);
    expect(stack.evalai.get(pk).status).toBe('finished');
  });

  it('retries through EvalAI 5xx errors and still finishes', async () => {
    instantEvaluations(stack);
    const { pk, input } = submit();
    // The client retries twice itself; the third 502 reaches the state machine, which retries Register.
    stack.evalai.faults.push({ method: 'GET', path: new RegExp(`/submission/${pk}$`), status: 502, times: 4 });
    const result = await runExecution(stack, input);
    expect(result.status).toBe('SUCCEEDED');
    expect(result.events.some((e) => e.type === 'StateRetried' && e.state?.name === 'Register')).toBe(true);
    expect(stack.evalai.get(pk).status).toBe('finished');
  });

  it("waits out Pitwall's own budget however long it stays spent, and never fails the run for it", async () => {
    instantEvaluations(stack);
    const { pk, input } = submit();
    // No slot for the first 40 requests of every kind: longer than any fixed number of retries.
    let refusals = 40;
    const scarce: RequestBudget = {
      take: async () =>
        refusals-- > 0
          ? { granted: false, retryAfterMs: 30_000 }
          : { granted: true, lease: { release: async () => undefined } },
    };
    const result = await stack.withEvalAi({ budget: scarce }, () => runExecution(stack, input));
    expect(result.status).toBe('SUCCEEDED');
    expect(result.events.filter((e) => e.type === 'StateRetried').length).toBeGreaterThanOrEqual(40);
    expect(result.path).not.toContain('HandleFailure');
    expect(stack.evalai.get(pk).status).toBe('finished');
  });

  it('backs off when EvalAI answers 429 with a long Retry-After', async () => {
    instantEvaluations(stack);
    const { pk, input } = submit();
    stack.evalai.faults.push({
      method: 'PUT',
      path: /update_submission\/$/,
      status: 429,
      times: 1,
      retryAfterSeconds: 30,
    });
    const result = await runExecution(stack, input);
    expect(result.status).toBe('SUCCEEDED');
    expect(result.events.some((e) => e.type === 'StateRetried' && e.state?.name === 'Publish')).toBe(true);
    expect(stack.evalai.get(pk).status).toBe('finished');
  });

  it('publishes FAILED with the reason and the agent log when a worker fails, and deletes the jobs', async () => {
    stack.jobs.onLaunch = async (spec) => {
      if (spec.worker === 2) {
        stack.jobs.logs.set(
          `${spec.name}/agent`,
          'Traceback (most recent call last):\nRuntimeError: CUDA out of memory',
        );
        stack.jobs.setState(spec.name, 'failed', {
          reason: 'BackoffLimitExceeded',
          containers: [{ name: 'agent', restarts: 2, lastExitCode: 1, lastReason: 'Error' }],
        });
      } else {
        await writeCheckpoint(stack, spec, checkpointText(await routesOf(stack, spec)));
        stack.jobs.setState(spec.name, 'succeeded');
      }
    };
    const { pk, input } = submit();
    const result = await runExecution(stack, input);
    expect(result.status).toBe('SUCCEEDED');
    const remote = stack.evalai.get(pk);
    expect(remote.status).toBe('failed');
    expect(remote.stderr).toContain('worker 2: BackoffLimitExceeded, agent exited with code 1 (Error), 2 restart(s)');
    expect(remote.stderr).toContain('CUDA out of memory');
    expect((await record(pk))?.status).toBe('failed');
    expect(stack.jobs.deletions.filter((name) => name.includes(`-${pk}-w`))).toHaveLength(4);
  });

  it('cancels within a poll when the participant cancels, and deletes the jobs', async () => {
    stack.jobs.onLaunch = async (spec) => {
      await writeCheckpoint(stack, spec, checkpointText(await routesOf(stack, spec), 1));
      stack.jobs.setState(spec.name, 'running');
    };
    const { pk, input } = submit();
    const result = await runExecution(stack, input, {
      beforeObserve: (turn) => {
        if (turn === 3) stack.evalai.cancel(pk);
      },
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.path.filter((s) => s === 'Observe')).toHaveLength(3);
    expect(stack.evalai.get(pk).status).toBe('cancelled');
    expect(stack.evalai.get(pk).history.at(-1)?.via).toBe('participant'); // nothing written over the cancel
    expect((await record(pk))?.status).toBe('cancelled');
    expect(await stack.plane.artifacts.get(artifactKeys.cancel(pk, 1))).toBe('The submission was cancelled on EvalAI.');
    expect(stack.jobs.deletions.filter((name) => name.includes(`-${pk}-w`))).toHaveLength(4);
  });

  it('fails a submission past its time limit and deletes its jobs', async () => {
    stack.jobs.onLaunch = (spec) => stack.jobs.setState(spec.name, 'running');
    const { pk, input } = submit();
    const result = await runExecution(stack, input, {
      beforeObserve: (turn) => {
        if (turn === 2) stack.clock.advance(3601);
      },
    });
    expect(result.status).toBe('SUCCEEDED');
    const remote = stack.evalai.get(pk);
    expect(remote.status).toBe('failed');
    expect(remote.stderr).toContain('Time limit exceeded: the evaluation did not finish within 3600 seconds.');
    expect(await stack.plane.artifacts.get(artifactKeys.cancel(pk, 1))).toContain('Time limit exceeded');
    expect(stack.jobs.deletions.filter((name) => name.includes(`-${pk}-w`))).toHaveLength(4);
  });

  it.each([
    ['a rotated token', 'rotated-token', 'EvalAiAuthError', 'Rotate the token'],
    ['a user who hosts nothing', 'outsider-token', 'EvalAiNotHostError', 'is not a host of challenge 203'],
    ['a host with an unverified e-mail', 'unverified-token', 'EvalAiUnverifiedEmailError', 'verified its e-mail'],
  ])(
    'stops for the hosts, with the reason, when EvalAI refuses %s, and fails nothing',
    async (_, token, name, words) => {
      const { pk, input } = submit();
      const result = await stack.withEvalAi({ token }, () => runExecution(stack, input));
      expect(result.status).toBe('FAILED');
      expect(result.error?.name).toBe(name);
      expect(result.error?.message).toContain(words);
      expect(result.path.at(-1)).toBe('HostActionRequired');
      expect(result.path).not.toContain('HandleFailure');
      expect(result.events.some((e) => e.type === 'StateRetried')).toBe(false); // not retried
      expect(stack.evalai.get(pk).status).toBe('submitted'); // nothing participant-facing was written
      expect(await record(pk)).toBeUndefined();
    },
  );

  it('ends with a clear InvalidMessageError for a message that is not JSON, touching nothing', async () => {
    const before = stack.evalai.requests.length;
    const result = await runExecution(stack, [{ messageId: 'm', receiptHandle: 'r', body: '{"submission_pk": 4,' }]);
    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('InvalidMessageError');
    expect(result.path).toEqual(expect.arrayContaining(['Register', 'HandleFailure', 'MessageUnreadable']));
    expect(stack.evalai.requests.length).toBe(before);
  });

  it('fails a submission on EvalAI when its message is malformed but names it', async () => {
    const { pk } = submit();
    const body = JSON.stringify({ challenge_pk: '203', phase_pk: '527', submission_pk: pk, submitted_image_uri: 42 });
    const result = await runExecution(stack, [{ messageId: 'm', receiptHandle: 'r', body }]);
    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('EvaluationFailed');
    expect(stack.evalai.get(pk).status).toBe('failed');
    expect(stack.evalai.get(pk).stderr).toContain('submitted_image_uri: must be a string');
  });

  it('keeps every state under 256 KB for a message near that size, and tells the participant why', async () => {
    const { pk } = submit();
    const LIMIT = 256 * 1024; // Step Functions' limit on a state's input and output, in bytes
    const message = (pad: number) => [
      {
        messageId: 'm',
        receiptHandle: 'r',
        body: JSON.stringify({ challenge_pk: '203', phase_pk: '527', submission_pk: pk, pad: 'x'.repeat(pad) }),
      },
    ];
    const input = message(LIMIT - 300 - JSON.stringify(message(0)).length); // 300 bytes short of the limit
    const result = await runExecution(stack, input);
    // Past the limit an execution fails with States.DataLimitExceeded, which no Catch can handle.
    const sizes = result.events.flatMap((e) => {
      const state = e.state as { input?: unknown; output?: unknown } | undefined;
      return [state?.input, state?.output]
        .filter((v) => v !== undefined)
        .map((v) => Buffer.byteLength(JSON.stringify(v)));
    });
    expect(Math.max(...sizes)).toBeLessThanOrEqual(LIMIT);
    // In AWS the error a Catch adds (Lambda's envelope, with a stack trace) can be kilobytes: past Register,
    // no state may carry the message any more, only what was read from it.
    const afterRegister = result.events
      .filter((e) => e.type === 'StateEntered' && !['Start', 'Receive', 'Register'].includes(e.state?.name ?? ''))
      .map((e) => Buffer.byteLength(JSON.stringify((e.state as { input?: unknown }).input ?? null)));
    expect(Math.max(...afterRegister)).toBeLessThan(16 * 1024);
    expect(result.path).toEqual(expect.arrayContaining(['Register', 'MessageInvalid', 'HandleFailure']));
    expect(stack.evalai.get(pk).status).toBe('failed');
    expect(stack.evalai.get(pk).stderr).toContain('more than the 16384-byte limit');
  });

  it('reads the image from the input file when the message carries none (send_submission_message)', async () => {
    instantEvaluations(stack);
    const { pk } = submit();
    const body = stack.evalai.messageFor(pk, { withImage: false });
    expect(JSON.parse(body)).not.toHaveProperty('submitted_image_uri');
    const result = await runExecution(stack, [{ messageId: 'm', receiptHandle: 'r', body }]);
    expect(result.status).toBe('SUCCEEDED');
    expect((await record(pk))?.imageUri).toBe(IMAGE);
    expect(stack.jobs.launches.find((s) => s.submissionPk === pk)?.image).toBe(IMAGE);
    expect(stack.evalai.get(pk).status).toBe('finished');
  });

  it('tells the participant no image was submitted when neither message nor input file names one', async () => {
    const { pk } = submit();
    stack.evalai.get(pk).inputFile = '{"submitted_image_uri": ""}';
    const body = stack.evalai.messageFor(pk, { withImage: false });
    const result = await runExecution(stack, [{ messageId: 'm', receiptHandle: 'r', body }]);
    expect(result.path.at(-1)).toBe('RejectedReported');
    expect(stack.evalai.get(pk).status).toBe('failed');
    expect(stack.evalai.get(pk).stderr).toContain('No Docker image was submitted');
  });

  it('rejects an image from another registry with a reason the participant can act on', async () => {
    const { pk, input } = submit('docker.io/someone/agent:latest');
    const result = await runExecution(stack, input);
    expect(result.status).toBe('SUCCEEDED');
    expect(result.path.at(-1)).toBe('RejectedReported');
    expect(stack.evalai.get(pk).status).toBe('failed');
    expect(stack.evalai.get(pk).stderr).toContain('does not come from an allowed registry');
    expect((await record(pk))?.status).toBe('failed');
    expect(stack.jobs.launches.some((s) => s.submissionPk === pk)).toBe(false);
  });

  it('retries HandleFailure through a DynamoDB throttle, as every other Task does, and still reports the failure', async () => {
    const { pk, input } = submit('docker.io/someone/agent:latest');
    const store = stack.plane.store;
    const transition = store.transition.bind(store);
    let throttled = 0;
    // What the SDK throws when DynamoDB sheds load: once, in HandleFailure's write of `failed`.
    store.transition = async (...args: Parameters<typeof store.transition>) => {
      if (args[0] === pk && args[2] === 'failed' && throttled++ === 0) {
        throw Object.assign(new Error('Throughput exceeds the current capacity'), {
          name: 'ProvisionedThroughputExceededException',
        });
      }
      return transition(...args);
    };
    try {
      const result = await runExecution(stack, input);
      expect(result.path.filter((s) => s === 'HandleFailure').length).toBeGreaterThanOrEqual(1);
      expect(result.path.at(-1)).toBe('RejectedReported');
      expect(throttled).toBe(2);
      expect(stack.evalai.get(pk).status).toBe('failed');
    } finally {
      store.transition = transition;
    }
  });
});

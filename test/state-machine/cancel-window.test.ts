import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { artifactKeys, JobRunnerRejectedError } from '@pitwall/domain';
import { checkpointText, routesOf, writeCheckpoint } from '../support/evaluator.js';
import { type ExecutionResult, runExecution } from '../support/run-execution.js';
import { CHALLENGE_PK, challengeConfig, IMAGE, PHASE_PK, Stack } from '../support/stack.js';

// EvalAI lets the last writer win (§7): a participant's cancel that lands before one of Pitwall's writes
// is replaced by it, and a cancelled submission can end up finished on the public board. Pitwall reads the
// status immediately before every write, with nothing slow in between. Each case puts the cancel at one
// point of the real ASL's run and requires it to stand: cancelled on EvalAI, nothing written after it,
// the jobs gone, the record cancelled, and the submission absent from the board.

let stack: Stack;
let team = 0;

beforeAll(async () => {
  stack = await Stack.start(
    challengeConfig({
      phases: {
        [PHASE_PK]: {
          track: 'SENSORS',
          routesKey: 'routes/validation.xml',
          workers: 4,
          timeLimitSeconds: 3600,
          partialEvaluation: true, // so that partial PUTs are among the writes
        },
      },
    }),
  );
});
afterAll(() => stack.stop());
afterEach(() => {
  stack.jobs.onLaunch = undefined;
  stack.jobs.onObserve = undefined;
  stack.jobs.onDelete = undefined;
  stack.onArtifact = undefined;
});

function submit() {
  team += 1;
  const { id } = stack.evalai.createSubmission({
    phasePk: PHASE_PK,
    teamPk: team,
    teamName: `team ${team}`,
    imageUri: IMAGE,
  });
  return { pk: id, input: [{ messageId: `m-${id}`, receiptHandle: 'r', body: stack.evalai.messageFor(id) }] };
}

/** Workers that start at once and finish one route of theirs per observation (five turns in all). */
function evaluate(
  pk: number,
  options: { beforeObserve?: (turn: number) => void } = {},
): (input: unknown) => Promise<ExecutionResult> {
  stack.jobs.onLaunch = (spec) => stack.jobs.setState(spec.name, 'running');
  return (input) =>
    runExecution(stack, input, {
      beforeObserve: async (turn) => {
        options.beforeObserve?.(turn);
        for (const spec of stack.jobs.jobsOf(pk)) {
          const routes = await routesOf(stack, spec);
          const done = Math.min(routes.length, turn);
          await writeCheckpoint(stack, spec, checkpointText(routes, done));
          if (done === routes.length) stack.jobs.setState(spec.name, 'succeeded');
        }
      },
    });
}

async function onBoard(pk: number): Promise<boolean> {
  const split = stack.evalai.splitId(PHASE_PK, 'leaderboard');
  const response = await fetch(`${stack.evalai.url}/api/jobs/challenge_phase_split/${split}/leaderboard/`);
  const board = (await response.json()) as { results: { submission__id: number }[] };
  return board.results.some((row) => row.submission__id === pk);
}

async function expectCancelStood(pk: number): Promise<void> {
  const remote = stack.evalai.get(pk);
  expect(remote.status).toBe('cancelled');
  expect(remote.history.at(-1)?.via).toBe('participant'); // nothing was written over the cancel
  expect(await onBoard(pk)).toBe(false);
  expect(stack.jobs.jobsOf(pk)).toEqual([]);
  const record = await stack.plane.store.get(pk);
  if (record) expect(record.status).toBe('cancelled'); // no record: Register saw the cancel first
}

/** Cancels once, the first time `when` says so. */
function cancelOnce(pk: number, when: () => boolean) {
  let done = false;
  return () => {
    if (!done && when()) {
      done = true;
      stack.evalai.cancel(pk);
    }
  };
}

describe('a participant cancel is never overwritten by Pitwall', () => {
  it('stands when it lands before MarkQueued', async () => {
    const { pk, input } = submit();
    stack.evalai.cancelBefore(pk, { nth: 2 }); // Register's read is the first request
    await evaluate(pk)(input);
    await expectCancelStood(pk);
    expect(stack.evalai.get(pk).history.map((h) => h.status)).toEqual(['submitted', 'cancelled']);
  });

  it("stands when it lands between Observe's read and its PATCH running (while the cluster is asked)", async () => {
    const { pk, input } = submit();
    stack.jobs.onObserve = cancelOnce(pk, () => true);
    await evaluate(pk)(input);
    await expectCancelStood(pk);
  });

  it("stands when it lands between Observe's read and its partial PUT (while the results are merged)", async () => {
    const { pk, input } = submit();
    let turn = 0;
    const cancel = cancelOnce(pk, () => turn === 2);
    stack.onArtifact = (operation, key) => {
      if (operation === 'get' && key === artifactKeys.checkpoint(pk, 0)) cancel();
    };
    await evaluate(pk, {
      beforeObserve: (t) => {
        turn = t;
      },
    })(input);
    await expectCancelStood(pk);
  });

  it('stands when it lands between Collect and Publish', async () => {
    const { pk, input } = submit();
    stack.onArtifact = (operation, key) => {
      if (operation === 'put' && key === artifactKeys.evalai(pk, 'metadata.json')) stack.evalai.cancel(pk);
    };
    await evaluate(pk)(input);
    await expectCancelStood(pk);
    expect((await stack.plane.store.get(pk))?.evalaiReported).toBe(true);
  });

  it("stands when it lands between Publish's read and its PUT (while the stored files are read)", async () => {
    const { pk, input } = submit();
    const cancel = cancelOnce(pk, () => true);
    stack.onArtifact = (operation, key) => {
      if (operation === 'get' && key === artifactKeys.evalai(pk, 'result.json')) cancel();
    };
    await evaluate(pk)(input);
    await expectCancelStood(pk);
  });

  it('stands when it lands during HandleFailure (while the jobs are deleted)', async () => {
    const { pk, input } = submit();
    stack.jobs.onLaunch = (spec) => {
      if (spec.worker === 1) throw new JobRunnerRejectedError('the cluster refused the Job');
    };
    stack.jobs.onDelete = cancelOnce(pk, () => true);
    const result = await runExecution(stack, input);
    expect(result.path).toContain('HandleFailure');
    await expectCancelStood(pk);
  });

  it('stands wherever it lands just before one of the run’s status reads', async () => {
    // A reference run finds every read of the submission's status, in order.
    const reference = submit();
    const before = stack.evalai.requests.length;
    await evaluate(reference.pk)(reference.input);
    expect(stack.evalai.get(reference.pk).status).toBe('finished');
    const requests = stack.evalai.requests.slice(before);
    // Its own reads, and the challenge's status watch (the list of cancels) that stands in for them.
    const statusRead = (r: { method: string; path: string }) =>
      r.method === 'GET' &&
      (r.path === `/api/jobs/submission/${reference.pk}` ||
        r.path.startsWith(`/api/jobs/challenge/${CHALLENGE_PK}/submission/?`));
    const reads = requests.flatMap((r, i) => (statusRead(r) ? [i + 1] : []));
    expect(reads.length).toBeGreaterThanOrEqual(8);
    for (const nth of reads) {
      const { pk, input } = submit();
      stack.evalai.cancelBefore(pk, { nth });
      await evaluate(pk)(input);
      await expectCancelStood(pk);
    }
  }, 120_000);
});

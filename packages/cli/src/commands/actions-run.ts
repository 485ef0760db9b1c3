import {
  type ControlPlane,
  cancelAsHost,
  refuseCancelOfEnded,
  republishResult,
  requeueSubmission,
  resumeSubmission,
  systemClock,
} from '@pitwall/domain';
import { LOCAL_CHALLENGE_PK } from '@pitwall/local';
import { type CliIo, UsageError } from '../io.js';
import { askLocalEvalAi, runningEndpoints } from '../local-stack.js';
import { refusable, sourceOf } from './sources.js';

type StageOptions = { stage?: string };

/** `cancel`: on a stage as the hosts; locally as the participant would on EvalAI's page. */
export async function cancelCommand(io: CliIo, pk: number, options: StageOptions): Promise<void> {
  const source = sourceOf(options);
  const deps = { config: source.challenge, store: source.store, evalai: source.evalaiHost() };
  if (options.stage) {
    await refusable(source, () => cancelAsHost(deps, pk));
    io.out(`submission ${pk} cancelled on EvalAI; Pitwall stops its run at its next look`);
    return;
  }
  // What EvalAI itself would let through is refused first.
  await refusable(source, () => refuseCancelOfEnded(deps, pk));
  const stack = runningEndpoints();
  const response = await askLocalEvalAi(
    stack,
    `${stack.evalai}/api/jobs/challenges/${LOCAL_CHALLENGE_PK}/submissions/${pk}/update_submission_meta/`,
    {
      method: 'PATCH',
      headers: { Authorization: `Bearer ${stack.participantToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ status: 'cancelled' }),
    },
  );
  if (!response.ok) throw new UsageError(`EvalAI refused to cancel submission ${pk} (${response.status})`);
  io.out(`submission ${pk} cancelled`);
}

/** `resume`: EvalAI's resume of a failed submission; its message starts the next attempt. */
export async function resumeCommand(io: CliIo, pk: number, options: StageOptions): Promise<void> {
  const source = sourceOf(options);
  const deps = { store: source.store, evalai: source.evalaiHost() };
  const { attempt } = await refusable(source, () => resumeSubmission(deps, pk));
  io.out(`submission ${pk}: resuming on EvalAI; attempt ${attempt} begins when its message arrives`);
}

/** `requeue`: the message of a submission that never started, to the queue again. */
export async function requeueCommand(io: CliIo, pk: number, options: StageOptions): Promise<void> {
  const source = sourceOf(options);
  const { attempt } = await refusable(source, async () => {
    const deps: Pick<ControlPlane, 'config' | 'store' | 'evalai' | 'queue' | 'clock'> = {
      config: source.challenge,
      store: source.store,
      evalai: source.evalaiHost(),
      queue: await source.queue(),
      clock: systemClock,
    };
    return requeueSubmission(deps, pk);
  });
  io.out(`submission ${pk}: its message sent to the queue again (attempt ${attempt})`);
}

/** `republish`: an ended submission's stored result, to EvalAI again (never over a cancel). */
export async function republishCommand(io: CliIo, pk: number, options: StageOptions): Promise<void> {
  const source = sourceOf(options);
  const deps = { store: source.store, artifacts: source.artifacts, evalai: source.evalaiHost() };
  const { status } = await refusable(source, () => republishResult(deps, pk));
  io.out(`submission ${pk}: its stored result sent to EvalAI again (${status})`);
}

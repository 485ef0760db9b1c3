import { type ControlPlane, republishResult, requeueSubmission, resumeSubmission, systemClock } from '@pitwall/domain';
import type { CliIo } from '../io.js';
import type { StageOptions } from './actions.js';
import { refusable, sourceOf } from './sources.js';

/** `cancel`: on a stage as the hosts; locally as the participant would on EvalAI's page. */
export async function cancelCommand(io: CliIo, pk: number, options: StageOptions): Promise<void> {
  const source = await sourceOf(options, io);
  io.out(await refusable(source, () => source.cancel(pk)));
}

/** `resume`: EvalAI's resume of a failed submission; its message starts the next attempt. */
export async function resumeCommand(io: CliIo, pk: number, options: StageOptions): Promise<void> {
  const source = await sourceOf(options, io);
  const deps = { store: source.store, evalai: source.evalaiHost() };
  const { attempt } = await refusable(source, () => resumeSubmission(deps, pk));
  io.out(`submission ${pk}: resuming on EvalAI; attempt ${attempt} begins when its message arrives`);
}

/** `requeue`: the message of a submission that never started, to the queue again. */
export async function requeueCommand(io: CliIo, pk: number, options: StageOptions): Promise<void> {
  const source = await sourceOf(options, io);
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
  const source = await sourceOf(options, io);
  const deps = { store: source.store, artifacts: source.artifacts, evalai: source.evalaiHost() };
  const { status } = await refusable(source, () => republishResult(deps, pk));
  io.out(`submission ${pk}: its stored result sent to EvalAI again (${status})`);
}

import { NotFoundError, StaleAttemptError } from '../errors.js';
import type { AdmissionLedger } from '../queue/admission-ledger.js';
import type { ChallengeConfig, TrackConfig } from './config.js';
import type {
  ArtifactStore,
  Clock,
  EvalAiHost,
  EvalAiQueueProxy,
  ExecutionProbe,
  ExecutionStarter,
  JobRunner,
  SubmissionQueue,
  SubmissionStore,
} from './ports.js';
import type { SubmissionRecord, SubmissionRef } from './records.js';

/** Everything the control-plane use cases talk to; each handler wires only what it uses. */
export interface ControlPlane {
  readonly config: ChallengeConfig;
  readonly store: SubmissionStore;
  readonly artifacts: ArtifactStore;
  readonly evalai: EvalAiHost;
  readonly jobs: JobRunner;
  readonly queue: SubmissionQueue;
  /** EvalAI's REST proxy of the challenge's queue, which the relay empties into `queue`. */
  readonly intake: EvalAiQueueProxy;
  readonly clock: Clock;
  /** The slots of Pitwall's queue (a stage with `queue`). */
  readonly admissions: AdmissionLedger;
  readonly executions: ExecutionProbe;
  readonly starter: ExecutionStarter;
}

export function trackOf(config: ChallengeConfig, phasePk: number): TrackConfig | undefined {
  return config.phases[String(phasePk)];
}

/** The record of this attempt; throws when the record is gone or a newer attempt replaced it. */
export async function currentRecord(store: SubmissionStore, ref: SubmissionRef): Promise<SubmissionRecord> {
  const record = await store.get(ref.submissionPk);
  if (!record) throw new NotFoundError(`submission ${ref.submissionPk} has no record`);
  if (record.attempt !== ref.attempt) {
    throw new StaleAttemptError(`submission ${ref.submissionPk} is at attempt ${record.attempt}, not ${ref.attempt}`);
  }
  return record;
}

export function isoNow(clock: Clock): string {
  return clock.now().toISOString();
}

export const CANCELLED_ON_EVALAI = 'The submission was cancelled on EvalAI.';

/**
 * EvalAI keeps whatever is written last, a participant's cancel included (§7), and has no conditional
 * update: every write Pitwall makes is preceded at once by this read, with no cluster, S3 or merge work
 * between the two, so the only window left for a cancel to be overwritten is one HTTP round trip.
 */
export async function cancelledOnEvalAi(evalai: EvalAiHost, submissionPk: number): Promise<boolean> {
  return (await evalai.getSubmission(submissionPk)).status === 'cancelled';
}

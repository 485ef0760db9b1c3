import type {
  DynamoDbAdmissionLedger,
  DynamoDbSubmissionStore,
  EvalAiClient,
  LeaderboardEntry,
  S3ArtifactStore,
} from '@pitwall/adapters';
import {
  type ChallengeConfig,
  cancelAsHost,
  OperatorActionRefusedError,
  publishedLeaderboard,
  queuePlaces,
  type SubmissionQueue,
  type SubmissionRecord,
  systemClock,
} from '@pitwall/domain';
import { type CliIo, UsageError } from '../io.js';

/** Where the operator commands read: the local stack, a serving machine, or a deployed stage (the host's AWS credentials). */
export interface Source {
  readonly store: DynamoDbSubmissionStore;
  /** The slots of Pitwall's queue (the same table). */
  readonly admissions: DynamoDbAdmissionLedger;
  readonly artifacts: S3ArtifactStore;
  /** The submission's status on EvalAI, or why it was not asked. */
  evalaiStatus(pk: number): Promise<string>;
  /** EvalAI as the host, for a command that writes to it; a UsageError when the token is not given. */
  evalaiHost(): EvalAiClient;
  /** The challenge it evaluates: its pk and phases. */
  readonly challenge: ChallengeConfig;
  /** The queue EvalAI's messages reach Pitwall by, for a requeue. */
  queue(): Promise<SubmissionQueue>;
  /** The board participants see, best entry per team first, each with its phase. */
  leaderboard(): Promise<(LeaderboardEntry & { readonly phasePk: number })[]>;
  /**
   * Cancels a submission as this source's user may: on a deployed stage as the challenge's hosts, on the
   * local stack as its participant would on EvalAI's page; what EvalAI would wrongly let through (a run
   * that already ended) is refused first. Answers the line to print.
   */
  cancel(pk: number): Promise<string>;
  /** Runs a read, turning a store that is not there into one line. */
  read<T>(work: () => Promise<T>): Promise<T>;
}

/**
 * Where a command reads: the running local stack, a machine serving a challenge (`--stage` of a machine
 * stage), or a deployed stage (`--stage`) with the host's AWS credentials. Each is loaded only when asked
 * for: a command on a stage never loads the local runtime.
 */
export async function sourceOf(options: { stage?: string }, io: CliIo): Promise<Source> {
  if (!options.stage) return (await import('./local-source.js')).localSource();
  const { isMachineStage } = await import('@pitwall/deploy/stage-file');
  return isMachineStage(options.stage)
    ? (await import('./machine-source.js')).machineSource(options.stage, io)
    : (await import('./stage-source.js')).stageSource(options.stage);
}

/**
 * What a source that reaches EvalAI as the challenge's host does alike (a deployed stage, a serving
 * machine): the board Pitwall published, and a cancel as the host.
 */
export function asHost(
  parts: Pick<Source, 'store' | 'artifacts' | 'challenge' | 'evalaiHost'>,
): Pick<Source, 'leaderboard' | 'cancel'> {
  const { store, artifacts, challenge: config } = parts;
  return {
    leaderboard: () => publishedLeaderboard({ config, store, artifacts }),
    cancel: async (pk) => {
      await cancelAsHost({ config, store, evalai: parts.evalaiHost() }, pk);
      return `submission ${pk} cancelled on EvalAI; Pitwall stops its run at its next look`;
    },
  };
}

/** Each waiting submission's place, as the scheduler would order them now. */
export function placesOf(source: Source, records: readonly SubmissionRecord[]) {
  return source.read(() =>
    queuePlaces({ config: source.challenge, admissions: source.admissions, clock: systemClock }, records),
  );
}

/** An operator action: a refusal is its answer in one line, not a failure to reach the stores. */
export async function refusable<T>(source: Source, work: () => Promise<T>): Promise<T> {
  const result = await source.read(() =>
    work().catch((error: unknown) => {
      if (error instanceof OperatorActionRefusedError) return error;
      throw error;
    }),
  );
  if (result instanceof OperatorActionRefusedError) throw new UsageError(result.message, { cause: result });
  return result;
}

/** The record of `pk`, or one line saying where it was looked for. */
export async function recordOf(source: Source, pk: number, stage: string | undefined): Promise<SubmissionRecord> {
  const record = await source.read(() => source.store.get(pk));
  if (!record)
    throw new UsageError(`no submission ${pk} ${stage ? `on stage ${stage}` : 'on the running local Pitwall'}`);
  return record;
}

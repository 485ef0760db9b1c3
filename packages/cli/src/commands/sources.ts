import { basename } from 'node:path';
import {
  createDocumentClient,
  createS3Client,
  createSqsClient,
  DynamoDbAdmissionLedger,
  DynamoDbSubmissionStore,
  EvalAiClient,
  type LeaderboardEntry,
  openSubmissionQueue,
  queueOf,
  S3ArtifactStore,
  SqsSubmissionQueue,
} from '@pitwall/adapters';
import { loadStage, type StageConfig } from '@pitwall/deploy/stage-file';
import {
  type ChallengeConfig,
  OperatorActionRefusedError,
  publishedLeaderboard,
  queuePlaces,
  type SubmissionQueue,
  type SubmissionRecord,
  systemClock,
} from '@pitwall/domain';
import { S3RVER_CREDENTIALS } from '@pitwall/emulators';
import { LOCAL_HOST_TOKEN, LOCAL_PHASE_PK } from '@pitwall/local';
import { asUsageError } from '../explained.js';
import { UsageError } from '../io.js';
import { leaderboardOf } from '../leaderboard-view.js';
import { onLocalStack, type RunningStack, runningEndpoints } from '../local-stack.js';

/** Where the operator commands read: the running local stack, or a deployed stage with the host's AWS credentials. */
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
  /** Runs a read, turning a store that is not there into one line. */
  read<T>(work: () => Promise<T>): Promise<T>;
}

function localSource(): Source {
  const stack: RunningStack = runningEndpoints();
  const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  const documents = createDocumentClient({ region: stack.region, endpoint: stack.dynamodb, credentials });
  const s3 = createS3Client({ region: stack.region, endpoint: stack.s3, credentials: S3RVER_CREDENTIALS });
  const evalai = new EvalAiClient({ baseUrl: stack.evalai, token: LOCAL_HOST_TOKEN });
  return {
    store: new DynamoDbSubmissionStore(documents, stack.table),
    admissions: new DynamoDbAdmissionLedger(documents, stack.table),
    artifacts: new S3ArtifactStore(s3, stack.bucket),
    evalaiStatus: async (pk) => (await onLocalStack(stack.evalai, () => evalai.getSubmission(pk))).status,
    evalaiHost: () => evalai,
    challenge: stack.challenge,
    queue: async () =>
      new SqsSubmissionQueue(
        createSqsClient({ region: stack.region, endpoint: stack.sqs, credentials }),
        stack.queueUrl,
      ),
    leaderboard: async () =>
      (await onLocalStack(stack.evalai, () => leaderboardOf(stack.evalai, stack.splitId))).map((entry) => ({
        ...entry,
        phasePk: LOCAL_PHASE_PK,
      })),
    read: (work) => onLocalStack(stack.dynamodb, work),
  };
}

/**
 * A deployed stage, from stages/<stage>.yml: its region, table and bucket, through the AWS credential chain
 * (and AWS_ENDPOINT_URL_DYNAMODB / _S3, as the SDK reads them). EvalAI is asked only with EVALAI_TOKEN set.
 */
function stageSource(name: string): Source {
  let stage: StageConfig;
  try {
    stage = loadStage(name);
  } catch (error) {
    throw asUsageError(error);
  }
  const s3Endpoint = process.env.AWS_ENDPOINT_URL_S3;
  const token = process.env.EVALAI_TOKEN;
  const documents = createDocumentClient({ region: stage.region });
  const store = new DynamoDbSubmissionStore(documents, stage.storage.table);
  const artifacts = new S3ArtifactStore(
    createS3Client({ region: stage.region, ...(s3Endpoint ? { endpoint: s3Endpoint } : {}) }),
    stage.storage.bucket,
  );
  return {
    store,
    admissions: new DynamoDbAdmissionLedger(documents, stage.storage.table),
    artifacts,
    evalaiStatus: async (pk) =>
      token
        ? (await new EvalAiClient({ baseUrl: stage.evalai.apiServer, token }).getSubmission(pk)).status
        : 'not asked (set EVALAI_TOKEN to the host token to see it)',
    evalaiHost: () => {
      if (!token)
        throw new UsageError(`stage ${name}: set EVALAI_TOKEN to the challenge's host token to write to EvalAI`);
      return new EvalAiClient({ baseUrl: stage.evalai.apiServer, token });
    },
    challenge: stage.challenge,
    queue: () => {
      // The host's own queue (use_host_sqs), or the one the stage's ingest service creates.
      const queue = stage.evalai.queueArn
        ? queueOf(stage.evalai.queueArn)
        : { region: stage.region, name: `pitwall-${basename(name).replace(/\.ya?ml$/, '')}-submissions` };
      return openSubmissionQueue(createSqsClient({ region: queue.region }), queue);
    },
    leaderboard: () => publishedLeaderboard({ config: stage.challenge, store, artifacts }),
    read: async (work) => {
      try {
        return await work();
      } catch (error) {
        // What AWS said (no credentials, no such table, access denied), in one line.
        const { name: kind, message } = error as Error;
        throw new UsageError(`stage ${name}: ${kind}: ${message.split('\n')[0]}`, { cause: error });
      }
    },
  };
}

export const sourceOf = (options: { stage?: string }) => (options.stage ? stageSource(options.stage) : localSource());

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

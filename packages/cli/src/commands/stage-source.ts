import { basename } from 'node:path';
import {
  createDocumentClient,
  createS3Client,
  createSqsClient,
  DynamoDbAdmissionLedger,
  DynamoDbSubmissionStore,
  EvalAiClient,
  openSubmissionQueue,
  queueOf,
  S3ArtifactStore,
} from '@pitwall/adapters';
import { loadStage, type StageConfig } from '@pitwall/deploy/stage-file';
import { asUsageError } from '../explained.js';
import { UsageError } from '../io.js';
import { asHost, type Source } from './sources.js';

/**
 * A deployed stage, from stages/<stage>.yml: its region, table and bucket, through the AWS credential chain
 * (and AWS_ENDPOINT_URL_DYNAMODB / _S3, as the SDK reads them). EvalAI is asked only with EVALAI_TOKEN set.
 */
export function stageSource(name: string): Source {
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
  const evalaiHost = () => {
    if (!token)
      throw new UsageError(`stage ${name}: set EVALAI_TOKEN to the challenge's host token to write to EvalAI`);
    return new EvalAiClient({ baseUrl: stage.evalai.apiServer, token });
  };
  const host = { store, artifacts, challenge: stage.challenge, evalaiHost };
  return {
    ...host,
    ...asHost(host),
    admissions: new DynamoDbAdmissionLedger(documents, stage.storage.table),
    evalaiStatus: async (pk) =>
      token
        ? (await new EvalAiClient({ baseUrl: stage.evalai.apiServer, token }).getSubmission(pk)).status
        : 'not asked (set EVALAI_TOKEN to the host token to see it)',
    queue: () => {
      // The host's own queue (use_host_sqs), or the one the stage's foundation service creates.
      const queue = stage.evalai.queueArn
        ? queueOf(stage.evalai.queueArn)
        : { region: stage.region, name: `pitwall-${basename(name).replace(/\.ya?ml$/, '')}-submissions` };
      return openSubmissionQueue(createSqsClient({ region: queue.region }), queue);
    },
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

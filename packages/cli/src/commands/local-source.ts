import {
  createDocumentClient,
  createS3Client,
  createSqsClient,
  DynamoDbAdmissionLedger,
  DynamoDbSubmissionStore,
  EvalAiClient,
  S3ArtifactStore,
  SqsSubmissionQueue,
} from '@pitwall/adapters';
import { refuseCancelOfEnded } from '@pitwall/domain';
import { S3RVER_CREDENTIALS } from '@pitwall/emulators';
import { LOCAL_CHALLENGE_PK, LOCAL_HOST_TOKEN, LOCAL_PHASE_PK } from '@pitwall/local';
import { UsageError } from '../io.js';
import { leaderboardOf } from '../leaderboard-view.js';
import { askLocalEvalAi, onLocalStack, type RunningStack, runningEndpoints } from '../local-stack.js';
import type { Source } from './sources.js';

/** The running local stack (`pitwall local up`), as the endpoints file it left says. */
export function localSource(): Source {
  const stack: RunningStack = runningEndpoints();
  const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  const documents = createDocumentClient({ region: stack.region, endpoint: stack.dynamodb, credentials });
  const s3 = createS3Client({ region: stack.region, endpoint: stack.s3, credentials: S3RVER_CREDENTIALS });
  const evalai = new EvalAiClient({ baseUrl: stack.evalai, token: LOCAL_HOST_TOKEN });
  const store = new DynamoDbSubmissionStore(documents, stack.table);
  return {
    store,
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
    cancel: async (pk) => {
      await refuseCancelOfEnded({ store, evalai }, pk);
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
      return `submission ${pk} cancelled`;
    },
    read: (work) => onLocalStack(stack.dynamodb, work),
  };
}

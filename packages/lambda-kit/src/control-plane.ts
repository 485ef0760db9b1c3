import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { SFNClient } from '@aws-sdk/client-sfn';
import {
  createDocumentClient,
  createS3Client,
  DynamoDbRequestBudget,
  DynamoDbSubmissionStore,
  EvalAiClient,
  S3ArtifactStore,
  StepFunctionsExecutions,
} from '@pitwall/adapters';
import {
  type Clock,
  type ControlPlane,
  type ExecutionProbe,
  type ExecutionStarter,
  type JobRunner,
  JobRunnerRejectedError,
  systemClock,
} from '@pitwall/domain';
import type { LambdaConfig } from './config.js';

/** What the edge supplies beyond the configuration: the job runner, and test doubles. */
export interface Wiring {
  /** Functions that talk to the cluster pass `kubernetesJobRunner` (from `@pitwall/lambda-kit/kubernetes`). */
  readonly jobs?: JobRunner | ((config: LambdaConfig) => JobRunner | undefined);
  readonly clock?: Clock;
  readonly executions?: ExecutionProbe & ExecutionStarter;
  readonly fetch?: typeof fetch;
}

/** A function configured without a cluster (ingest, publisher) must never reach for one. */
const noJobRunner: JobRunner = {
  launch: async () => {
    throw new JobRunnerRejectedError('no job runner is configured for this function');
  },
  observe: async () => {
    throw new JobRunnerRejectedError('no job runner is configured for this function');
  },
  delete: async () => {
    throw new JobRunnerRejectedError('no job runner is configured for this function');
  },
  logTail: async () => '',
};

/** Builds the adapters a control-plane function uses from its configuration. */
export async function buildControlPlane(config: LambdaConfig, wiring: Wiring = {}): Promise<ControlPlane> {
  const local = (endpoint: string | undefined) => ({
    region: config.region,
    ...(endpoint ? { endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  });
  const documents = createDocumentClient(local(config.endpoints.dynamodb));
  const s3Options = local(config.endpoints.s3);
  // s3rver accepts only its own fixed credentials.
  const s3 = createS3Client(
    config.endpoints.s3
      ? { ...s3Options, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } }
      : s3Options,
  );
  const token = config.evalai.token ?? (await getSecret(config.evalai.tokenSecret ?? '', { maxAge: 300 }));
  if (typeof token !== 'string' || token === '')
    throw new Error(`the EvalAI token secret ${config.evalai.tokenSecret} is empty`);
  const executions =
    wiring.executions ??
    (config.stateMachineArn
      ? new StepFunctionsExecutions(new SFNClient({ region: config.region }), config.stateMachineArn)
      : undefined);
  return {
    config: config.challenge,
    store: new DynamoDbSubmissionStore(documents, config.table),
    artifacts: new S3ArtifactStore(s3, config.bucket),
    evalai: new EvalAiClient({
      baseUrl: config.evalai.apiServer,
      token,
      budget: new DynamoDbRequestBudget(documents, config.table, config.evalai.requestsPerMinute),
      ...(wiring.fetch ? { fetch: wiring.fetch } : {}),
    }),
    jobs: (typeof wiring.jobs === 'function' ? wiring.jobs(config) : wiring.jobs) ?? noJobRunner,
    clock: wiring.clock ?? systemClock,
    ...(executions ? { executions, starter: executions } : {}),
  };
}

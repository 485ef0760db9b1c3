import {
  type AdmissionState,
  ArtifactStoreUnavailableError,
  type CollectedOutcome,
  EvalAiBudgetSpentError,
  EvalAiRateLimitedError,
  EvalAiUnavailableError,
  type handleFailure,
  JobRunnerUnavailableError,
  type launchWorker,
  type PollState,
  type planSubmission,
  type Registration,
  SubmissionQueueUnavailableError,
  taskInputSchemas,
} from '@pitwall/domain';
import type { z } from 'zod';

/**
 * The state machine's Tasks, each once: the service and function that run it, what it takes, what it
 * returns and how it is retried. The handlers parse their input with it, the local engine wires the ASL's
 * Task states from it, and the deploy step passes the functions' ARNs from it; tests check that the ASL,
 * the deployed state machine and each service's functions name exactly these.
 */

/** Error names the state machine retries, by what retrying is worth. */
export const RETRIED_ERRORS = {
  /** Out of budget (Pitwall's or EvalAI's 429): waited for, without end. */
  throttled: [EvalAiRateLimitedError.name, EvalAiBudgetSpentError.name],
  /** Pitwall's transient errors, then what AWS raises untranslated: DynamoDB, the SDK, Lambda, Step Functions. */
  transient: [
    EvalAiUnavailableError.name,
    JobRunnerUnavailableError.name,
    ArtifactStoreUnavailableError.name,
    SubmissionQueueUnavailableError.name,
    'TimeoutError',
    'ProvisionedThroughputExceededException',
    'ThrottlingException',
    'InternalServerError',
    'ServiceUnavailable',
    'Lambda.ServiceException',
    'Lambda.AWSLambdaException',
    'Lambda.SdkClientException',
    'Lambda.TooManyRequestsException',
    'States.Timeout',
  ],
  /** Powertools' idempotency record of a try that was killed, until the Task's timeout has passed. */
  inProgress: ['IdempotencyAlreadyInProgressError'],
} as const;

/** A Task's Retry, as the lists of error names of its Retry entries, in order. */
export const RETRY_POLICIES = {
  /** Every Task on the way to a result. */
  standard: [RETRIED_ERRORS.throttled, RETRIED_ERRORS.transient, RETRIED_ERRORS.inProgress],
  /** HandleFailure: it keeps no idempotency record, and retries the transient errors for longer. */
  failure: [RETRIED_ERRORS.throttled, RETRIED_ERRORS.transient],
} as const;

export type ServiceName = 'ingest' | 'launcher' | 'publisher' | 'cleanup';

/** The submissions table's actions a Task may take. */
type TableAction = 'GetItem' | 'BatchGetItem' | 'PutItem' | 'UpdateItem';

/**
 * What a Task's function may reach beyond its own logs and traces: each grant is one statement of its role
 * (and, for the cluster and the state machine, the environment that names them).
 */
export type TaskGrant =
  | { readonly table: readonly TableAction[] }
  /** Query the submissions table's index of active submissions. */
  | 'activeIndex'
  /** Powertools' idempotency records. */
  | 'idempotency'
  | { readonly objects: readonly ('GetObject' | 'PutObject')[]; readonly under: 'routes' | 'submissions' }
  | 'evalaiToken'
  /** The EKS cluster: its name and Pitwall's cluster settings come in the environment. */
  | 'cluster'
  /** Start executions of the evaluate-submission state machine, whose ARN comes in the environment. */
  | 'startExecution';

export interface TaskDefinition<I extends z.ZodType = z.ZodType, O = unknown> {
  /** The service whose function runs it (services/<service>). */
  readonly service: ServiceName;
  /**
   * The function's name in that service, the raw handler's export, its file (`src/handlers/<kebab-case>.ts`)
   * and `${param:<function>FunctionArn}`.
   */
  readonly function: string;
  readonly input: I;
  readonly retry: keyof typeof RETRY_POLICIES;
  readonly grants: readonly TaskGrant[];
  /** The function's timeout when the provider's is too short. */
  readonly timeoutSeconds?: number;
  /** Never set: carries the output type. */
  readonly output?: O;
}

const task =
  <O>() =>
  <I extends z.ZodType>(definition: TaskDefinition<I, O>): TaskDefinition<I, O> =>
    definition;

type Result<F extends (...args: never[]) => unknown> = Awaited<ReturnType<F>>;

export const TASKS = {
  Register: task<Registration>()({
    service: 'ingest',
    function: 'register',
    input: taskInputSchemas.register,
    retry: 'standard',
    grants: [{ table: ['GetItem', 'BatchGetItem', 'PutItem', 'UpdateItem'] }, 'evalaiToken'],
  }),
  Plan: task<Result<typeof planSubmission>>()({
    service: 'launcher',
    function: 'plan',
    input: taskInputSchemas.submission,
    retry: 'standard',
    grants: [{ table: ['GetItem', 'UpdateItem'] }, { objects: ['GetObject'], under: 'routes' }],
  }),
  AwaitAdmission: task<AdmissionState>()({
    service: 'launcher',
    function: 'awaitAdmission',
    input: taskInputSchemas.awaitAdmission,
    retry: 'standard',
    grants: [{ table: ['GetItem', 'BatchGetItem', 'UpdateItem'] }, 'activeIndex', 'evalaiToken'],
  }),
  LaunchWorker: task<Result<typeof launchWorker>>()({
    service: 'launcher',
    function: 'launchWorker',
    input: taskInputSchemas.launchWorker,
    retry: 'standard',
    grants: [{ table: ['GetItem', 'UpdateItem'] }, 'idempotency', 'cluster'],
  }),
  MarkQueued: task<PollState>()({
    service: 'launcher',
    function: 'markQueued',
    input: taskInputSchemas.submission,
    retry: 'standard',
    grants: [{ table: ['GetItem', 'BatchGetItem', 'UpdateItem'] }, 'evalaiToken'],
  }),
  Observe: task<PollState>()({
    service: 'launcher',
    function: 'observe',
    input: taskInputSchemas.observe,
    retry: 'standard',
    grants: [
      { table: ['GetItem', 'BatchGetItem', 'UpdateItem'] },
      'activeIndex', // the challenge's status watch finds the active submissions through it
      { objects: ['GetObject'], under: 'submissions' },
      'evalaiToken',
      'cluster',
    ],
    timeoutSeconds: 240,
  }),
  HandOver: task<{ executionId: string }>()({
    service: 'launcher',
    function: 'handOver',
    input: taskInputSchemas.handOver,
    retry: 'standard',
    grants: [{ table: ['GetItem', 'UpdateItem'] }, 'startExecution'],
  }),
  Collect: task<CollectedOutcome>()({
    service: 'publisher',
    function: 'collect',
    input: taskInputSchemas.collect,
    retry: 'standard',
    grants: [
      { table: ['GetItem', 'UpdateItem'] },
      { objects: ['GetObject', 'PutObject'], under: 'submissions' },
      'cluster',
    ],
    timeoutSeconds: 240,
  }),
  Publish: task<{ status: CollectedOutcome['status'] }>()({
    service: 'publisher',
    function: 'publish',
    input: taskInputSchemas.publish,
    retry: 'standard',
    grants: [
      { table: ['GetItem', 'BatchGetItem', 'UpdateItem', 'PutItem'] },
      { objects: ['GetObject'], under: 'submissions' },
      'evalaiToken',
    ],
  }),
  Cleanup: task<{ deleted: number }>()({
    service: 'cleanup',
    function: 'deleteJobs',
    input: taskInputSchemas.submission,
    retry: 'standard',
    grants: [{ table: ['GetItem', 'UpdateItem'] }, 'activeIndex', 'cluster'],
  }),
  HandleFailure: task<Result<typeof handleFailure>>()({
    service: 'cleanup',
    function: 'handleFailure',
    input: taskInputSchemas.handleFailure,
    retry: 'failure',
    grants: [{ table: ['GetItem', 'BatchGetItem', 'UpdateItem'] }, 'evalaiToken', 'cluster'],
  }),
} as const;

export type TaskName = keyof typeof TASKS;
type Definition<N extends TaskName> = (typeof TASKS)[N];
export type TaskInput<N extends TaskName> = z.infer<Definition<N>['input']>;
export type TaskOutput<N extends TaskName> = NonNullable<Definition<N>['output']>;

/** The `${param:…}` a Task's Resource names in the ASL, which the workflow's deployment resolves. */
export const functionArnParam = (definition: TaskDefinition) => `${definition.function}FunctionArn`;

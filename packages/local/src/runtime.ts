import { join } from 'node:path';
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { EvalAiClient, MemoryRequestBudget, type S3ArtifactStore, SqsSubmissionQueue } from '@pitwall/adapters';
import {
  CARLA_LEADERBOARD_LABELS,
  type ChallengeConfig,
  type Clock,
  type ControlPlane,
  isTerminal,
  type ReconcileReport,
  type SubmissionRecord,
  type SweepReport,
  systemClock,
} from '@pitwall/domain';
import { type EmulatedSubmission, EvalAiEmulator, type RunningServer, S3RVER_CREDENTIALS } from '@pitwall/emulators';
import { type ClusterSettings, parseClusterSettings } from '@pitwall/kube';
import { type LambdaEntryPoint, type LambdaHost, readLambdaConfig } from '@pitwall/lambda-kit';
import { createSqsServer } from 'local-aws-sqs';
import { buildLocalPrograms } from './bundles.js';
import { LOCAL_IMAGES } from './container-images.js';
import { ContainerJobRunner } from './container-job-runner.js';
import { entryPointOf, executionName, LocalEngine, lambdaContext, lambdaInvokers } from './engine.js';
import { InstantJobRunner } from './instant-job-runner.js';
import { LocalJobRunner, standinPace } from './local-job-runner.js';
import { SqsPipe } from './pipe.js';
import { lockStateDir } from './state-lock.js';
import { startLocalStores } from './stores.js';

export const LOCAL_CHALLENGE_PK = 1;
export const LOCAL_PHASE_PK = 1;
/** The phase's one dataset split, the one its leaderboard shows. */
export const LOCAL_SPLIT = 'leaderboard';
export const LOCAL_HOST_TOKEN = 'local-host-token';
export const LOCAL_PARTICIPANT_TOKEN = 'local-participant-token';
/** The local stores' region and submissions table (the operator commands read them too). */
export const LOCAL_REGION = 'eu-west-1';
export const LOCAL_TABLE = 'pitwall-submissions';
export const LOCAL_BUCKET = 'pitwall-artifacts';
const QUEUE = 'evalai-submissions';
/** Local time runs fast: polls every half second, so EvalAI's per-minute budget is scaled up to match. */
const LOCAL_REQUESTS_PER_MINUTE = 100_000;

/** EvalAI's leaderboard labels: the CARLA challenge's 15. */
export const LEADERBOARD_LABELS = Object.keys(CARLA_LEADERBOARD_LABELS);

/**
 * `processes` runs each Job's containers as processes with the CARLA stand-in; `podman` runs them as real
 * containers from the images (`buildLocalImages` makes the stand-in ones); `instant` completes Jobs at
 * launch (benchmarks).
 */
export type LocalExecutor = 'processes' | 'podman' | 'instant';

export interface LocalRuntimeOptions {
  /** Where DynamoDB tables, S3 files and Job folders are kept, so a restart continues. */
  readonly stateDir: string;
  /** An EvalAI to talk to; by default one is embedded. */
  readonly evalai?: EvalAiEmulator;
  readonly workers?: number;
  readonly timeLimitSeconds?: number;
  /** The poll loop's Wait, locally. */
  readonly pollMs?: number;
  /** How fast the CARLA stand-in drives (milliseconds per route kilometre). */
  readonly msPerKm?: number;
  /** Restart Jobs and executions found on disk. */
  readonly recover?: boolean;
  /** `processes` runs each Job's containers; `instant` completes Jobs at launch (benchmarks). */
  readonly executor?: LocalExecutor;
  /** How often the sweeper and the reconciler run, as they do on their schedules in AWS; 0 turns them off. */
  readonly housekeepingMs?: number;
  /**
   * The control plane's clock; a faster one (with `pollMs` shortened to match) runs EvalAI's time faster,
   * as `pnpm bench:evalai-load` does. The wall clock by default.
   */
  readonly clock?: Clock;
  /** The challenge's poll period in the clock's seconds (`poll.initialSeconds`, also the status watch's). */
  readonly pollSeconds?: number;
  /** The EvalAI budget Pitwall keeps to, per minute of the clock; EvalAI allows 60. */
  readonly requestsPerMinute?: number;
  /** With the `instant` executor: how long each Job runs, in the clock's seconds. */
  readonly evaluationSeconds?: number;
}

export interface LocalEndpoints {
  readonly dynamodb: string;
  readonly s3: string;
  readonly sqs: string;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly evalai: string;
}

/**
 * The whole pipeline on one machine: dynalite, s3rver and an SQS server on 127.0.0.1, the EvalAI emulator,
 * the Pipe, the same state machine run by the local engine with the real handlers, and the local executor.
 */
export class LocalRuntime {
  readonly evalai: EvalAiEmulator;
  readonly engine: LocalEngine;
  jobs!: LocalJobRunner | ContainerJobRunner | InstantJobRunner;
  plane!: ControlPlane;
  endpoints!: LocalEndpoints;
  /** The environment every function reads, as in AWS. */
  functionEnvironment!: Readonly<Record<string, string>>;
  private host!: LambdaHost;
  private housekeepers!: {
    sweep: LambdaEntryPoint<SweepReport>;
    reconcile: LambdaEntryPoint<ReconcileReport>;
  };
  private pipe!: SqsPipe;
  private sqs!: SQSClient;
  private housekeeping: NodeJS.Timeout | undefined;
  /** Why the last scheduled sweep or reconciliation could not run, if it could not. */
  housekeepingError: string | undefined;
  private readonly servers: RunningServer[] = [];
  private readonly clients: { destroy(): void }[] = [];
  private ownsEvalAi: boolean;

  private constructor(
    private readonly options: LocalRuntimeOptions,
    /** Releases the state folder's lock, taken before anything in it is opened. */
    private readonly unlock: () => void,
  ) {
    this.ownsEvalAi = !options.evalai;
    this.evalai =
      options.evalai ??
      new EvalAiEmulator({
        challengePk: LOCAL_CHALLENGE_PK,
        phases: [{ pk: LOCAL_PHASE_PK, codename: 'local-SENSORS', splits: [LOCAL_SPLIT] }],
        labels: LEADERBOARD_LABELS,
        hostToken: LOCAL_HOST_TOKEN,
        participantToken: LOCAL_PARTICIPANT_TOKEN,
        requestsPerMinute: LOCAL_REQUESTS_PER_MINUTE,
        onSubmission: (_submission, message) => this.publish(message),
        // EvalAI keeps its submissions: so does the embedded one, next to Pitwall's own state.
        stateFile: join(options.stateDir, 'evalai.json'),
      });
    this.engine = new LocalEngine({ waitMs: options.pollMs ?? 500, retryMs: 200 });
  }

  static async start(options: LocalRuntimeOptions): Promise<LocalRuntime> {
    const unlock = lockStateDir(options.stateDir);
    let runtime: LocalRuntime;
    try {
      runtime = new LocalRuntime(options, unlock); // reads the embedded EvalAI's state file
    } catch (error) {
      unlock();
      throw error;
    }
    try {
      await runtime.boot();
    } catch (error) {
      await runtime.stop();
      throw error;
    }
    return runtime;
  }

  get challenge(): ChallengeConfig {
    return this.plane.config;
  }

  get stateDir(): string {
    return this.options.stateDir;
  }

  /** A participant's `evalai push`: EvalAI records the submission and publishes its message. */
  async submit(team: string, image: string): Promise<EmulatedSubmission> {
    const submission = this.evalai.createSubmission({
      phasePk: LOCAL_PHASE_PK,
      teamPk: this.evalai.teamPkOf(team),
      teamName: team,
      imageUri: image,
    });
    await this.publish(this.evalai.messageFor(submission.id));
    return submission;
  }

  /** Sends a message to the submissions queue exactly as EvalAI's sender does. */
  async publish(message: string): Promise<void> {
    await this.sqs.send(new SendMessageCommand({ QueueUrl: this.endpoints.queueUrl, MessageBody: message }));
  }

  /** One run of the scheduled sweeper and reconciler: their entry points, given a schedule's event. */
  async housekeep(): Promise<{ sweep: SweepReport; reconcile: ReconcileReport }> {
    const scheduled = { source: 'aws.scheduler' };
    return {
      sweep: await this.housekeepers.sweep(scheduled, lambdaContext('cleanup', 'sweep')),
      reconcile: await this.housekeepers.reconcile(scheduled, lambdaContext('cleanup', 'reconcile')),
    };
  }

  async stop(): Promise<void> {
    clearInterval(this.housekeeping);
    await this.pipe?.stop();
    this.engine.abortAll();
    if (!(this.jobs instanceof InstantJobRunner)) await this.jobs?.shutdown();
    if (this.ownsEvalAi) await this.evalai.close();
    for (const client of this.clients) client.destroy();
    await Promise.all(this.servers.map((server) => server.close()));
    this.unlock();
  }

  private async boot(): Promise<void> {
    const stores = await startLocalStores({
      table: LOCAL_TABLE,
      bucket: LOCAL_BUCKET,
      region: LOCAL_REGION,
      directory: this.options.stateDir,
    });
    this.servers.push({ endpoint: '', close: () => stores.close() });
    const { dynamodb: dynamo, s3 } = stores;
    const sqsServer = await createSqsServer({ port: 0, hostname: '127.0.0.1', region: LOCAL_REGION });
    const sqsAddress = sqsServer.address() as { port: number };
    const sqsEndpoint = `http://127.0.0.1:${sqsAddress.port}`;
    this.servers.push({
      endpoint: sqsEndpoint,
      close: () => new Promise((resolve) => sqsServer.close(() => resolve())),
    });
    const evalaiUrl = this.ownsEvalAi ? await this.evalai.start() : this.evalai.url;

    this.sqs = new SQSClient({
      region: LOCAL_REGION,
      endpoint: sqsEndpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    this.clients.push(this.sqs);
    const { queueUrl, deadLetterQueueUrl, queueArn } = await this.createQueues();
    this.endpoints = {
      dynamodb: dynamo.endpoint,
      s3: s3.endpoint,
      sqs: sqsEndpoint,
      queueUrl,
      deadLetterQueueUrl,
      evalai: evalaiUrl,
    };

    const { artifacts } = stores;
    const clock = this.options.clock ?? systemClock;
    const pollSeconds = this.options.pollSeconds ?? 1;
    const challenge = {
      challengePk: LOCAL_CHALLENGE_PK,
      phases: {
        [LOCAL_PHASE_PK]: {
          track: 'SENSORS',
          routesKey: 'routes/validation.xml',
          workers: this.options.workers ?? 4,
          timeLimitSeconds: this.options.timeLimitSeconds ?? 600,
        },
      },
      // The stand-in agents: local/agent:<behaviour>, fully qualified as localhost/local/agent:<behaviour>.
      allowedImages: ['^(localhost/)?local/agent:'],
      poll: { initialSeconds: pollSeconds, maxSeconds: pollSeconds, maxTurns: 5000 },
    };
    // What each function's environment holds in AWS, with the local servers as its endpoints; parsed here
    // once so that a mistake stops the start, and again by each function as it cold-starts.
    this.functionEnvironment = {
      AWS_REGION: LOCAL_REGION,
      // The functions' role, in AWS; here the key s3rver takes (dynalite takes any).
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
      PITWALL_TABLE: LOCAL_TABLE,
      PITWALL_IDEMPOTENCY_TABLE: `${LOCAL_TABLE}-idempotency`,
      PITWALL_BUCKET: LOCAL_BUCKET,
      PITWALL_CHALLENGE_CONFIG: JSON.stringify(challenge),
      PITWALL_DYNAMODB_ENDPOINT: dynamo.endpoint,
      PITWALL_S3_ENDPOINT: s3.endpoint,
      EVALAI_API_SERVER: evalaiUrl,
      EVALAI_TOKEN: LOCAL_HOST_TOKEN,
    };
    const config = readLambdaConfig(this.functionEnvironment);
    this.jobs =
      this.options.executor === 'instant'
        ? new InstantJobRunner(artifacts, { evaluationSeconds: this.options.evaluationSeconds ?? 0, clock })
        : this.options.executor === 'podman'
          ? this.containerExecutor(dynamo.endpoint, s3.endpoint)
          : await this.processExecutor(artifacts, dynamo.endpoint, s3.endpoint);
    const evalai = new EvalAiClient({
      baseUrl: evalaiUrl,
      token: LOCAL_HOST_TOKEN,
      budget: new MemoryRequestBudget(this.options.requestsPerMinute ?? LOCAL_REQUESTS_PER_MINUTE, () =>
        clock.now().getTime(),
      ),
      minRetryDelayMs: 50,
      maxRetryDelayMs: 500,
    });
    // What the functions cannot build from their environment here: the Jobs and the executions are the
    // runtime's, the local queue is not at an SQS address its ARN names, and EvalAI's budget keeps the
    // runtime's clock, which may run faster than the wall's.
    const ports = {
      evalai,
      // Unused here: the embedded EvalAI sends its messages to the local SQS queue, as with use_host_sqs.
      intake: evalai.queueProxy(QUEUE),
      jobs: this.jobs,
      queue: new SqsSubmissionQueue(this.sqs, queueUrl),
      clock,
      executions: this.engine,
      starter: this.engine,
    } satisfies Partial<ControlPlane>;
    this.plane = { config: config.challenge, store: stores.store, artifacts, ...ports };
    this.host = { env: this.functionEnvironment, ports };
    this.engine.invokers = lambdaInvokers(this.host);
    this.housekeepers = {
      sweep: entryPointOf('cleanup', 'sweep').hostedBy(this.host) as LambdaEntryPoint<SweepReport>,
      reconcile: entryPointOf('cleanup', 'reconcile').hostedBy(this.host) as LambdaEntryPoint<ReconcileReport>,
    };
    if (this.options.recover ?? true) await this.recover();
    this.pipe = new SqsPipe(this.sqs, queueUrl, queueArn, this.engine);
    this.pipe.start();
    const every = this.options.housekeepingMs ?? 60_000;
    if (every > 0) {
      // A run that throws (EvalAI unreachable) is kept, and the next tick tries again, as a schedule would.
      this.housekeeping = setInterval(
        () =>
          void this.housekeep().catch((error: unknown) => {
            this.housekeepingError = (error as Error).message;
          }),
        every,
      );
      this.housekeeping.unref();
    }
  }

  /** How the Jobs are laid out: the same settings as on EKS, with the local stores as the AWS endpoints. */
  private jobSettings(images: ClusterSettings['images'], dynamodb: string, s3: string): ClusterSettings {
    return parseClusterSettings({
      images,
      logcopyRoleArn: 'arn:aws:iam::000000000000:role/pitwall-logcopy',
      region: LOCAL_REGION,
      awsEndpoints: { s3, dynamodb },
      bucket: LOCAL_BUCKET,
      table: LOCAL_TABLE,
      instanceTypes: { SENSORS: 'local' },
      backoffLimit: 2,
      logcopyPeriodSeconds: 0.25,
    });
  }

  /** Each Job's containers as processes: the real logcopy and the CARLA stand-in. */
  private async processExecutor(artifacts: S3ArtifactStore, dynamodb: string, s3: string): Promise<LocalJobRunner> {
    return new LocalJobRunner({
      directory: join(this.options.stateDir, 'jobs'),
      settings: this.jobSettings(
        {
          simulator: 'local/carla-simulator:0.9.15',
          evaluator: 'local/leaderboard-evaluator:2.0',
          logcopy: 'local/pitwall-logcopy:dev',
        },
        dynamodb,
        s3,
      ),
      programs: await buildLocalPrograms(join(this.options.stateDir, 'bin')),
      routeFile: async (key) => (await artifacts.get(key)) ?? '',
      logcopyEnv: LOGCOPY_CREDENTIALS,
      msPerKm: this.options.msPerKm ?? 50,
    });
  }

  /** Each Job as a pod of real containers, from the local images. */
  private containerExecutor(dynamodb: string, s3: string): ContainerJobRunner {
    return new ContainerJobRunner({
      directory: join(this.options.stateDir, 'containers'),
      settings: this.jobSettings(LOCAL_IMAGES, dynamodb, s3),
      logcopyEnv: LOGCOPY_CREDENTIALS,
      podEnv: standinPace(this.options.msPerKm ?? 50),
    });
  }

  private async createQueues() {
    const dlq = await this.sqs.send(new CreateQueueCommand({ QueueName: `${QUEUE}-dlq` }));
    const deadLetterQueueUrl = dlq.QueueUrl ?? '';
    const dlqArn = (
      await this.sqs.send(new GetQueueAttributesCommand({ QueueUrl: deadLetterQueueUrl, AttributeNames: ['QueueArn'] }))
    ).Attributes?.QueueArn;
    const queue = await this.sqs.send(
      new CreateQueueCommand({
        QueueName: QUEUE,
        Attributes: {
          VisibilityTimeout: '30',
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 3 }),
        },
      }),
    );
    const queueUrl = queue.QueueUrl ?? '';
    const queueArn =
      (await this.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] })))
        .Attributes?.QueueArn ?? '';
    return { queueUrl, deadLetterQueueUrl, queueArn };
  }

  /**
   * After a restart, through the state machine's own entry points only: Jobs on disk carry on (a cluster
   * keeps running); a submission registered but not yet queued runs its execution again from Register,
   * under the same name, so Register knows it for its own and checks it again (a cancel on EvalAI while
   * Pitwall was down stops it there); one already queued or running gets a fresh execution that enters
   * at the poll loop; and submissions EvalAI still shows as submitted without a record get their message
   * again (the queue's messages did not survive).
   */
  private async recover(): Promise<void> {
    if (!(this.jobs instanceof InstantJobRunner)) await this.jobs.recover();
    for (const record of await this.plane.store.listActive()) {
      if (isTerminal(record.status)) continue; // failed but not yet on EvalAI: the sweeper reports it
      if (record.status === 'received' || record.status === 'resuming') {
        await this.engine.start([redeliveryOf(record)], executionName(record.executionId));
        continue;
      }
      const current = await this.plane.store.get(record.submissionPk);
      const executionId = await this.engine.start({
        handover: {
          registration: { action: 'run', submission: record },
          plan: {
            workerCount: current?.plan?.workerCount,
            workers: current?.plan?.workers.map((w) => ({ worker: w.worker })),
          },
          poll: { phase: 'running', turn: 0, waitSeconds: 1 },
        },
      });
      await this.plane.store.patch(record.submissionPk, record.attempt, { executionId }, new Date().toISOString());
    }
    for (const submission of this.evalai.submissions.values()) {
      if (submission.status === 'submitted' && !(await this.plane.store.get(submission.id))) {
        await this.publish(this.evalai.messageFor(submission.id));
      }
    }
  }
}

/** No STS here: the local servers take s3rver's fixed key, which the credential chain finds first. */
const LOGCOPY_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
};

/** The message EvalAI sent for a registered submission, as the Pipe delivers it. */
function redeliveryOf(record: SubmissionRecord) {
  const body = JSON.stringify({
    challenge_pk: String(record.challengePk),
    phase_pk: String(record.phasePk),
    submission_pk: record.submissionPk,
    submitted_image_uri: record.imageUri,
  });
  return { messageId: `recovered-${record.submissionPk}-${record.attempt}`, body, eventSource: 'aws:sqs' };
}

import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  EvalAiClient,
  MemoryRequestBudget,
  openSubmissionQueue,
  queueOf,
  type S3ArtifactStore,
  SqsSubmissionQueue,
} from '@pitwall/adapters';
import {
  CARLA_LEADERBOARD_LABELS,
  type ChallengeConfig,
  type Clock,
  type ControlPlane,
  isTerminal,
  type ReconcileReport,
  type RelayReport,
  type SubmissionRecord,
  type SweepReport,
  systemClock,
  type TrackConfig,
} from '@pitwall/domain';
import { type EmulatedSubmission, EvalAiEmulator, type RunningServer, S3RVER_CREDENTIALS } from '@pitwall/emulators';
import {
  type ClusterLayout,
  type ClusterSettings,
  KubernetesJobRunner,
  kubeconfigAccess,
  parseClusterSettings,
  storesNetworkPolicy,
} from '@pitwall/kube';
import { type LambdaEntryPoint, type LambdaHost, readLambdaConfig } from '@pitwall/lambda-kit';
import { createSqsServer } from 'local-aws-sqs';
import { buildLocalPrograms } from './bundles.js';
import { type PublicStatusOptions, startDashboard, startPublicStatus } from './dashboard/dashboard-server.js';
import { entryPointOf, executionName, LocalEngine, lambdaContext, lambdaInvokers } from './engine.js';
import { LOCAL_IMAGES } from './executors/container-images.js';
import { type ContainerEngine, ContainerJobRunner } from './executors/container-job-runner.js';
import { FolderJobRunner } from './executors/folder-job-runner.js';
import { GpuPool, type GpuPoolOptions } from './executors/gpu-pool.js';
import { InstantJobRunner } from './executors/instant-job-runner.js';
import { ProcessJobRunner, standinPace } from './executors/process-job-runner.js';
import { SqsPipe } from './pipe.js';
import { machineStoresKey } from './signed-gateway.js';
import { checkStandinAgent, STANDIN_AGENT_REPOSITORY } from './standin/behaviours.js';
import { lockStateDir } from './state-lock.js';
import { type LocalStores, portOf, startLocalStores } from './stores.js';

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
/** The node class (instance type) a local executor's pods report. */
export const LOCAL_NODE_CLASS = 'local';
/** What an hour of the local GPU is priced at: a g5.2xlarge's on-demand and typical spot price, in USD. */
export const LOCAL_GPU_PRICE = { onDemand: 1.212, spot: 0.4 } as const;
const QUEUE = 'evalai-submissions';
/** Local time runs fast: polls every half second, so EvalAI's per-minute budget is scaled up to match. */
const LOCAL_REQUESTS_PER_MINUTE = 100_000;

/** EvalAI's leaderboard labels: the CARLA challenge's 15. */
export const LEADERBOARD_LABELS = Object.keys(CARLA_LEADERBOARD_LABELS);

/**
 * `processes` runs each Job's containers as processes with the CARLA stand-in; `podman` and `docker` run
 * them as real containers from the images (`buildLocalImages` makes the stand-in ones); `instant`
 * completes Jobs at launch (benchmarks).
 */
export type LocalExecutor = 'processes' | ContainerEngine | 'kubernetes' | 'instant';

/**
 * Any Kubernetes cluster (an on-premises GPU cluster, say) for the `kubernetes` executor: Jobs are created
 * through a kubeconfig, and their logcopy reaches this machine's stores at `storesAddress`.
 */
export interface ClusterJobs {
  readonly kubeconfig: string;
  /** The kubeconfig's context; its current one by default. */
  readonly context?: string;
  /** The address of this machine the cluster's pods reach; the stores' signed gateways listen on it. */
  readonly storesAddress: string;
  /**
   * The Secret in the Jobs' namespace with this machine's stores key (`<stateDir>/stores-key.env`), which
   * logcopy alone gets: the gateways admit nothing else.
   */
  readonly logcopySecret: string;
  /** The namespace, instance types per track, limits and the rest of the Jobs' layout. */
  readonly layout: ClusterLayout;
}

/**
 * A real EvalAI server to serve (`pitwall serve`), instead of the embedded emulator: its challenge, as the
 * stage configures it, and the way its submissions come in.
 */
export interface EvalAiServer {
  readonly url: string;
  readonly token: string;
  /** Pitwall's share of EvalAI's 60 requests a minute for the host token. */
  readonly requestsPerMinute: number;
  /** The challenge's configuration (the stage's `challenge`), checked as every function checks it. */
  readonly challenge: unknown;
  readonly intake: ServerIntake;
}

/**
 * The host's own SQS queue (use_host_sqs), read with the machine's AWS credentials; or EvalAI's queue
 * through its REST proxy, relayed into the local queue every `everyMs`, as the relay function does in AWS.
 */
export type ServerIntake = { readonly hostQueueArn: string } | { readonly queueName: string; readonly everyMs: number };

export interface LocalRuntimeOptions {
  /** Where DynamoDB tables, S3 files and Job folders are kept, so a restart continues. */
  readonly stateDir: string;
  /** An EvalAI emulator to talk to; by default one is embedded. */
  readonly evalai?: EvalAiEmulator;
  /** A real EvalAI to serve instead of any emulator. */
  readonly server?: EvalAiServer;
  /**
   * Route files by the key a phase names (`routesKey`), uploaded at start; the CARLA validation routes are
   * always there as `routes/validation.xml`.
   */
  readonly routeFiles?: Readonly<Record<string, string>>;
  /**
   * The GPUs the container executor hands out, one per Job (a CDI kind, and its devices if not all the
   * machine's); without, Jobs get none and the stand-ins pretend to have one.
   */
  readonly gpus?: GpuPoolOptions;
  /** The simulator, evaluator and logcopy images the container executor runs; the local stand-ins by default. */
  readonly images?: ClusterSettings['images'];
  /** What each Job's pod may use, where not the cluster settings' defaults: processes, scratch volumes, resources. */
  readonly podLimits?: Pick<ClusterLayout, 'pidsLimit' | 'scratchLimits' | 'resources'>;
  /** The cluster the `kubernetes` executor creates Jobs on. */
  readonly cluster?: ClusterJobs;
  readonly workers?: number;
  readonly timeLimitSeconds?: number;
  /** Where the embedded phase's workers run (on demand by default) and when a spot-first one moves. */
  readonly capacity?: Partial<Pick<TrackConfig, 'capacity' | 'maxInterruptions' | 'onDemandWithinSeconds'>>;
  /** Serve the public read-only status page on this address (port 0: any free one). */
  readonly publicStatus?: PublicStatusOptions;
  /** Pitwall's own queue for the embedded challenge (a stage's `queue`); without, every submission launches at once. */
  readonly queue?: Partial<NonNullable<ChallengeConfig['queue']>> &
    Pick<NonNullable<ChallengeConfig['queue']>, 'capacity'>;
  /** The poll loop's Wait, locally. */
  readonly pollMs?: number;
  /** How fast the CARLA stand-in drives (milliseconds per route kilometre). */
  readonly msPerKm?: number;
  /** Restart Jobs and executions found on disk. */
  readonly recover?: boolean;
  /**
   * `processes` runs each Job's containers; `podman` and `docker` run them as containers; `kubernetes` on a
   * cluster (`cluster`); `instant` completes Jobs at launch (benchmarks).
   */
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
  /** The live page: the queue, the runs and their workers, recent failures, the leaderboard. */
  readonly dashboard: string;
  /** The public status page, when one is asked for (`publicStatus`). */
  readonly publicStatus?: string;
}

/**
 * The whole pipeline on one machine: dynalite, s3rver and an SQS server on 127.0.0.1, the EvalAI emulator,
 * the Pipe, the same state machine run by the local engine with the real handlers, and the local executor.
 */
export class LocalRuntime {
  readonly engine: LocalEngine;
  jobs!: ProcessJobRunner | ContainerJobRunner | InstantJobRunner | KubernetesJobRunner;
  plane!: ControlPlane;
  endpoints!: LocalEndpoints;
  /** The GPUs the container executor hands out, when it has a pool. */
  private gpuCapacity: number | undefined;
  /** The environment every function reads, as in AWS. */
  functionEnvironment!: Readonly<Record<string, string>>;
  private host!: LambdaHost;
  private housekeepers!: {
    sweep: LambdaEntryPoint<SweepReport>;
    reconcile: LambdaEntryPoint<ReconcileReport>;
    relay: LambdaEntryPoint<RelayReport>;
  };
  private pipe!: SqsPipe;
  private sqs!: SQSClient;
  private housekeeping: NodeJS.Timeout | undefined;
  /** Why the last scheduled sweep or reconciliation could not run, if it could not. */
  housekeepingError: string | undefined;
  /** Since when the relay cannot read EvalAI's queue, and why. */
  private relayFailing: { readonly since: number; readonly error: string } | undefined;
  private readonly servers: RunningServer[] = [];
  private readonly clients: { destroy(): void }[] = [];
  private readonly ownsEvalAi: boolean;
  private readonly emulator: EvalAiEmulator | undefined;
  private relaying: NodeJS.Timeout | undefined;

  private constructor(
    private readonly options: LocalRuntimeOptions,
    /** Releases the state folder's lock, taken before anything in it is opened. */
    private readonly unlock: () => void,
  ) {
    this.ownsEvalAi = !options.evalai && !options.server;
    this.emulator = options.server
      ? undefined
      : (options.evalai ??
        new EvalAiEmulator({
          challengePk: LOCAL_CHALLENGE_PK,
          phases: [{ pk: LOCAL_PHASE_PK, codename: 'local-SENSORS', splits: [LOCAL_SPLIT] }],
          labels: LEADERBOARD_LABELS,
          hostToken: LOCAL_HOST_TOKEN,
          participantToken: LOCAL_PARTICIPANT_TOKEN,
          requestsPerMinute: LOCAL_REQUESTS_PER_MINUTE,
          // The local challenge allows `pitwall resume`, as a challenge on EvalAI must (allow_resuming_submissions).
          allowResumingSubmissions: true,
          onSubmission: (_submission, message) => this.publish(message),
          // EvalAI keeps its submissions: so does the embedded one, next to Pitwall's own state.
          stateFile: join(options.stateDir, 'evalai.json'),
        }));
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

  /** The EvalAI emulator this runtime talks to; a runtime serving a real EvalAI has none. */
  get evalai(): EvalAiEmulator {
    if (!this.emulator) throw new NoEmulatorError();
    return this.emulator;
  }

  get challenge(): ChallengeConfig {
    return this.plane.config;
  }

  get stateDir(): string {
    return this.options.stateDir;
  }

  /**
   * The NetworkPolicy for the cluster's worker pods (`kubectl apply -f`), written at start: out only to the
   * stores' gateways. None when `storesAddress` is a host name.
   */
  get networkPolicyFile(): string {
    return join(this.options.stateDir, 'network-policy.json');
  }

  /** This machine's stores key, for logcopy's Secret on a cluster (`kubectl create secret … --from-env-file`). */
  get storesKeyFile(): string {
    return join(this.options.stateDir, 'stores-key.env');
  }

  /** A participant's `evalai push`: EvalAI records the submission and publishes its message. */
  async submit(team: string, image: string): Promise<EmulatedSubmission> {
    checkStandinAgent(image);
    const submission = this.evalai.createSubmission({
      phasePk: LOCAL_PHASE_PK,
      teamPk: this.evalai.teamPkOf(team),
      teamName: team,
      imageUri: image,
    });
    await this.publish(this.evalai.messageFor(submission.id));
    return submission;
  }

  /**
   * Whether submissions can be taken in: since when the intake (the Pipe on the submissions queue, or the relay
   * from EvalAI's queue proxy) has failed, and why; undefined while it works.
   */
  intakeFailing(): { readonly since: Date; readonly error: string } | undefined {
    const failing = [this.pipe?.failing, this.relayFailing].filter((f) => f !== undefined);
    const first = failing.sort((a, b) => a.since - b.since)[0];
    return first ? { since: new Date(first.since), error: first.error } : undefined;
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

  /** One run of the relay (a challenge whose queue is EvalAI's own): its entry point, given a schedule's event. */
  relay(): Promise<RelayReport> {
    return this.housekeepers.relay({ source: 'aws.scheduler' }, lambdaContext('ingest', 'relay'));
  }

  async stop(): Promise<void> {
    clearInterval(this.housekeeping);
    clearInterval(this.relaying);
    await this.pipe?.stop();
    this.engine.abortAll();
    if (this.jobs instanceof FolderJobRunner) await this.jobs.shutdown();
    if (this.ownsEvalAi) await this.evalai.close();
    for (const client of this.clients) client.destroy();
    await Promise.all(this.servers.map((server) => server.close()));
    this.unlock();
  }

  // biome-ignore lint/complexity/noExcessiveLinesPerFunction: not yet split: executors by table, queues and recovery in rooms of their own (#32 item 1)
  private async boot(): Promise<void> {
    const stores = await startLocalStores({
      table: LOCAL_TABLE,
      bucket: LOCAL_BUCKET,
      region: LOCAL_REGION,
      directory: this.options.stateDir,
      ...(this.options.cluster
        ? { gateway: { host: this.options.cluster.storesAddress, key: machineStoresKey(this.storesKeyFile) } }
        : {}),
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
    const { server } = this.options;
    const evalaiUrl = server?.url ?? (this.ownsEvalAi ? await this.evalai.start() : this.evalai.url);
    const evalaiToken = server?.token ?? LOCAL_HOST_TOKEN;

    this.sqs = new SQSClient({
      region: LOCAL_REGION,
      endpoint: sqsEndpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    this.clients.push(this.sqs);
    const { queueUrl, deadLetterQueueUrl, queueArn } = await this.createQueues();
    const endpoints = {
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
    const challenge = server?.challenge ?? this.embeddedChallenge(pollSeconds);
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
      EVALAI_TOKEN: evalaiToken,
    };
    const config = readLambdaConfig(this.functionEnvironment);
    await this.uploadRoutes(artifacts, config.challenge);
    const tracks = Object.values(config.challenge.phases).map((phase) => phase.track);
    const executor = this.options.executor ?? 'processes';
    this.jobs =
      executor === 'instant'
        ? new InstantJobRunner(artifacts, {
            evaluationSeconds: this.options.evaluationSeconds ?? 0,
            clock,
            instanceType: LOCAL_NODE_CLASS,
          })
        : executor === 'kubernetes'
          ? this.clusterExecutor(stores.gateways)
          : executor === 'podman' || executor === 'docker'
            ? await this.containerExecutor(executor, tracks, dynamo.endpoint, s3.endpoint)
            : await this.processExecutor(tracks, artifacts, dynamo.endpoint, s3.endpoint);
    const evalai = new EvalAiClient({
      baseUrl: evalaiUrl,
      token: evalaiToken,
      budget: new MemoryRequestBudget(
        server?.requestsPerMinute ?? this.options.requestsPerMinute ?? LOCAL_REQUESTS_PER_MINUTE,
        () => clock.now().getTime(),
      ),
      ...(server ? {} : { minRetryDelayMs: 50, maxRetryDelayMs: 500 }),
    });
    // Where submissions come in: the host's SQS queue, read by the Pipe as in AWS; otherwise the local
    // queue, which the embedded EvalAI writes to, or the relay fills from EvalAI's REST proxy.
    const relayed = server && 'queueName' in server.intake ? server.intake : undefined;
    const submissions =
      server && 'hostQueueArn' in server.intake
        ? await this.hostQueue(server.intake.hostQueueArn)
        : { sqs: this.sqs, url: queueUrl, arn: queueArn };
    // What the functions cannot build from their environment here: the Jobs and the executions are the
    // runtime's, the queues are not at the SQS addresses their ARNs name, and EvalAI's budget keeps the
    // runtime's clock, which may run faster than the wall's.
    const ports = {
      evalai,
      intake: evalai.queueProxy(relayed?.queueName ?? QUEUE),
      jobs: this.jobs,
      queue: new SqsSubmissionQueue(submissions.sqs, submissions.url),
      clock,
      executions: this.engine,
      starter: this.engine,
    } satisfies Partial<ControlPlane>;
    this.plane = { config: config.challenge, store: stores.store, admissions: stores.admissions, artifacts, ...ports };
    const dashboard = await startDashboard(this.plane, {
      ...(this.gpuCapacity === undefined ? {} : { gpuCapacity: this.gpuCapacity }),
    });
    this.servers.push({ endpoint: dashboard.url, close: () => dashboard.close() });
    const publicStatus = this.options.publicStatus
      ? await startPublicStatus(this.plane, this.options.publicStatus)
      : undefined;
    if (publicStatus) this.servers.push({ endpoint: publicStatus.url, close: () => publicStatus.close() });
    this.endpoints = {
      ...endpoints,
      dashboard: dashboard.url,
      ...(publicStatus ? { publicStatus: publicStatus.url } : {}),
    };
    this.host = { env: this.functionEnvironment, ports };
    this.engine.invokers = lambdaInvokers(this.host);
    this.housekeepers = {
      sweep: entryPointOf('cleanup', 'sweep').hostedBy(this.host) as LambdaEntryPoint<SweepReport>,
      reconcile: entryPointOf('cleanup', 'reconcile').hostedBy(this.host) as LambdaEntryPoint<ReconcileReport>,
      relay: entryPointOf('ingest', 'relay').hostedBy(this.host) as LambdaEntryPoint<RelayReport>,
    };
    if (this.options.recover ?? true) await this.recover();
    this.pipe = new SqsPipe(submissions.sqs, submissions.url, submissions.arn, this.engine);
    this.pipe.start();
    if (relayed) {
      const relayOnce = () =>
        this.relay().then(
          () => {
            this.relayFailing = undefined;
          },
          (error: unknown) => {
            this.housekeepingError = (error as Error).message;
            this.relayFailing = { since: this.relayFailing?.since ?? Date.now(), error: (error as Error).message };
          },
        );
      void relayOnce();
      this.relaying = setInterval(() => void relayOnce(), relayed.everyMs);
      this.relaying.unref();
    }
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

  /** How the Jobs are laid out: the same settings as on EKS, with this machine's stores as the AWS endpoints. */
  private jobSettings(
    images: ClusterSettings['images'],
    dynamodb: string,
    s3: string,
    jobs: { readonly layout: ClusterLayout; readonly logcopyCredentials: ClusterSettings['logcopyCredentials'] },
  ): ClusterSettings {
    return parseClusterSettings({
      ...jobs.layout,
      ...this.options.podLimits,
      images,
      logcopyCredentials: jobs.logcopyCredentials,
      region: LOCAL_REGION,
      awsEndpoints: { s3, dynamodb },
      bucket: LOCAL_BUCKET,
      table: LOCAL_TABLE,
    });
  }

  /** Each Job's containers as processes: the real logcopy and the CARLA stand-in. */
  private async processExecutor(
    tracks: readonly string[],
    artifacts: S3ArtifactStore,
    dynamodb: string,
    s3: string,
  ): Promise<ProcessJobRunner> {
    return new ProcessJobRunner({
      directory: join(this.options.stateDir, 'jobs'),
      settings: this.jobSettings(
        {
          simulator: 'local/carla-simulator:0.9.15',
          evaluator: 'local/leaderboard-evaluator:2.0',
          logcopy: 'local/pitwall-logcopy:dev',
        },
        dynamodb,
        s3,
        onThisMachine(tracks),
      ),
      programs: await buildLocalPrograms(join(this.options.stateDir, 'bin')),
      routeFile: async (key) => (await artifacts.get(key)) ?? '',
      logcopyEnv: LOGCOPY_CREDENTIALS,
      msPerKm: this.options.msPerKm ?? 50,
    });
  }

  /** Each Job as a pod of real containers, from the local images. */
  private async containerExecutor(
    engine: ContainerEngine,
    tracks: readonly string[],
    dynamodb: string,
    s3: string,
  ): Promise<ContainerJobRunner> {
    const gpus = this.options.gpus ? await GpuPool.discover(this.options.gpus) : undefined;
    this.gpuCapacity = gpus?.size;
    // The stand-ins' pace, and, with no GPU to give, their pretend one; real images get neither.
    const standin = this.options.images
      ? {}
      : { ...standinPace(this.options.msPerKm ?? 50), ...(gpus ? {} : { PITWALL_STANDIN_GPUS: '1' }) };
    return new ContainerJobRunner({
      directory: join(this.options.stateDir, 'containers'),
      engine,
      settings: this.jobSettings(this.options.images ?? LOCAL_IMAGES, dynamodb, s3, onThisMachine(tracks)),
      logcopyEnv: LOGCOPY_CREDENTIALS,
      podEnv: standin,
      ...(gpus ? { gpus } : {}),
    });
  }

  /**
   * Jobs on a Kubernetes cluster through its kubeconfig, laid out as the stage says, their logcopy given this
   * machine's stores' signed gateways and the Secret that holds their key. The cluster keeps its Jobs across a restart.
   */
  private clusterExecutor(gateways: LocalStores['gateways']): KubernetesJobRunner {
    const { cluster, images } = this.options;
    if (!cluster || !images || !gateways) {
      throw new ExecutorSettingsError('the kubernetes executor needs the cluster to run on and the images to run');
    }
    const settings = this.jobSettings(images, gateways.dynamodb.endpoint, gateways.s3.endpoint, {
      layout: cluster.layout,
      logcopyCredentials: { secretName: cluster.logcopySecret },
    });
    const ports = [gateways.dynamodb.endpoint, gateways.s3.endpoint].map(portOf);
    const policy = storesNetworkPolicy(settings.namespace, cluster.storesAddress, ports);
    if (policy) writeFileSync(this.networkPolicyFile, JSON.stringify(policy, null, 2));
    else rmSync(this.networkPolicyFile, { force: true });
    return new KubernetesJobRunner(kubeconfigAccess({ path: cluster.kubeconfig, context: cluster.context }), settings);
  }

  /** The route files the stage names, into the local bucket; a phase whose routes are not there stops the start. */
  private async uploadRoutes(artifacts: S3ArtifactStore, challenge: ChallengeConfig): Promise<void> {
    for (const [key, path] of Object.entries(this.options.routeFiles ?? {})) {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (error) {
        throw new RouteFileError(`cannot read the route file ${path} for ${key}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      await artifacts.put(key, text, 'application/xml');
    }
    for (const [pk, phase] of Object.entries(challenge.phases)) {
      if ((await artifacts.get(phase.routesKey)) === undefined) {
        throw new RouteFileError(
          `phase ${pk} runs the routes ${phase.routesKey}, which this machine does not have: name its file under machine.routeFiles`,
        );
      }
    }
  }

  /** The embedded EvalAI's challenge: one SENSORS phase on the 20 validation routes, the stand-in agents. */
  private embeddedChallenge(pollSeconds: number) {
    return {
      challengePk: LOCAL_CHALLENGE_PK,
      phases: {
        [LOCAL_PHASE_PK]: {
          track: 'SENSORS',
          routesKey: 'routes/validation.xml',
          workers: this.options.workers ?? 4,
          timeLimitSeconds: this.options.timeLimitSeconds ?? 600,
          ...this.options.capacity,
        },
      },
      // The stand-in agents: local/agent:<behaviour>, fully qualified as localhost/local/agent:<behaviour>.
      allowedImages: [STANDIN_AGENT_REPOSITORY.source],
      poll: { initialSeconds: pollSeconds, maxSeconds: pollSeconds, maxTurns: 5000 },
      // This machine's GPU priced as the cloud's node for the same work (a g5.2xlarge in us-west-2), so that
      // `pitwall cost` shows what the runs would have cost there.
      prices: { [LOCAL_NODE_CLASS]: LOCAL_GPU_PRICE },
      ...(this.options.queue ? { queue: this.options.queue } : {}),
    };
  }

  /** The host's queue (use_host_sqs), with the machine's AWS credentials and the region its ARN names. */
  private async hostQueue(arn: string) {
    const { region, account, name } = queueOf(arn);
    const sqs = new SQSClient({ region });
    this.clients.push(sqs);
    try {
      const { queueUrl } = await openSubmissionQueue(sqs, { name, account });
      return { sqs, url: queueUrl, arn };
    } catch (error) {
      throw new HostQueueUnavailableError(
        `cannot reach the challenge's queue ${arn} with this machine's AWS credentials: ${((error as Error).cause as Error).message}`,
        { cause: error },
      );
    }
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
    if (this.jobs instanceof FolderJobRunner) await this.jobs.recover();
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
    for (const submission of this.emulator?.submissions.values() ?? []) {
      if (submission.status === 'submitted' && !(await this.plane.store.get(submission.id))) {
        await this.publish(this.evalai.messageFor(submission.id));
      }
    }
  }
}

/** A runtime serving a real EvalAI was asked for its emulator. */
export class NoEmulatorError extends Error {
  constructor() {
    super('this runtime serves a real EvalAI: it has no emulator');
    this.name = 'NoEmulatorError';
  }
}

/** A phase's route file is missing or unreadable. */
export class RouteFileError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RouteFileError';
  }
}

/** The executor asked for lacks what it runs with (the kubernetes one: a cluster and images). */
export class ExecutorSettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExecutorSettingsError';
  }
}

/** The host's SQS queue could not be found or read with the machine's credentials. */
export class HostQueueUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'HostQueueUnavailableError';
  }
}

/**
 * Jobs on this machine's executors: every track on it, two crashes allowed, logcopy syncing four times a
 * second. Their logcopy has the stores' key in its environment (LOGCOPY_CREDENTIALS), which the credential
 * chain takes before the role, so the role is never assumed.
 */
function onThisMachine(tracks: readonly string[]) {
  return {
    layout: {
      instanceTypes: Object.fromEntries(tracks.map((track) => [track, LOCAL_NODE_CLASS])),
      backoffLimit: 2,
      logcopyPeriodSeconds: 0.25,
    },
    logcopyCredentials: { roleArn: 'arn:aws:iam::000000000000:role/pitwall-logcopy' },
  };
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

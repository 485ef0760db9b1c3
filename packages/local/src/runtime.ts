import { join } from 'node:path';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { EvalAiClient, MemoryRequestBudget, SqsSubmissionQueue } from '@pitwall/adapters';
import {
  type ChallengeConfig,
  type ControlPlane,
  type ReconcileReport,
  type RelayReport,
  type SweepReport,
  systemClock,
} from '@pitwall/domain';
import {
  type EmulatedSubmission,
  type EvalAiEmulator,
  type RunningServer,
  UNSIGNED_SERVER_CREDENTIALS,
} from '@pitwall/emulators';
import { type LambdaEntryPoint, type LambdaHost, readLambdaConfig } from '@pitwall/lambda-kit';
import { createSqsServer } from 'local-aws-sqs';
import { startDashboard, startPublicStatus } from './dashboard/dashboard-server.js';
import { entryPointOf, LocalEngine, lambdaContext, lambdaInvokers } from './engine.js';
import { EXECUTORS, type LocalJobs } from './executors/executor-table.js';
import { functionEnvironment } from './function-environment.js';
import {
  embeddedChallenge,
  embeddedEvalAi,
  LOCAL_BUCKET,
  LOCAL_HOST_TOKEN,
  LOCAL_PHASE_PK,
  LOCAL_REGION,
  LOCAL_REQUESTS_PER_MINUTE,
  LOCAL_TABLE,
} from './local-challenge.js';
import { SqsPipe } from './pipe.js';
import { createLocalQueues, LOCAL_QUEUE, openHostQueue, type SubmissionsQueue } from './queues.js';
import { recoverSubmissions } from './recovery.js';
import { uploadRouteFiles } from './route-files.js';
import type { LocalEndpoints, LocalRuntimeOptions } from './runtime-options.js';
import { machineStoresKey } from './signed-gateway.js';
import { checkStandinAgent } from './standin/behaviours.js';
import { lockStateDir } from './state-lock.js';
import { type LocalStores, startLocalStores } from './stores.js';

/**
 * The whole pipeline on one machine: dynalite, s3rver and an SQS server on 127.0.0.1, the EvalAI emulator,
 * the Pipe, the same state machine run by the local engine with the real handlers, and the local executor.
 * This room holds the runtime's lifecycle; the executors, the queues, the embedded challenge and the recovery
 * after a restart each have their own.
 */
export class LocalRuntime {
  readonly engine: LocalEngine;
  plane!: ControlPlane;
  endpoints!: LocalEndpoints;
  /** The environment every function reads, as in AWS. */
  functionEnvironment!: Readonly<Record<string, string>>;
  /** Why the last scheduled sweep or reconciliation could not run, if it could not. */
  housekeepingError: string | undefined;
  private localJobs: LocalJobs | undefined;
  private host!: LambdaHost;
  private housekeepers!: {
    sweep: LambdaEntryPoint<SweepReport>;
    reconcile: LambdaEntryPoint<ReconcileReport>;
    relay: LambdaEntryPoint<RelayReport>;
  };
  private pipe!: SqsPipe;
  private sqs!: SQSClient;
  private housekeeping: NodeJS.Timeout | undefined;
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
      : (options.evalai ?? embeddedEvalAi(options.stateDir, (message) => this.publish(message)));
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

  /** The executor's Jobs, once the runtime has started. */
  get jobs(): LocalJobs['runner'] {
    if (!this.localJobs) throw new Error('the runtime has not started its executor');
    return this.localJobs.runner;
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
    await this.localJobs?.shutdown();
    if (this.ownsEvalAi) await this.evalai.close();
    for (const client of this.clients) client.destroy();
    await Promise.all(this.servers.map((server) => server.close()));
    this.unlock();
  }

  private async boot(): Promise<void> {
    const stores = await this.startStores();
    const { server } = this.options;
    const evalaiUrl = server?.url ?? (this.ownsEvalAi ? await this.evalai.start() : this.evalai.url);
    const evalaiToken = server?.token ?? LOCAL_HOST_TOKEN;
    const clock = this.options.clock ?? systemClock;
    const challenge = server?.challenge ?? embeddedChallenge(this.options, this.options.pollSeconds ?? 1);
    // Parsed here once, so that a mistake stops the start, and again by each function as it cold-starts.
    this.functionEnvironment = functionEnvironment({
      stores,
      challenge,
      evalai: { url: evalaiUrl, token: evalaiToken },
    });
    const config = readLambdaConfig(this.functionEnvironment);
    await uploadRouteFiles(stores.artifacts, this.options.routeFiles ?? {}, config.challenge);
    this.localJobs = await EXECUTORS[this.options.executor ?? 'processes']({
      options: this.options,
      tracks: Object.values(config.challenge.phases).map((phase) => phase.track),
      artifacts: stores.artifacts,
      stores: { dynamodb: stores.dynamodb.endpoint, s3: stores.s3.endpoint, gateways: stores.gateways },
      clock,
      networkPolicyFile: this.networkPolicyFile,
    });
    const evalai = new EvalAiClient({
      baseUrl: evalaiUrl,
      token: evalaiToken,
      budget: new MemoryRequestBudget(
        server?.requestsPerMinute ?? this.options.requestsPerMinute ?? LOCAL_REQUESTS_PER_MINUTE,
        () => clock.now().getTime(),
      ),
      ...(server ? {} : { minRetryDelayMs: 50, maxRetryDelayMs: 500 }),
    });
    const { local, submissions } = await this.openQueues();
    // What the functions cannot build from their environment here: the Jobs and the executions are the
    // runtime's, the queues are not at the SQS addresses their ARNs name, and EvalAI's budget keeps the
    // runtime's clock, which may run faster than the wall's.
    const relayed = server && 'queueName' in server.intake ? server.intake : undefined;
    const ports = {
      evalai,
      intake: evalai.queueProxy(relayed?.queueName ?? LOCAL_QUEUE),
      jobs: this.jobs,
      queue: new SqsSubmissionQueue(submissions.sqs, submissions.url),
      clock,
      executions: this.engine,
      starter: this.engine,
    } satisfies Partial<ControlPlane>;
    this.plane = {
      config: config.challenge,
      store: stores.store,
      admissions: stores.admissions,
      artifacts: stores.artifacts,
      ...ports,
    };
    this.endpoints = {
      dynamodb: stores.dynamodb.endpoint,
      s3: stores.s3.endpoint,
      sqs: local.endpoint,
      queueUrl: local.queueUrl,
      deadLetterQueueUrl: local.deadLetterQueueUrl,
      evalai: evalaiUrl,
      ...(await this.startPages()),
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
    if (relayed) this.startRelay(relayed.everyMs);
    this.startHousekeeping(this.options.housekeepingMs ?? 60_000);
  }

  /** DynamoDB and S3 on this machine, behind signed gateways where a cluster's pods reach them. */
  private async startStores(): Promise<LocalStores> {
    const { cluster } = this.options;
    const stores = await startLocalStores({
      table: LOCAL_TABLE,
      bucket: LOCAL_BUCKET,
      region: LOCAL_REGION,
      directory: this.options.stateDir,
      ...(cluster ? { gateway: { host: cluster.storesAddress, key: machineStoresKey(this.storesKeyFile) } } : {}),
    });
    this.servers.push({ endpoint: '', close: () => stores.close() });
    return stores;
  }

  /**
   * The local SQS server and its queues, and where submissions come in: the host's SQS queue, read by the
   * Pipe as in AWS; otherwise the local queue, which the embedded EvalAI writes to, or the relay fills from
   * EvalAI's REST proxy.
   */
  private async openQueues(): Promise<{
    local: Awaited<ReturnType<typeof createLocalQueues>> & { endpoint: string };
    submissions: SubmissionsQueue;
  }> {
    const sqsServer = await createSqsServer({ port: 0, hostname: '127.0.0.1', region: LOCAL_REGION });
    const endpoint = `http://127.0.0.1:${(sqsServer.address() as { port: number }).port}`;
    this.servers.push({ endpoint, close: () => new Promise((resolve) => sqsServer.close(() => resolve())) });
    this.sqs = new SQSClient({
      region: LOCAL_REGION,
      endpoint,
      credentials: UNSIGNED_SERVER_CREDENTIALS,
    });
    this.clients.push(this.sqs);
    const local = { ...(await createLocalQueues(this.sqs)), endpoint };
    const intake = this.options.server?.intake;
    if (intake && 'hostQueueArn' in intake) {
      const submissions = await openHostQueue(intake.hostQueueArn);
      this.clients.push(submissions.sqs);
      return { local, submissions };
    }
    return { local, submissions: { sqs: this.sqs, url: local.queueUrl, arn: local.queueArn } };
  }

  /** The dashboard, and the public status page when one is asked for. */
  private async startPages(): Promise<Pick<LocalEndpoints, 'dashboard' | 'publicStatus'>> {
    const gpuCapacity = this.localJobs?.gpuCapacity;
    const dashboard = await startDashboard(this.plane, gpuCapacity === undefined ? {} : { gpuCapacity });
    this.servers.push({ endpoint: dashboard.url, close: () => dashboard.close() });
    if (!this.options.publicStatus) return { dashboard: dashboard.url };
    const publicStatus = await startPublicStatus(this.plane, this.options.publicStatus);
    this.servers.push({ endpoint: publicStatus.url, close: () => publicStatus.close() });
    return { dashboard: dashboard.url, publicStatus: publicStatus.url };
  }

  /** The relay on its schedule: EvalAI's queue proxy into the local queue; failures are kept for `intakeFailing`. */
  private startRelay(everyMs: number): void {
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
    this.relaying = setInterval(() => void relayOnce(), everyMs);
    this.relaying.unref();
  }

  /** The sweeper and the reconciler on their schedule; 0 turns them off. */
  private startHousekeeping(everyMs: number): void {
    if (everyMs <= 0) return;
    // A run that throws (EvalAI unreachable) is kept, and the next tick tries again, as a schedule would.
    this.housekeeping = setInterval(
      () =>
        void this.housekeep().catch((error: unknown) => {
          this.housekeepingError = (error as Error).message;
        }),
      everyMs,
    );
    this.housekeeping.unref();
  }

  /** After a restart: the executor's Jobs on disk carry on (a cluster keeps running), then the submissions. */
  private async recover(): Promise<void> {
    await this.localJobs?.recover();
    await recoverSubmissions({
      store: this.plane.store,
      engine: this.engine,
      emulator: this.emulator,
      publish: (message) => this.publish(message),
    });
  }
}

/** A runtime serving a real EvalAI was asked for its emulator. */
export class NoEmulatorError extends Error {
  constructor() {
    super('this runtime serves a real EvalAI: it has no emulator');
    this.name = 'NoEmulatorError';
  }
}

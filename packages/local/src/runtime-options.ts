import type { ChallengeConfig, Clock, TrackConfig } from '@pitwall/domain';
import type { EvalAiEmulator } from '@pitwall/emulators';
import type { ClusterLayout, ClusterSettings } from '@pitwall/kube';
import type { PublicStatusOptions } from './dashboard/dashboard-server.js';
import type { LocalExecutor } from './executors/executor-table.js';
import type { GpuPoolOptions } from './executors/gpu-pool.js';

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

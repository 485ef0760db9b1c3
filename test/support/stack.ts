import { EvalAiClient, MemoryRequestBudget, type RequestBudget } from '@pitwall/adapters';
import {
  CARLA_LEADERBOARD_LABELS,
  type ChallengeConfig,
  type ControlPlane,
  parseChallengeConfig,
} from '@pitwall/domain';
import { FakeJobRunner, ManualClock } from '@pitwall/domain/testing';
import { EvalAiEmulator } from '@pitwall/emulators';
import type { HandlerServices } from '@pitwall/lambda-kit';
import { type LocalStores, startLocalStores } from '@pitwall/local';

export const CHALLENGE_PK = 203;
export const PHASE_PK = 527;
export const QUALIFIER_PHASE_PK = 528;
export const HOST_TOKEN = 'host-token';
export const IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/leaderboard-20-participant-team-1:abc';
const LABELS = Object.keys(CARLA_LEADERBOARD_LABELS);

export function challengeConfig(overrides: Partial<Record<string, unknown>> = {}): ChallengeConfig {
  return parseChallengeConfig({
    challengePk: CHALLENGE_PK,
    phases: {
      [PHASE_PK]: { track: 'SENSORS', routesKey: 'routes/validation.xml', workers: 4, timeLimitSeconds: 3600 },
    },
    allowedImages: ['^123456789012\\.dkr\\.ecr\\.us-east-1\\.amazonaws\\.com/'],
    poll: { initialSeconds: 1, maxSeconds: 1, maxTurns: 1000 },
    ...overrides,
  });
}

/** Real local servers (dynalite, s3rver, the EvalAI emulator) and the real adapters over them. */
/** The challenge's queue on EvalAI's side, read through its REST proxy by the relay. */
export const QUEUE_NAME = 'carla-leaderboard-queue';

export class Stack {
  readonly jobs = new FakeJobRunner();
  readonly clock = new ManualClock();
  readonly evalai = new EvalAiEmulator({
    challengePk: CHALLENGE_PK,
    phases: [
      { pk: PHASE_PK, codename: 'leaderboard-20-SENSORS', splits: ['leaderboard'] },
      { pk: QUALIFIER_PHASE_PK, codename: 'leaderboard-20-SENSORS_QUALIFIER', splits: ['leaderboard'] },
    ],
    labels: LABELS,
    hostToken: HOST_TOKEN,
    queueName: QUEUE_NAME,
    users: [
      { token: 'outsider-token', host: false },
      { token: 'unverified-token', host: true, emailVerified: false },
    ],
    // The suite runs many submissions a minute; the throttle and the budget have tests of their own.
    requestsPerMinute: 100_000,
  });
  plane!: ControlPlane;
  services!: HandlerServices;
  /** What a hand-over does: the test starts a fresh execution here. */
  onStartExecution: ((input: unknown, name?: string) => Promise<string>) | undefined;
  /** Messages the reconciler sent to EvalAI's queue. */
  readonly resent: Parameters<ControlPlane['queue']['send']>[0][] = [];
  /** Called as each artifact is read or written: the moment S3 is asked, e.g. to interleave a cancel. */
  onArtifact: ((operation: 'get' | 'put', key: string) => void | Promise<void>) | undefined;
  /** Executions the sweeper should consider alive. */
  readonly runningExecutions = new Set<string>();
  private stores: LocalStores | undefined;

  static async start(config: ChallengeConfig = challengeConfig()): Promise<Stack> {
    const stack = new Stack();
    await stack.boot(config);
    return stack;
  }

  private async boot(config: ChallengeConfig): Promise<void> {
    const stores = await startLocalStores({ table: 'pitwall', bucket: 'pitwall', region: 'eu-west-1' });
    this.stores = stores;
    await this.evalai.start();
    this.plane = {
      config,
      store: stores.store,
      admissions: stores.admissions,
      artifacts: {
        get: async (key) => {
          await this.onArtifact?.('get', key);
          return stores.artifacts.get(key);
        },
        put: async (key, body, contentType) => {
          await this.onArtifact?.('put', key);
          return stores.artifacts.put(key, body, contentType);
        },
      },
      evalai: this.evalAiClient(HOST_TOKEN),
      intake: this.evalAiClient(HOST_TOKEN).queueProxy(QUEUE_NAME),
      jobs: this.jobs,
      queue: { send: async (message) => void this.resent.push(message) },
      clock: this.clock,
      starter: {
        start: (input, name) => {
          if (!this.onStartExecution) throw new Error('this test does not expect a hand-over');
          return this.onStartExecution(input, name);
        },
      },
      executions: { isRunning: async (id) => this.runningExecutions.has(id) },
    };
    this.services = {
      plane: this.plane,
      idempotency: stores.idempotency,
    };
  }

  private evalAiClient(token: string, budget: RequestBudget = new MemoryRequestBudget(100_000)): EvalAiClient {
    return new EvalAiClient({
      baseUrl: this.evalai.url,
      token,
      challengePk: CHALLENGE_PK,
      budget,
      minRetryDelayMs: 1,
      maxRetryDelayMs: 5,
      retries: 2,
    });
  }

  /** Runs `work` with the handlers holding another EvalAI token (a rotated one, another user's) or budget. */
  async withEvalAi<T>(options: { token?: string; budget?: RequestBudget }, work: () => Promise<T>): Promise<T> {
    const plane = this.plane as { evalai: ControlPlane['evalai'] };
    const host = plane.evalai;
    plane.evalai = this.evalAiClient(options.token ?? HOST_TOKEN, options.budget);
    try {
      return await work();
    } finally {
      plane.evalai = host;
    }
  }

  async stop(): Promise<void> {
    await this.evalai.close();
    await this.stores?.close();
  }
}

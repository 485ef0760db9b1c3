import { join } from 'node:path';
import { CARLA_LEADERBOARD_LABELS, type ChallengeConfig, type TrackConfig } from '@pitwall/domain';
import { EvalAiEmulator } from '@pitwall/emulators';
import { STANDIN_AGENT_REPOSITORY } from './standin/behaviours.js';

/** The embedded EvalAI's challenge and phase: what `npm start`, `local up` and the tests evaluate. */
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
/** Local time runs fast: polls every half second, so EvalAI's per-minute budget is scaled up to match. */
export const LOCAL_REQUESTS_PER_MINUTE = 100_000;

/** EvalAI's leaderboard labels: the CARLA challenge's 15. */
export const LEADERBOARD_LABELS = Object.keys(CARLA_LEADERBOARD_LABELS);

/** The embedded EvalAI, its submissions kept beside Pitwall's own state; each new one's message is published. */
export function embeddedEvalAi(stateDir: string, publish: (message: string) => Promise<void>): EvalAiEmulator {
  return new EvalAiEmulator({
    challengePk: LOCAL_CHALLENGE_PK,
    phases: [{ pk: LOCAL_PHASE_PK, codename: 'local-SENSORS', splits: [LOCAL_SPLIT] }],
    labels: LEADERBOARD_LABELS,
    hostToken: LOCAL_HOST_TOKEN,
    participantToken: LOCAL_PARTICIPANT_TOKEN,
    requestsPerMinute: LOCAL_REQUESTS_PER_MINUTE,
    // The local challenge allows `pitwall resume`, as a challenge on EvalAI must (allow_resuming_submissions).
    allowResumingSubmissions: true,
    onSubmission: (_submission, message) => publish(message),
    stateFile: join(stateDir, 'evalai.json'),
  });
}

/** What of the embedded challenge a runtime's options set. */
export interface EmbeddedChallengeOptions {
  readonly workers?: number;
  readonly timeLimitSeconds?: number;
  readonly capacity?: Partial<Pick<TrackConfig, 'capacity' | 'maxInterruptions' | 'onDemandWithinSeconds'>>;
  readonly queue?: Partial<NonNullable<ChallengeConfig['queue']>>;
}

/** The embedded EvalAI's challenge: one SENSORS phase on the 20 validation routes, the stand-in agents. */
export function embeddedChallenge(options: EmbeddedChallengeOptions, pollSeconds: number) {
  return {
    challengePk: LOCAL_CHALLENGE_PK,
    phases: {
      [LOCAL_PHASE_PK]: {
        track: 'SENSORS',
        routesKey: 'routes/validation.xml',
        workers: options.workers ?? 4,
        timeLimitSeconds: options.timeLimitSeconds ?? 600,
        ...options.capacity,
      },
    },
    // The stand-in agents: local/agent:<behaviour>, fully qualified as localhost/local/agent:<behaviour>.
    allowedImages: [STANDIN_AGENT_REPOSITORY.source],
    poll: { initialSeconds: pollSeconds, maxSeconds: pollSeconds, maxTurns: 5000 },
    // This machine's GPU priced as the cloud's node for the same work (a g5.2xlarge in us-west-2), so that
    // `pitwall cost` shows what the runs would have cost there.
    prices: { [LOCAL_NODE_CLASS]: LOCAL_GPU_PRICE },
    ...(options.queue ? { queue: options.queue } : {}),
  };
}

import { z } from 'zod';
import { CAPACITY_CHOICES } from '../cost/spot.js';
import { CARLA_LEADERBOARD_LABELS } from '../results/evalai-payload.js';
import { CARLA_VALUE_SOURCES } from '../results/merge.js';
import { PLAN_STRATEGIES } from '../routes/plan.js';

/**
 * What differs between challenges: parsed once at start (from a file or an environment variable
 * at the edge) and handed to the use cases. Nothing here reads the environment.
 */
const positiveInt = z.number().int().min(1);

export const trackConfigSchema = z.strictObject({
  /** Track codename, as the evaluator's --track takes it: SENSORS, MAP, SENSORS_QUALIFIER… */
  track: z.string().regex(/^[A-Z0-9_]{1,40}$/, { error: 'must be an upper-case codename' }),
  /** Key of the route XML in the artifact store. */
  routesKey: z.string().min(1),
  repetitions: positiveInt.max(100).default(1),
  workers: positiveInt.max(64),
  strategy: z.enum(PLAN_STRATEGIES).default('balanced'),
  /**
   * Evaluation time allowed: counted from the moment the attempt's first worker pod runs, so waiting for a
   * GPU node does not count; a resumed attempt has what the earlier ones left.
   */
  timeLimitSeconds: positiveInt.max(14 * 24 * 3600),
  /** How long an attempt may wait for its first worker pod to run (for capacity) before it is failed. */
  queueTimeoutSeconds: positiveInt.max(14 * 24 * 3600).default(24 * 3600),
  /**
   * EvalAI's partial evaluation (is_partial_submission_evaluation_enabled) is on for this phase: partial
   * results are sent while the evaluation runs. Off, none are sent, since any partial PUT takes the
   * submission out of EvalAI's per-team concurrency count (§7); progress still goes to DynamoDB.
   */
  partialEvaluation: z.boolean().default(false),
  /**
   * Where the workers run: `on-demand`, `spot`, or `spot-first` (spot preferred, on demand where none can be
   * had, and for good for a worker interrupted more than `maxInterruptions` times, or near its deadline).
   */
  capacity: z.enum(CAPACITY_CHOICES).default('on-demand'),
  maxInterruptions: z.number().int().min(0).max(100).default(2),
  /** A spot-first worker that loses its node with less than this left of its time moves to on demand at once. */
  onDemandWithinSeconds: positiveInt.optional(),
  /** A running agent whose log and checkpoint stay unchanged this long is stopped (leaderboard-cloud: 800 s). */
  idleTimeoutSeconds: positiveInt.default(800),
  /** Teams must have passed this track's qualifier first. */
  requiresQualifier: z.string().optional(),
  /** Finishing this track with every threshold met qualifies the team for `grants`. */
  qualifier: z.strictObject({ grants: z.string(), thresholds: z.record(z.string(), z.number()) }).optional(),
});
export type TrackConfig = z.infer<typeof trackConfigSchema>;

export const challengeConfigSchema = z
  .strictObject({
    challengePk: positiveInt,
    /** EvalAI phase pk (as a string key) → track. */
    phases: z.record(z.string().regex(/^[0-9]+$/), trackConfigSchema).refine((p) => Object.keys(p).length > 0, {
      error: 'must configure at least one phase',
    }),
    /**
     * Regular expressions an image URI must match one of, e.g. an ECR registry/repository prefix. `{team}`
     * stands for the submitting team's pk, so that a team can only submit from its own repository.
     */
    allowedImages: z
      .array(
        z
          .string()
          .refine(
            (pattern) => {
              try {
                return Boolean(new RegExp(pattern));
              } catch {
                return false;
              }
            },
            { error: 'must be a valid regular expression' },
          )
          // Unanchored, `ecr\.aws/` would also admit `evil.example/ecr.aws/…`.
          .refine((pattern) => pattern.startsWith('^'), { error: 'must be anchored: start it with ^' }),
      )
      .min(1),
    leaderboard: z
      .object({
        split: z.string().min(1),
        showToParticipant: z.boolean().default(true),
        labels: z.record(z.string(), z.enum(CARLA_VALUE_SOURCES)),
      })
      .default({ split: 'leaderboard', showToParticipant: true, labels: { ...CARLA_LEADERBOARD_LABELS } }),
    /**
     * What an hour of each instance type costs, on demand and on spot (US dollars): what `pitwall cost`,
     * `show` and `list` turn the measured GPU time into. An instance type not named is left unpriced.
     */
    prices: z
      .record(z.string().min(1), z.strictObject({ onDemand: z.number().nonnegative(), spot: z.number().nonnegative() }))
      .default({}),
    /**
     * A team's GPU-hours over a sliding period, checked at Register and again at admission, where what the
     * team's admitted runs are estimated to take still is reserved: a submission that would take the team past
     * them is refused, with the reason. Failures that are the platform's fault are not charged. Estimates use
     * the track's measured kilometres per GPU-hour, or `assumedKmPerGpuHour` before a run on it has ended.
     */
    budget: z
      .strictObject({
        gpuHoursPerTeam: z.number().positive(),
        periodDays: positiveInt.default(30),
        assumedKmPerGpuHour: z.number().positive().default(4),
      })
      .optional(),
    /**
     * Pitwall's own queue in front of the cluster. Without it every submission launches at once and waits
     * in Kubernetes' pending pods; with it a submission waits here, its pods not created, until its track has
     * room for its workers and its team is under its cap, the least recent GPU user per weight first.
     */
    queue: z
      .strictObject({
        /** Workers each track may run at once (its GPU budget). */
        capacity: z.record(z.string(), positiveInt),
        /**
         * A team's submissions evaluating at once, per phase (EvalAI stops counting partial ones, §7). Not set:
         * the phase's max_concurrent_submissions_allowed on EvalAI, read when a submission starts waiting.
         */
        maxConcurrentPerTeam: positiveInt.optional(),
        /** A team's past GPU use counts half as much after this long. */
        halfLifeSeconds: positiveInt.default(24 * 3600),
        /** Teams' shares by EvalAI team pk; 1 for a team not named. */
        weights: z.record(z.string().regex(/^[0-9]+$/), z.number().positive()).default({}),
        /** A submission waiting this long goes before every one that has not (what bounds every wait). */
        maxWaitSeconds: positiveInt.default(6 * 3600),
        /** How often a waiting execution looks at its record to see whether it was admitted. */
        pollSeconds: positiveInt.default(60),
        /** Near a deadline: teams with no result yet on the phase first (after the overdue). */
        deadlineMode: z.boolean().default(false),
        /** The public status page (where a host serves one): team names shown only when this allows it. */
        publicStatus: z.strictObject({ showTeamNames: z.boolean().default(false) }).prefault({}),
      })
      .optional(),
    poll: z
      .strictObject({
        /** First wait between observations. */
        initialSeconds: positiveInt.default(30),
        /** The wait grows with the run's age up to this. */
        maxSeconds: positiveInt.default(300),
        /** After this many observations the execution hands over to a fresh one (25,000-event history limit). */
        maxTurns: positiveInt.default(1500),
      })
      // Parsed like a given one, so each default above is the only one.
      .prefault({}),
  })
  .superRefine((config, context) => {
    // References between phases: a gate nobody can pass, or a grant to no track, is a typo.
    const phases = Object.entries(config.phases);
    const tracks = new Set(phases.map(([, phase]) => phase.track));
    const granted = new Set(phases.flatMap(([, phase]) => (phase.qualifier ? [phase.qualifier.grants] : [])));
    for (const [pk, phase] of phases) {
      if (phase.requiresQualifier && !granted.has(phase.requiresQualifier)) {
        context.addIssue({
          code: 'custom',
          path: ['phases', pk, 'requiresQualifier'],
          message: `no configured phase's qualifier grants ${phase.requiresQualifier} (grants: ${[...granted].join(', ') || 'none'})`,
        });
      }
      if (phase.qualifier && !tracks.has(phase.qualifier.grants)) {
        context.addIssue({
          code: 'custom',
          path: ['phases', pk, 'qualifier', 'grants'],
          message: `names ${phase.qualifier.grants}, the track of no configured phase (tracks: ${[...tracks].join(', ')})`,
        });
      }
      const budget = config.queue?.capacity[phase.track];
      if (config.queue && (budget === undefined || budget < phase.workers)) {
        context.addIssue({
          code: 'custom',
          path: ['queue', 'capacity', phase.track],
          message:
            budget === undefined
              ? `gives track ${phase.track} (phase ${pk}) no workers: its submissions would wait for ever`
              : `is ${budget} workers, fewer than the ${phase.workers} of phase ${pk}: its submissions would never fit`,
        });
      }
      for (const label of Object.keys(phase.qualifier?.thresholds ?? {})) {
        if (!(label in config.leaderboard.labels)) {
          context.addIssue({
            code: 'custom',
            path: ['phases', pk, 'qualifier', 'thresholds', label],
            message: `is not a leaderboard label (labels: ${Object.keys(config.leaderboard.labels).join(', ')})`,
          });
        }
      }
    }
  });
export type ChallengeConfig = z.infer<typeof challengeConfigSchema>;

export function parseChallengeConfig(raw: unknown): ChallengeConfig {
  return challengeConfigSchema.parse(raw);
}

/** The wait before the next observation: grows with the run's age so that long runs stay far below the history limit. */
export function pollWaitSeconds(poll: ChallengeConfig['poll'], ageSeconds: number): number {
  const steps = Math.floor(Math.max(0, ageSeconds) / 1800); // one step per half hour
  return Math.min(poll.maxSeconds, poll.initialSeconds * (1 + steps));
}

/** The track a phase runs, as the stage configures it. */
export function trackOf(config: ChallengeConfig, phasePk: number): TrackConfig | undefined {
  return config.phases[String(phasePk)];
}

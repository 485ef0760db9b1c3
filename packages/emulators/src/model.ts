import type { EvalAiStatus } from '@pitwall/domain';

export interface EmulatedPhase {
  readonly pk: number;
  readonly codename: string;
  /** Dataset split codenames of the phase; each gets a ChallengePhaseSplit id (see `splitId`). */
  readonly splits: readonly string[];
  /** is_partial_submission_evaluation_enabled */
  readonly partialEvaluation?: boolean;
  /** max_concurrent_submissions_allowed per team (EvalAI's default is 3). */
  readonly maxConcurrentSubmissions?: number;
}

/** Someone holding a token: a host of the challenge, or any other EvalAI user (a participant). */
export interface EmulatedUser {
  readonly token: string;
  /** A member of the challenge's host team. */
  readonly host: boolean;
  /** HasVerifiedEmail: an unverified user gets 403 on every authenticated endpoint. */
  readonly emailVerified?: boolean;
}

export interface EvalAiEmulatorOptions {
  readonly challengePk: number;
  readonly phases: readonly EmulatedPhase[];
  /** leaderboard.schema.labels, in order */
  readonly labels: readonly string[];
  /** leaderboard.schema.default_order_by (descending); the first label by default. */
  readonly defaultOrderBy?: string;
  readonly hostToken: string;
  /** The token participants use for the participant endpoints (submit, cancel). */
  readonly participantToken?: string;
  /** More users, e.g. a host whose e-mail is not verified, or a user who hosts nothing. */
  readonly users?: readonly EmulatedUser[];
  /** What EvalAI does after recording or resuming a submission: publish its message to the challenge's queue. */
  readonly onSubmission?: (submission: EmulatedSubmission, message: string) => Promise<void>;
  /** The challenge's title, as EvalAI's messages name it. */
  readonly title?: string;
  /** Challenge.allow_resuming_submissions: without it (EvalAI's default) every resume is refused with 406. */
  readonly allowResumingSubmissions?: boolean;
  /** Per user, as EvalAI's UserRateThrottle ("60/minute"). */
  readonly requestsPerMinute?: number;
  readonly now?: () => number;
  /**
   * Where the submissions and the leaderboard are kept, so that an emulator started again (after a crash
   * too) has them, and its ids carry on. Written at most every SAVE_DELAY_MS, and on close.
   */
  readonly stateFile?: string;
  /**
   * The challenge's queue on EvalAI's side (no use_host_sqs): each new submission's message goes there,
   * for the REST proxy to hand out one at a time, SQS's 30-second visibility timeout in between.
   */
  readonly queueName?: string;
}

export interface EmulatedSubmission {
  readonly id: number;
  readonly challengePk: number;
  readonly phasePk: number;
  readonly teamPk: number;
  readonly teamName: string;
  readonly imageUri: string;
  /** The token of the user who submitted, who may read and cancel it. */
  readonly createdBy: string | undefined;
  /** The input file `evalai push` uploaded, served publicly like EvalAI's S3 media; tests may replace it. */
  inputFile: string;
  status: EvalAiStatus;
  jobName: string[];
  submittedAt: string;
  /** When the submission was last resumed (EvalAI's rerun_resumed_at). */
  resumedAt: string | null;
  startedAt: string | null;
  completedAt: string | null;
  stdout: string;
  stderr: string;
  metadata: string;
  /** submission_result_file: Python's str() of the show_to_participant accuracies. */
  resultFile: string;
  isPublic: boolean;
  /** Every status written, in order, by which call, and when (ms since the epoch). */
  readonly history: { status: string; via: string; at: number }[];
}

/** A LeaderboardData row: one per submission and split. */
export interface LeaderboardRow {
  readonly submissionPk: number;
  readonly teamName: string;
  readonly split: string;
  readonly splitId: number;
  accuracies: Record<string, number>;
}

/** A ChallengePhaseSplit: one phase's dataset split, with the id the public leaderboard route takes. */
export interface PhaseSplit {
  readonly id: number;
  readonly phase: EmulatedPhase;
  readonly codename: string;
}

/** A message of the challenge's queue, with the handle it was last handed out with and when it is visible again. */
export interface QueuedMessage {
  readonly body: string;
  handle?: string;
  visibleAt: number;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly body: unknown;
  /** When the request arrived (the emulator's clock). */
  readonly at: number;
}

export interface Fault {
  readonly method?: string;
  readonly path?: RegExp;
  readonly status: number;
  /** How many matching requests fail; default 1. */
  times?: number;
  readonly retryAfterSeconds?: number;
  /** Django's own error page (an exception the view did not handle) rather than a JSON body. */
  readonly html?: boolean;
}

/** Which upcoming API request a participant's cancel lands just before. */
export type CancelTrigger =
  /** The nth API request from now on (1: the very next one). */
  | { readonly nth: number }
  /** The next API request of this kind. */
  | { readonly method?: string; readonly path?: RegExp };

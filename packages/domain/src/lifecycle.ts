import { IllegalTransitionError } from './errors.js';

/**
 * Pitwall's own statuses for one attempt at evaluating a submission.
 * A resume (EvalAI's `resuming`) starts a new attempt of the same submission.
 */
export const SUBMISSION_STATUSES = [
  'received', // recorded by Register, nothing launched yet
  'resuming', // a failed submission sent again by EvalAI; its next attempt is being prepared
  'queued', // jobs launched, no worker running yet
  'running', // at least one worker has started
  'finished',
  'failed',
  'cancelled',
] as const;

export type SubmissionStatus = (typeof SUBMISSION_STATUSES)[number];

const TRANSITIONS: Readonly<Record<SubmissionStatus, readonly SubmissionStatus[]>> = {
  received: ['queued', 'failed', 'cancelled'],
  resuming: ['queued', 'failed', 'cancelled'],
  // All workers can finish between two polls, before any was seen running.
  queued: ['running', 'finished', 'failed', 'cancelled'],
  running: ['finished', 'failed', 'cancelled'],
  // EvalAI allows resuming only failed submissions. A failure not yet on EvalAI follows a participant's
  // cancel that got there first (failSubmission).
  failed: ['resuming', 'cancelled'],
  finished: [],
  cancelled: [],
};

const TERMINAL: ReadonlySet<SubmissionStatus> = new Set(['finished', 'failed', 'cancelled']);

export function isSubmissionStatus(value: unknown): value is SubmissionStatus {
  return typeof value === 'string' && (SUBMISSION_STATUSES as readonly string[]).includes(value);
}

/** Terminal for the current attempt: nothing more runs until a resume starts a new one. */
export function isTerminal(status: SubmissionStatus): boolean {
  return TERMINAL.has(status);
}

export function allowedTransitions(from: SubmissionStatus): readonly SubmissionStatus[] {
  return TRANSITIONS[from];
}

export function canTransition(from: SubmissionStatus, to: SubmissionStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Returns `to`, or throws IllegalTransitionError. */
export function transition(from: SubmissionStatus, to: SubmissionStatus): SubmissionStatus {
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to);
  return to;
}

/** EvalAI's submission statuses (apps/jobs/models.py). */
export const EVALAI_STATUSES = [
  'submitted',
  'running',
  'failed',
  'cancelled',
  'resuming',
  'queued',
  'finished',
  'submitting',
  'archived',
  'partially_evaluated',
] as const;

export type EvalAiStatus = (typeof EVALAI_STATUSES)[number];

export function isEvalAiStatus(value: unknown): value is EvalAiStatus {
  return typeof value === 'string' && (EVALAI_STATUSES as readonly string[]).includes(value);
}

/**
 * How a Pitwall status is written to EvalAI's update_submission endpoint:
 * PATCH accepts only queued/running, PUT only finished/failed/cancelled.
 * `received` and `resuming` are Pitwall-internal and are not written.
 */
export type EvalAiStatusUpdate =
  | { readonly method: 'PATCH'; readonly status: 'queued' | 'running' }
  | { readonly method: 'PUT'; readonly status: 'finished' | 'failed' | 'cancelled' };

export function evalAiUpdateFor(status: SubmissionStatus): EvalAiStatusUpdate | undefined {
  switch (status) {
    case 'queued':
    case 'running':
      return { method: 'PATCH', status };
    case 'finished':
    case 'failed':
    case 'cancelled':
      return { method: 'PUT', status };
    case 'received':
    case 'resuming':
      return undefined;
  }
}

/** Only these EvalAI statuses start an evaluation; the rest are skipped without side effects. */
export function isEligibleForEvaluation(status: EvalAiStatus): boolean {
  return status === 'submitted' || status === 'resuming';
}

/** EvalAI statuses after which Pitwall must not write anything but what is already there. */
export function isEvalAiTerminal(status: EvalAiStatus): boolean {
  return status === 'finished' || status === 'failed' || status === 'cancelled' || status === 'archived';
}

import type { LeaderboardConfig } from '../results/evalai-payload.js';
import { accuracies } from '../results/evalai-payload.js';
import type { MergedCheckpoint, WorkerMergeReport } from '../results/merge.js';
import type { TrackConfig } from './config.js';
import { failureClassLine, failureClassOfRouteStatuses } from './failure-class.js';
import type { CollectedOutcome, PollState } from './payloads.js';

/** What Collect read: the poll's end, the merge of the workers' results (or why it failed), the plan's size. */
export interface CollectedReading {
  readonly poll: PollState;
  readonly report: WorkerMergeReport | undefined;
  /** The merge could not be made at all: why. */
  readonly mergeError?: string;
  readonly expectedRoutes: number | undefined;
}

/** The outcome, and the lines of stderr that explain it (the class line and the reason first). */
export interface CollectDecision {
  readonly outcome: CollectedOutcome;
  readonly errors: readonly string[];
}

/**
 * How an attempt ended, from what was read, with no I/O: a cancel is a cancel; a run that did not end done
 * keeps its observed class, unless the evaluator's own route statuses say more (CARLA's "Failed - <reason>");
 * a done run with a results file that cannot be accepted is `bad_checkpoint`; one with routes missing failed.
 */
export function decideOutcome({ poll, report, mergeError, expectedRoutes }: CollectedReading): CollectDecision {
  const errors = [
    ...(mergeError ? [`The workers' results could not be merged: ${mergeError}`] : []),
    ...(report?.rejected ?? []).map(
      ({ worker, error }) => `Worker ${worker} wrote a results file that cannot be accepted: ${error.message}`,
    ),
  ];
  const said = failureClassOfRouteStatuses(report?.merged._checkpoint.records.map((r) => r.status) ?? []);
  let outcome: CollectedOutcome;
  if (poll.phase === 'cancelled') {
    outcome = { status: 'cancelled', reason: poll.reason ?? 'Cancelled.', failureClass: 'cancelled' };
  } else if (poll.phase !== 'done') {
    const observed = poll.failureClass ?? 'platform_error';
    outcome = {
      status: 'failed',
      reason: poll.reason ?? `The evaluation stopped (${poll.phase}).`,
      failureClass: observed === 'agent_crashed' || observed === 'platform_error' ? (said ?? observed) : observed,
    };
  } else if (errors.length > 0) {
    // The first error is the reason, said once: the lines below the class line carry it.
    outcome = { status: 'failed', reason: errors.shift() as string, failureClass: 'bad_checkpoint' };
  } else if (!report?.complete) {
    const done = report?.merged._checkpoint.records.length ?? 0;
    outcome = {
      status: 'failed',
      reason: `The results are incomplete: ${done} of ${expectedRoutes} routes were evaluated.`,
      failureClass: said ?? 'platform_error',
    };
  } else outcome = { status: 'finished' };
  if (outcome.status === 'failed') {
    errors.unshift(failureClassLine(outcome.failureClass ?? 'platform_error'), outcome.reason ?? '');
  }
  return { outcome, errors };
}

/**
 * A finished run on a qualifier track: whether its scores pass every threshold (strictly above), the track it
 * then grants, and the line the participant reads first in stdout.
 */
export function qualification(
  outcome: CollectedOutcome,
  merged: MergedCheckpoint | undefined,
  track: TrackConfig | undefined,
  leaderboard: LeaderboardConfig | undefined,
): { readonly grants?: string; readonly stdoutNote: string } {
  if (outcome.status !== 'finished' || !merged || !track?.qualifier) return { stdoutNote: '' };
  const scores = accuracies(merged, leaderboard);
  const passed = Object.entries(track.qualifier.thresholds).every(([label, min]) => (scores[label] ?? 0) > min);
  return passed
    ? {
        grants: track.qualifier.grants,
        stdoutNote: `CONGRATULATIONS! You passed the qualifier and can now submit to ${track.qualifier.grants}.\n\n`,
      }
    : { stdoutNote: 'Unfortunately you did not pass the qualifier thresholds this time.\n\n' };
}

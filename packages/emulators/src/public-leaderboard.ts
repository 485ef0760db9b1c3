import type { EvalAiStatus } from '@pitwall/domain';
import type { EmulatedChallenge } from './challenge.js';
import { HttpError } from './http-error.js';

/** StandardResultSetPagination */
const PAGE_SIZE = 100;

/**
 * GET /api/jobs/challenge_phase_split/<id>/leaderboard/: the rows of finished submissions (and
 * partially evaluated ones on partial-evaluation phases), public ones only, best first, one per team,
 * values in the schema's label order ('#' for a missing one), paginated. Anonymous.
 */
export function publicLeaderboard(challenge: EmulatedChallenge, splitId: number, url: URL, base: string): unknown {
  const split = challenge.splits.find((s) => s.id === splitId);
  if (!split) throw new HttpError(404, { error: 'Challenge Phase Split does not exist' });
  const labels = challenge.options.labels;
  const orderBy = challenge.options.defaultOrderBy ?? labels[0] ?? '';
  const shown: EvalAiStatus[] = split.phase.partialEvaluation ? ['finished', 'partially_evaluated'] : ['finished'];
  const rows = [...challenge.leaderboard.values()]
    .filter((row) => row.splitId === splitId)
    .map((row) => ({ row, submission: challenge.get(row.submissionPk) }))
    .filter(({ submission }) => shown.includes(submission.status) && submission.isPublic)
    .sort((a, b) => (b.row.accuracies[orderBy] ?? 0) - (a.row.accuracies[orderBy] ?? 0));
  const teams = new Set<string>();
  const best = rows.filter(({ submission }) => !teams.has(submission.teamName) && teams.add(submission.teamName));
  const page = Number(url.searchParams.get('page') ?? '1');
  const pages = Math.max(1, Math.ceil(best.length / PAGE_SIZE));
  if (!Number.isInteger(page) || page < 1 || page > pages) throw new HttpError(404, { detail: 'Invalid page.' });
  const route = `${base}/api/jobs/challenge_phase_split/${splitId}/leaderboard/`;
  const link = (n: number) => (n < 1 || n > pages ? null : `${route}?page=${n}`);
  return {
    count: best.length,
    next: link(page + 1),
    previous: page === 2 ? route : link(page - 1),
    results: best.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE).map(({ row, submission }) => ({
      id: splitId * 1_000_000 + submission.id,
      submission__participant_team: submission.teamPk,
      submission__participant_team__team_name: submission.teamName,
      submission__participant_team__team_url: '',
      submission__is_baseline: false,
      submission__is_public: submission.isPublic,
      challenge_phase_split: splitId,
      result: labels.map((label) => row.accuracies[label] ?? '#'),
      error: null,
      filtering_score: row.accuracies[orderBy] ?? 0,
      filtering_error: 0,
      leaderboard__schema: { labels: [...labels], default_order_by: orderBy },
      submission__submitted_at: submission.submittedAt,
      submission__method_name: '',
      submission__id: submission.id,
      submission__submission_metadata: null,
      submission__is_verified_by_host: false,
    })),
  };
}

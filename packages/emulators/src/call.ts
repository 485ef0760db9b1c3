import type { EmulatedChallenge } from './challenge.js';
import type { EmulatedSubmission, EmulatedUser } from './model.js';

/** One API request, authenticated, as a route's handler sees it. */
export interface Call {
  readonly challenge: EmulatedChallenge;
  readonly user: EmulatedUser;
  readonly method: string;
  readonly url: URL;
  /** The route path's captured groups. */
  readonly params: readonly string[];
  readonly body: unknown;
  /** Where the emulator serves, for the links in its answers. */
  readonly base: string;
}

/** SubmissionSerializer's fields, as EvalAI answers them. */
export function serializeSubmission(s: EmulatedSubmission, base: string) {
  return {
    id: s.id,
    participant_team: s.teamPk,
    participant_team_name: s.teamName,
    challenge_phase: s.phasePk,
    created_by: s.createdBy === undefined ? null : 1,
    status: s.status,
    is_public: s.isPublic,
    is_flagged: false,
    input_file: `${base}/media/submission_files/${s.id}.json`,
    submission_result_file: s.resultFile ? `${base}/media/result_files/${s.id}.json` : null,
    stdout_file: null,
    stderr_file: null,
    job_name: [...s.jobName],
    submitted_at: s.submittedAt,
    rerun_resumed_at: s.resumedAt,
    started_at: s.startedAt,
    completed_at: s.completedAt,
  };
}

import type { EvalAiHost, EvalAiPhase, EvalAiResultUpdate, EvalAiSubmission } from '../control/ports.js';
import { EvalAiRejectedError, NotFoundError } from '../errors.js';
import type { EvalAiStatus } from '../lifecycle.js';

interface HeldSubmission {
  submission: EvalAiSubmission;
  imageUri: string;
  readonly writes: { via: string; status: EvalAiStatus }[];
  result?: EvalAiResultUpdate;
}

/**
 * EvalAI's host API in memory, with the real server's semantics that matter to the use cases (§7): every
 * write is last-writer-wins, over a cancel too; partial PUTs set partially_evaluated. The contract suite
 * runs it beside the EvalAI client and emulator. `beforeRequest` lets a test interleave a participant's
 * step just before any request.
 */
export class MemoryEvalAi implements EvalAiHost {
  private readonly held = new Map<number, HeldSubmission>();
  private nextPk = 1;
  /** Each resume asked, in order: EvalAI publishes the submission's message again for each. */
  readonly resumed: number[] = [];
  beforeRequest: ((request: string, submissionPk: number) => void | Promise<void>) | undefined;
  /** max_concurrent_submissions_allowed by phase; EvalAI's default (3) for a phase not named. */
  readonly phaseLimits = new Map<number, number>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  /** A participant's push. */
  submit(input: { phasePk: number; teamPk: number; teamName: string; imageUri: string }): EvalAiSubmission {
    const submission: EvalAiSubmission = {
      id: this.nextPk++,
      status: 'submitted',
      participantTeamPk: input.teamPk,
      participantTeamName: input.teamName,
      challengePhasePk: input.phasePk,
      submittedAt: this.now().toISOString(),
    };
    this.held.set(submission.id, { submission, imageUri: input.imageUri, writes: [] });
    return submission;
  }

  /** A participant's cancel (or any status a participant sets through update_submission_meta). */
  setStatus(submissionPk: number, status: EvalAiStatus, via = 'participant'): void {
    const held = this.require(submissionPk);
    held.submission = {
      ...held.submission,
      status,
      ...(status === 'resuming' ? { resumedAt: this.now().toISOString() } : {}),
    };
    held.writes.push({ via, status });
  }

  statusOf(submissionPk: number): EvalAiStatus {
    return this.require(submissionPk).submission.status;
  }

  /** Every status written, in order, and by whom. */
  writesOf(submissionPk: number): readonly { via: string; status: EvalAiStatus }[] {
    return this.require(submissionPk).writes;
  }

  resultOf(submissionPk: number): EvalAiResultUpdate | undefined {
    return this.require(submissionPk).result;
  }

  async getSubmission(submissionPk: number): Promise<EvalAiSubmission> {
    await this.beforeRequest?.('GET submission', submissionPk);
    const held = this.held.get(submissionPk);
    if (!held) throw new NotFoundError(`EvalAI has no GET /api/jobs/submission/${submissionPk} (404)`);
    return { ...held.submission };
  }

  async getPhase(_challengePk: number, phasePk: number): Promise<EvalAiPhase> {
    await this.beforeRequest?.('GET phase', 0);
    return { id: phasePk, maxConcurrentSubmissions: this.phaseLimits.get(phasePk) ?? 3 };
  }

  async listSubmissions(
    _challengePk: number,
    status: EvalAiStatus,
    options: { readonly submittedAfter?: string } = {},
  ): Promise<EvalAiSubmission[]> {
    await this.beforeRequest?.(`GET list ${status}`, 0);
    const after = options.submittedAfter ? Date.parse(options.submittedAfter) : Number.NEGATIVE_INFINITY;
    return [...this.held.values()]
      .filter((h) => h.submission.status === status && Date.parse(h.submission.submittedAt ?? '') > after)
      .map((h) => ({ ...h.submission }));
  }

  async readSubmittedImage(submission: EvalAiSubmission): Promise<string> {
    return this.require(submission.id).imageUri;
  }

  async patchStatus(_challengePk: number, update: { submissionPk: number; status: 'queued' | 'running' }) {
    await this.beforeRequest?.(`PATCH ${update.status}`, update.submissionPk);
    this.setStatus(update.submissionPk, update.status, 'PATCH update_submission');
  }

  async putResult(_challengePk: number, status: 'finished' | 'failed' | 'cancelled', update: EvalAiResultUpdate) {
    await this.beforeRequest?.(`PUT ${status}`, update.submissionPk);
    this.setStatus(update.submissionPk, status, 'PUT update_submission');
    this.require(update.submissionPk).result = update;
  }

  async putPartialResult(_challengePk: number, update: EvalAiResultUpdate): Promise<boolean> {
    await this.beforeRequest?.('PUT partially_evaluated', update.submissionPk);
    this.setStatus(update.submissionPk, 'partially_evaluated', 'PUT partial');
    return true;
  }

  async resumeSubmission(submissionPk: number): Promise<void> {
    await this.beforeRequest?.('POST resume', submissionPk);
    const { status } = this.require(submissionPk).submission;
    if (status !== 'failed') {
      throw new EvalAiRejectedError(
        `EvalAI refused POST /api/jobs/submissions/${submissionPk}/resume/ (400): only a failed submission resumes, this one is ${status}`,
        400,
      );
    }
    this.setStatus(submissionPk, 'resuming', 'POST resume');
    this.resumed.push(submissionPk);
  }

  private require(submissionPk: number): HeldSubmission {
    const held = this.held.get(submissionPk);
    if (!held) throw new NotFoundError(`EvalAI has no submission ${submissionPk}`);
    return held;
  }
}

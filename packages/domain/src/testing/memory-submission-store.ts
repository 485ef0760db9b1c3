import type { NewSubmission, RecordExpectation, SubmissionStore, WorkerActivity } from '../control/ports.js';
import { CLEARED_ON_RESUME, type SubmissionPatch, type SubmissionRecord } from '../control/records.js';
import { IllegalTransitionError, NotFoundError, RecordChangedError, StaleAttemptError } from '../errors.js';
import { canTransition, isTerminal, type SubmissionStatus } from '../lifecycle.js';

type Stored = SubmissionRecord & { active: boolean };

/**
 * The submission store in memory, with the DynamoDB store's conditions and errors: the contract suite
 * (`packages/adapters/test/submission-store-contract.test.ts`) runs against both. Records are copied in and
 * out, so a caller never holds a live reference. `beforeWrite` lets a test interleave another step.
 */
export class MemorySubmissionStore implements SubmissionStore {
  private readonly records = new Map<number, Stored>();
  private readonly resends = new Map<string, number>();
  private readonly qualifications = new Set<string>();
  private readonly activity = new Map<string, WorkerActivity>();
  private readonly watches = new Map<number, string>();
  beforeWrite: ((operation: string, submissionPk: number) => void | Promise<void>) | undefined;

  async create(submission: NewSubmission): Promise<boolean> {
    await this.beforeWrite?.('create', submission.submissionPk);
    if (this.records.has(submission.submissionPk)) return false;
    const { at, ...ref } = submission;
    this.records.set(submission.submissionPk, {
      ...ref,
      status: 'received',
      history: [{ status: 'received', at, attempt: ref.attempt }],
      updatedAt: at,
      active: true,
    });
    return true;
  }

  async get(submissionPk: number): Promise<SubmissionRecord | undefined> {
    const stored = this.records.get(submissionPk);
    if (!stored) return undefined;
    const { active: _active, ...record } = structuredClone(stored);
    return record;
  }

  async beginResume(submission: NewSubmission, fromAttempt: number): Promise<boolean> {
    await this.beforeWrite?.('beginResume', submission.submissionPk);
    const stored = this.records.get(submission.submissionPk);
    if (stored?.status !== 'failed' || stored.attempt !== fromAttempt) return false;
    const { at, ...ref } = submission;
    const next: Stored = {
      ...stored,
      ...ref,
      status: 'resuming',
      history: [...stored.history, { status: 'resuming', at, attempt: ref.attempt }],
      updatedAt: at,
      active: true,
    };
    for (const field of CLEARED_ON_RESUME) delete (next as Partial<Stored>)[field];
    this.records.set(submission.submissionPk, next);
    return true;
  }

  async transition(
    submissionPk: number,
    attempt: number,
    to: SubmissionStatus,
    change: { at: string; reason?: string; patch?: SubmissionPatch; expect?: RecordExpectation },
  ): Promise<SubmissionRecord> {
    await this.beforeWrite?.(`transition:${to}`, submissionPk);
    const stored = this.current(submissionPk, attempt);
    const { expect } = change;
    if (expect && (stored.status !== expect.status || stored.executionId !== expect.executionId)) {
      throw new RecordChangedError(`submission ${submissionPk} changed since it was read`);
    }
    if (!canTransition(stored.status, to)) throw new IllegalTransitionError(stored.status, to);
    const next: Stored = {
      ...stored,
      ...definedFields(change.patch ?? {}),
      status: to,
      history: [
        ...stored.history,
        { status: to, at: change.at, attempt, ...(change.reason ? { reason: change.reason } : {}) },
      ],
      updatedAt: change.at,
      active: !(isTerminal(to) && change.patch?.evalaiReported === true),
    };
    this.records.set(submissionPk, next);
    return (await this.get(submissionPk)) as SubmissionRecord;
  }

  async markReported(submissionPk: number, attempt: number, at: string): Promise<void> {
    await this.beforeWrite?.('markReported', submissionPk);
    const stored = this.current(submissionPk, attempt);
    this.records.set(submissionPk, { ...stored, evalaiReported: true, updatedAt: at, active: false });
  }

  async patch(submissionPk: number, attempt: number, patch: SubmissionPatch, at: string): Promise<void> {
    await this.beforeWrite?.('patch', submissionPk);
    const stored = this.current(submissionPk, attempt);
    this.records.set(submissionPk, { ...stored, ...definedFields(patch), updatedAt: at });
  }

  async listActive(): Promise<SubmissionRecord[]> {
    const active = [...this.records.values()].filter((r) => r.active).map((r) => r.submissionPk);
    return Promise.all(active.map(async (pk) => (await this.get(pk)) as SubmissionRecord));
  }

  async listAll(): Promise<SubmissionRecord[]> {
    const pks = [...this.records.keys()].sort((a, b) => b - a);
    return Promise.all(pks.map(async (pk) => (await this.get(pk)) as SubmissionRecord));
  }

  async countResend(submissionPk: number, attempt: number): Promise<number> {
    const key = `${submissionPk}#${attempt}`;
    const count = (this.resends.get(key) ?? 0) + 1;
    this.resends.set(key, count);
    return count;
  }

  /** What a worker's logcopy would write (its heartbeat item). */
  recordActivity(submissionPk: number, activity: WorkerActivity): void {
    this.activity.set(`${submissionPk}#${activity.worker}`, { ...activity });
  }

  async workerActivity(submissionPk: number, workers: readonly number[]): Promise<WorkerActivity[]> {
    return workers.flatMap((w) => {
      const found = this.activity.get(`${submissionPk}#${w}`);
      return found ? [{ ...found }] : [];
    });
  }

  async claimStatusWatch(challengePk: number, at: string, until: string): Promise<boolean> {
    await this.beforeWrite?.('claimStatusWatch', challengePk);
    const held = this.watches.get(challengePk);
    if (held !== undefined && held > at) return false;
    this.watches.set(challengePk, until);
    return true;
  }

  async hasQualification(teamPk: number, track: string): Promise<boolean> {
    return this.qualifications.has(`${teamPk}#${track}`);
  }

  async grantQualification(teamPk: number, track: string): Promise<void> {
    await this.beforeWrite?.('grantQualification', teamPk);
    this.qualifications.add(`${teamPk}#${track}`);
  }

  private current(submissionPk: number, attempt: number): Stored {
    const stored = this.records.get(submissionPk);
    if (!stored) throw new NotFoundError(`submission ${submissionPk} has no record`);
    if (stored.attempt !== attempt) {
      throw new StaleAttemptError(`submission ${submissionPk} is at attempt ${stored.attempt}, not ${attempt}`);
    }
    return stored;
  }
}

function definedFields(patch: SubmissionPatch): SubmissionPatch {
  return Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined));
}

import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { EvalAiStatus } from '@pitwall/domain';
import { HttpError } from './http-error.js';
import type { EmulatedSubmission, EvalAiEmulatorOptions, LeaderboardRow, PhaseSplit, QueuedMessage } from './model.js';

/** ChallengePhase.max_concurrent_submissions_allowed's default. */
export const DEFAULT_MAX_CONCURRENT = 3;
/** What EvalAI counts as being processed against that limit (§7). */
const IN_PROGRESS: readonly EvalAiStatus[] = ['submitted', 'submitting', 'resuming', 'queued', 'running'];
const SAVE_DELAY_MS = 100;

/**
 * One challenge's records as EvalAI keeps them (submissions, leaderboard rows, its queue) and the rules
 * EvalAI applies when they change; saved to `stateFile` so that an emulator started again carries on.
 */
export class EmulatedChallenge {
  readonly submissions = new Map<number, EmulatedSubmission>();
  /** LeaderboardData, by `<submission pk>/<split codename>`. */
  readonly leaderboard = new Map<string, LeaderboardRow>();
  /** The challenge's queue: message bodies, with the handle and the time each is visible again. */
  readonly queued: QueuedMessage[] = [];
  /** Every receipt handle the queue proxy gave: SQS knows its own, and refuses any other. */
  readonly handedOut = new Set<string>();
  readonly splits: PhaseSplit[] = [];
  readonly now: () => number;
  private nextPk = 1;
  private saving: NodeJS.Timeout | undefined;

  constructor(readonly options: EvalAiEmulatorOptions) {
    this.now = options.now ?? Date.now;
    for (const phase of options.phases) {
      for (const codename of phase.splits) this.splits.push({ id: this.splits.length + 1, phase, codename });
    }
    if (options.stateFile && existsSync(options.stateFile)) this.load(options.stateFile);
  }

  get title(): string {
    return this.options.title ?? `challenge-${this.options.challengePk}`;
  }

  /** The ChallengePhaseSplit id of a phase's split: what the public leaderboard route takes. */
  splitId(phasePk: number, codename: string): number {
    const split = this.splits.find((s) => s.phase.pk === phasePk && s.codename === codename);
    if (!split) throw new Error(`phase ${phasePk} has no split ${codename}`);
    return split.id;
  }

  /**
   * A participant's `evalai push`: the submission EvalAI records, status submitted. Refused (406 over
   * HTTP) when the team already has the phase's limit of submissions being processed.
   */
  createSubmission(input: {
    phasePk: number;
    teamPk: number;
    teamName: string;
    imageUri: string;
    createdBy?: string;
  }): EmulatedSubmission {
    const phase = this.options.phases.find((p) => p.pk === input.phasePk);
    if (!phase) throw new HttpError(400, { error: 'Challenge Phase does not exist' });
    const inProgress = [...this.submissions.values()].filter(
      (s) => s.teamPk === input.teamPk && s.phasePk === phase.pk && IN_PROGRESS.includes(s.status),
    ).length;
    if (inProgress >= (phase.maxConcurrentSubmissions ?? DEFAULT_MAX_CONCURRENT)) {
      throw new HttpError(406, {
        error: `You have ${inProgress} submissions that are being processed. Please wait for them to finish and then try again.`,
      });
    }
    const submission: EmulatedSubmission = {
      id: this.nextPk++,
      challengePk: this.options.challengePk,
      phasePk: input.phasePk,
      teamPk: input.teamPk,
      teamName: input.teamName,
      imageUri: input.imageUri,
      createdBy: input.createdBy ?? this.options.participantToken,
      inputFile: JSON.stringify({ submitted_image_uri: input.imageUri }),
      status: 'submitted',
      jobName: [],
      submittedAt: new Date(this.now()).toISOString(),
      resumedAt: null,
      startedAt: null,
      completedAt: null,
      stdout: '',
      stderr: '',
      metadata: '',
      resultFile: '',
      isPublic: true,
      history: [{ status: 'submitted', via: 'participant', at: this.now() }],
    };
    this.submissions.set(submission.id, submission);
    if (this.options.queueName) this.queued.push({ body: this.messageFor(submission.id), visibleAt: 0 });
    this.changed();
    return submission;
  }

  /**
   * The SQS body EvalAI's sender publishes: challenge and phase pks as strings, submission pk as a number.
   * `withImage: false` is what send_submission_message publishes: the three pks and nothing else.
   */
  messageFor(submissionPk: number, { withImage = true }: { withImage?: boolean } = {}): string {
    const s = this.get(submissionPk);
    const pks = { challenge_pk: String(s.challengePk), phase_pk: String(s.phasePk), submission_pk: s.id };
    if (!withImage) return JSON.stringify(pks);
    return JSON.stringify({ ...pks, submitted_image_uri: s.imageUri, is_static_dataset_code_upload_submission: false });
  }

  /** The participant cancels (update_submission_meta with status cancelled). */
  cancel(submissionPk: number): void {
    this.setStatus(this.get(submissionPk), 'cancelled', 'participant');
  }

  /**
   * EvalAI's resume: only failed submissions, status resuming, same pk. Its message is published by the
   * API's resume (POST submissions/<pk>/resume/), not by this hook, which stands for a message lost.
   */
  resume(submissionPk: number): void {
    const s = this.get(submissionPk);
    if (s.status !== 'failed') throw new Error(`submission ${submissionPk} is ${s.status}, only failed ones resume`);
    this.setStatus(s, 'resuming', 'participant');
    s.resumedAt = new Date(this.now()).toISOString();
  }

  get(submissionPk: number): EmulatedSubmission {
    const s = this.submissions.get(submissionPk);
    if (!s) throw new Error(`no submission ${submissionPk}`);
    return s;
  }

  /** A submission an API request names: EvalAI's 404 when there is none. */
  found(pk: number): EmulatedSubmission {
    const s = this.submissions.get(pk);
    if (!s) throw new HttpError(404, { error: `Submission ${pk} does not exist` });
    return s;
  }

  /** EvalAI's participant team pk for a team name: the one it already has, or the next free one. */
  teamPkOf(teamName: string): number {
    const known = [...this.submissions.values()].find((s) => s.teamName === teamName);
    return known?.teamPk ?? 1000 + new Set([...this.submissions.values()].map((s) => s.teamName)).size;
  }

  setStatus(s: EmulatedSubmission, status: EvalAiStatus, via: string): void {
    s.status = status;
    s.history.push({ status, via, at: this.now() });
    this.changed();
  }

  /** Saves soon: a burst of writes is one save. */
  changed(): void {
    if (!this.options.stateFile || this.saving) return;
    this.saving = setTimeout(() => this.save(), SAVE_DELAY_MS);
    this.saving.unref();
  }

  /** Writes a save still pending. */
  flush(): void {
    if (this.saving) this.save();
  }

  private load(file: string): void {
    let state: { submissions: EmulatedSubmission[]; leaderboard: [string, LeaderboardRow][]; queued?: QueuedMessage[] };
    try {
      state = JSON.parse(readFileSync(file, 'utf8'));
      for (const submission of state.submissions) this.submissions.set(submission.id, submission);
      for (const [key, row] of state.leaderboard) this.leaderboard.set(key, row);
      this.queued.push(...(state.queued ?? []));
      for (const message of this.queued) if (message.handle) this.handedOut.add(message.handle);
    } catch (error) {
      throw new Error(`the EvalAI emulator's state file ${file} cannot be read: ${(error as Error).message}`, {
        cause: error,
      });
    }
    this.nextPk = Math.max(0, ...this.submissions.keys()) + 1;
  }

  private save(): void {
    clearTimeout(this.saving);
    this.saving = undefined;
    const file = this.options.stateFile;
    if (!file) return;
    const state = {
      submissions: [...this.submissions.values()],
      leaderboard: [...this.leaderboard.entries()],
      queued: this.queued,
    };
    // Written aside and renamed: a crash mid-write leaves the previous state, never half a file.
    writeFileSync(`${file}.tmp`, JSON.stringify(state));
    renameSync(`${file}.tmp`, file);
  }
}

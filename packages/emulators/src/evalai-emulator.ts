import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EVALAI_STATUSES, type EvalAiStatus } from '@pitwall/domain';
import { parsePyJson } from './python-repr.js';

/**
 * A model of EvalAI's server as it was measured (docs/evalai.md), not of what Pitwall wishes it
 * were: every write is last-writer-wins (over a cancel too), a partial PUT on any phase makes the
 * submission `partially_evaluated`, validation is as loose as EvalAI's, errors have EvalAI's statuses and
 * bodies, the throttle is a sliding 60-second log per user, and the public leaderboard is EvalAI's route.
 * Where the emulator is stricter than EvalAI it is wrong: Pitwall's own checks must do the guarding.
 * Tests and the local runtime drive the participant's side through its methods.
 */

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

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(`EvalAI would answer ${status}: ${JSON.stringify(body)}`);
  }
}

/** What Django answers (DEBUG off) for an exception a view did not catch. */
const SERVER_ERROR_PAGE =
  '<!doctype html>\n<html lang="en">\n<head>\n  <title>Server Error (500)</title>\n</head>\n<body>\n  <h1>Server Error (500)</h1><p></p>\n</body>\n</html>\n';
/** The marker of an uncaught exception in a view: answered with SERVER_ERROR_PAGE. */
const UNCAUGHT = Symbol('uncaught');
const serverError = (why: string) => new HttpError(500, UNCAUGHT, { 'X-Emulator-Why': why });

const TOKEN_NOT_VALID = {
  detail: 'Given token not valid for any token type',
  code: 'token_not_valid',
  messages: [{ token_class: 'RefreshToken', token_type: 'refresh', message: 'Token is invalid or expired' }],
};
const NOT_A_HOST = { error: 'Sorry, you are not authorized to make this request!' };
const QUEUE_NOT_A_HOST = { error: 'Sorry, you are not authorized to access this resource' };
/** ChallengePhase.max_concurrent_submissions_allowed's default. */
const DEFAULT_MAX_CONCURRENT = 3;
/** What EvalAI counts as being processed against that limit (§7). */
const SAVE_DELAY_MS = 100;
const IN_PROGRESS: readonly EvalAiStatus[] = ['submitted', 'submitting', 'resuming', 'queued', 'running'];
/** The statuses the host list filter takes (§7); anything else is a 400. */
const LISTABLE: readonly string[] = [
  'submitted',
  'running',
  'queued',
  'resuming',
  'failed',
  'cancelled',
  'finished',
  'submitting',
];
/** StandardResultSetPagination */
const PAGE_SIZE = 100;

export class EvalAiEmulator {
  readonly submissions = new Map<number, EmulatedSubmission>();
  /** LeaderboardData, by `<submission pk>/<split codename>`. */
  readonly leaderboard = new Map<string, LeaderboardRow>();
  readonly requests: RecordedRequest[] = [];
  readonly faults: Fault[] = [];
  private readonly cancels: { trigger: CancelTrigger; submissionPk: number; countdown: number }[] = [];
  private readonly throttle = new Map<string, number[]>();
  private readonly users = new Map<string, EmulatedUser>();
  private readonly splits: { id: number; phase: EmulatedPhase; codename: string }[] = [];
  private nextPk = 1;
  private server: Server | undefined;
  private saving: NodeJS.Timeout | undefined;
  /** The challenge's queue: message bodies, with the handle and the time each is visible again. */
  readonly queued: { body: string; handle?: string; visibleAt: number }[] = [];
  private readonly now: () => number;
  /** Every receipt handle the queue proxy gave: SQS knows its own, and refuses any other. */
  private readonly handedOut = new Set<string>();

  constructor(private readonly options: EvalAiEmulatorOptions) {
    this.now = options.now ?? Date.now;
    this.users.set(options.hostToken, { token: options.hostToken, host: true });
    if (options.participantToken)
      this.users.set(options.participantToken, { token: options.participantToken, host: false });
    for (const user of options.users ?? []) this.users.set(user.token, user);
    for (const phase of options.phases) {
      for (const codename of phase.splits) this.splits.push({ id: this.splits.length + 1, phase, codename });
    }
    if (options.stateFile && existsSync(options.stateFile)) this.load(options.stateFile);
  }

  private load(file: string): void {
    let state: {
      submissions: EmulatedSubmission[];
      leaderboard: [string, LeaderboardRow][];
      queued?: EvalAiEmulator['queued'];
    };
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

  /** Saves soon: a burst of writes is one save. */
  private changed(): void {
    if (!this.options.stateFile || this.saving) return;
    this.saving = setTimeout(() => this.save(), SAVE_DELAY_MS);
    this.saving.unref();
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

  /** Listens on 127.0.0.1, on `port` where given (an EvalAI that comes back where it was), else on a free one. */
  async start(port = 0): Promise<string> {
    this.server = createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve) => this.server?.listen(port, '127.0.0.1', resolve));
    return this.url;
  }

  private get title(): string {
    return this.options.title ?? `challenge-${this.options.challengePk}`;
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo | null;
    if (!address) throw new Error('the EvalAI emulator is not running');
    return `http://127.0.0.1:${address.port}`;
  }

  async close(): Promise<void> {
    if (this.saving) this.save();
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    this.server = undefined;
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
    const s = this.require(submissionPk);
    const pks = { challenge_pk: String(s.challengePk), phase_pk: String(s.phasePk), submission_pk: s.id };
    if (!withImage) return JSON.stringify(pks);
    return JSON.stringify({ ...pks, submitted_image_uri: s.imageUri, is_static_dataset_code_upload_submission: false });
  }

  /** The participant cancels (update_submission_meta with status cancelled). */
  cancel(submissionPk: number): void {
    this.setStatus(this.require(submissionPk), 'cancelled', 'participant');
  }

  /**
   * Test hook: the participant cancels `submissionPk` just before the emulator handles the API request
   * the trigger names, so a test can put a cancel between any two requests of an evaluation.
   */
  cancelBefore(submissionPk: number, trigger: CancelTrigger): void {
    this.cancels.push({ trigger, submissionPk, countdown: 'nth' in trigger ? trigger.nth : 1 });
  }

  /**
   * EvalAI's resume: only failed submissions, status resuming, same pk. Its message is published by the
   * API's resume (POST submissions/<pk>/resume/), not by this hook, which stands for a message lost.
   */
  resume(submissionPk: number): void {
    const s = this.require(submissionPk);
    if (s.status !== 'failed') throw new Error(`submission ${submissionPk} is ${s.status}, only failed ones resume`);
    this.setStatus(s, 'resuming', 'participant');
    s.resumedAt = new Date(this.now()).toISOString();
  }

  get(submissionPk: number): EmulatedSubmission {
    return this.require(submissionPk);
  }

  /** EvalAI's participant team pk for a team name: the one it already has, or the next free one. */
  teamPkOf(teamName: string): number {
    const known = [...this.submissions.values()].find((s) => s.teamName === teamName);
    return known?.teamPk ?? 1000 + new Set([...this.submissions.values()].map((s) => s.teamName)).size;
  }

  private require(submissionPk: number): EmulatedSubmission {
    const s = this.submissions.get(submissionPk);
    if (!s) throw new Error(`no submission ${submissionPk}`);
    return s;
  }

  private setStatus(s: EmulatedSubmission, status: EvalAiStatus, via: string): void {
    s.status = status;
    s.history.push({ status, via, at: this.now() });
    this.changed();
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const method = request.method ?? 'GET';
    const url = new URL(request.url ?? '/', 'http://emulator');
    const media = /^\/media\/(submission_files|result_files)\/(\d+)\.json$/.exec(url.pathname);
    if (media && method === 'GET') {
      // Public media, like EvalAI's S3 bucket: no token, and not counted by the API's throttle.
      const s = this.submissions.get(Number(media[2]));
      const file = media[1] === 'submission_files' ? s?.inputFile : s?.resultFile;
      response.writeHead(file === undefined ? 404 : 200, { 'Content-Type': 'application/json' });
      response.end(file ?? '{"detail": "Not found."}');
      return;
    }
    const at = this.now();
    let body: unknown;
    let status = 500;
    let payload: unknown;
    let headers: Record<string, string> = {};
    try {
      body = await readBody(request);
      this.applyCancels(method, url.pathname);
      const board = /^\/api\/jobs\/challenge_phase_split\/(\d+)\/leaderboard\/$/.exec(url.pathname);
      if (board && method === 'GET') {
        // Public: AnonRateThrottle, no token needed.
        this.injectedFault(method, url.pathname);
        payload = this.publicLeaderboard(Number(board[1]), url);
      } else {
        const user = this.authenticate(request);
        this.injectedFault(method, url.pathname);
        payload = await this.route(user, method, url, body);
      }
      status = 200;
    } catch (error) {
      if (error instanceof HttpError) {
        status = error.status;
        payload = error.body;
        headers = error.headers;
      } else {
        payload = { error: (error as Error).message };
      }
    }
    this.requests.push({ method, path: url.pathname + url.search, status, body, at });
    if (method !== 'GET') this.changed();
    if (payload === UNCAUGHT) {
      response.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', ...headers });
      response.end(SERVER_ERROR_PAGE);
      return;
    }
    response.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    response.end(JSON.stringify(payload));
  }

  private applyCancels(method: string, path: string): void {
    for (const pending of [...this.cancels]) {
      const { trigger } = pending;
      const matches = 'nth' in trigger || ((!trigger.method || trigger.method === method) && trigger.path?.test(path));
      if (!matches) continue;
      pending.countdown -= 1;
      if (pending.countdown > 0) continue;
      this.cancels.splice(this.cancels.indexOf(pending), 1);
      this.cancel(pending.submissionPk);
    }
  }

  /** DRF's order: authentication, then permissions (HasVerifiedEmail), then the throttle. */
  private authenticate(request: IncomingMessage): EmulatedUser {
    const header = request.headers.authorization;
    if (!header) throw new HttpError(401, { detail: 'Authentication credentials were not provided.' });
    const token = /^Bearer (.+)$/.exec(header)?.[1] ?? '';
    const user = this.users.get(token);
    if (!user) throw new HttpError(401, TOKEN_NOT_VALID);
    if (user.emailVerified === false) throw new HttpError(403, { detail: 'Please verify your email!' });
    // UserRateThrottle: a sliding log of the last 60 seconds' requests per user; a throttled one is not logged.
    const limit = this.options.requestsPerMinute ?? 60;
    const now = this.now();
    const log = (this.throttle.get(token) ?? []).filter((t) => t > now - 60_000);
    if (log.length >= limit) {
      const wait = Math.ceil((60_000 - (now - (log[0] ?? now))) / 1000);
      throw new HttpError(
        429,
        { detail: `Request was throttled. Expected available in ${wait} seconds.` },
        { 'Retry-After': String(wait) },
      );
    }
    log.push(now);
    this.throttle.set(token, log);
    return user;
  }

  private injectedFault(method: string, path: string): void {
    const fault = this.faults.find(
      (f) => (f.times ?? 1) > 0 && (!f.method || f.method === method) && (!f.path || f.path.test(path)),
    );
    if (!fault) return;
    fault.times = (fault.times ?? 1) - 1;
    const headers: Record<string, string> =
      fault.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(fault.retryAfterSeconds) };
    throw new HttpError(fault.status, fault.html ? UNCAUGHT : { detail: `injected fault ${fault.status}` }, headers);
  }

  private async route(user: EmulatedUser, method: string, url: URL, body: unknown): Promise<unknown> {
    const path = url.pathname;
    let m = /^\/api\/jobs\/submission\/(\d+)$/.exec(path);
    if (m && method === 'GET') {
      const s = this.found(Number(m[1]));
      if (!user.host && s.createdBy !== user.token) {
        throw new HttpError(401, { error: 'Sorry, you are not authorized to access this submission.' });
      }
      return this.serialize(s);
    }
    m = /^\/api\/challenges\/challenge\/(\d+)\/challenge_phase\/(\d+)$/.exec(path);
    if (m && method === 'GET') return this.phaseDetail(Number(m[1]), Number(m[2]));
    m = /^\/api\/jobs\/(challenge\/)?queues\/([^/]+)\/$/.exec(path);
    if (m && (method === 'GET' || method === 'POST')) return this.queueProxy(user, method, m[1], m[2] ?? '', body);
    m = /^\/api\/jobs\/challenge\/(\d+)\/update_submission\/$/.exec(path);
    if (m && (method === 'PATCH' || method === 'PUT')) {
      this.requireHost(user, Number(m[1]));
      return method === 'PATCH'
        ? this.patchStatus(body, ['queued', 'running'])
        : this.putResult(body, ['finished', 'failed', 'cancelled'], 'update_submission');
    }
    m = /^\/api\/jobs\/challenges\/(\d+)\/update_partially_evaluated_submission\/$/.exec(path);
    if (m && (method === 'PATCH' || method === 'PUT')) {
      this.requireHost(user, Number(m[1]));
      return method === 'PATCH'
        ? this.patchPartial(body)
        : this.putResult(body, ['failed', 'cancelled', 'finished', 'partially_evaluated'], 'partial');
    }
    m = /^\/api\/jobs\/challenge\/(\d+)\/submission\/$/.exec(path);
    if (m && method === 'GET') {
      this.requireHost(user, Number(m[1]));
      return this.list(url);
    }
    m = /^\/api\/jobs\/challenge\/(\d+)\/challenge_phase\/(\d+)\/submission\/$/.exec(path);
    if (m && method === 'POST') {
      const data = fields(body);
      const image = data.submitted_image_uri;
      const team = data.team_name;
      if (typeof image !== 'string' || !image)
        throw new HttpError(400, { error: 'Error in submitted_image_uri from submission file' });
      if (typeof team !== 'string' || !team)
        throw new HttpError(403, { error: "You haven't participated in the challenge" });
      const submission = this.createSubmission({
        phasePk: Number(m[2]),
        teamPk: this.teamPkOf(team),
        teamName: team,
        imageUri: image,
        createdBy: user.token,
      });
      await this.options.onSubmission?.(submission, this.messageFor(submission.id));
      return this.serialize(submission);
    }
    m = /^\/api\/jobs\/submissions\/(\d+)\/resume\/$/.exec(path);
    if (m && method === 'POST') {
      // resume_submission's checks, in its order (the challenge is active and remote here).
      const s = this.found(Number(m[1]));
      if (s.status !== 'failed') throw new HttpError(400, { error: 'Only failed submissions can be resumed' });
      if (!user.host) throw new HttpError(403, { error: 'Only challenge hosts are allowed to resume a submission' });
      if (!this.options.allowResumingSubmissions) {
        throw new HttpError(406, { error: `Challenge ${this.title} does not allow resuming submissions.` });
      }
      this.resume(s.id);
      await this.options.onSubmission?.(s, this.messageFor(s.id));
      return { success: 'Submission is successfully resumed' };
    }
    m = /^\/api\/jobs\/challenges\/(\d+)\/submissions\/(\d+)\/update_submission_meta\/$/.exec(path);
    if (m && method === 'PATCH') {
      const s = this.found(Number(m[2]));
      if (!user.host && s.createdBy !== user.token) throw new HttpError(403, { error: 'Submission does not exist' });
      // A partial SubmissionSerializer: any of EvalAI's statuses, from the participant too.
      const wanted = fields(body).status;
      if (wanted !== undefined) {
        const status = String(wanted).toLowerCase();
        if (!(EVALAI_STATUSES as readonly string[]).includes(status)) {
          throw new HttpError(400, { status: [`"${String(wanted)}" is not a valid choice.`] });
        }
        this.setStatus(s, status as EvalAiStatus, user.host ? 'host' : 'participant');
      }
      return this.serialize(s);
    }
    throw new HttpError(404, { detail: 'Not found.' });
  }

  /** The phase detail: the fields of ChallengePhase Pitwall reads, for anyone signed in. */
  private phaseDetail(challengePk: number, phasePk: number) {
    // challenge_phase_detail: 406 for a challenge it does not have, and for a phase not of the challenge.
    if (challengePk !== this.options.challengePk) throw new HttpError(406, { error: 'Challenge does not exist' });
    const phase = this.options.phases.find((p) => p.pk === phasePk);
    if (!phase) {
      throw new HttpError(406, { error: `Challenge phase ${phasePk} does not exist for challenge ${challengePk}` });
    }
    return {
      id: phase.pk,
      codename: phase.codename,
      challenge: challengePk,
      is_partial_submission_evaluation_enabled: phase.partialEvaluation ?? false,
      max_concurrent_submissions_allowed: phase.maxConcurrentSubmissions ?? DEFAULT_MAX_CONCURRENT,
    };
  }

  /** EvalAI's queue proxy: GET …/challenge/queues/<name>/ receives one message, POST …/queues/<name>/ deletes. */
  private queueProxy(user: EmulatedUser, method: string, receive: string | undefined, name: string, body: unknown) {
    if (name !== this.options.queueName) {
      throw new HttpError(400, { error: `Challenge with queue name ${name} does not exist${receive ? '' : 's'}` });
    }
    if (method === 'POST' && !receive) return this.deleteQueued(user, name, body);
    if (!user.host) throw new HttpError(401, QUEUE_NOT_A_HOST);
    if (method === 'GET' && receive) {
      const message = this.queued.find((m) => m.visibleAt <= this.now());
      if (!message) return { body: null, receipt_handle: null };
      message.handle = randomUUID();
      this.handedOut.add(message.handle);
      message.visibleAt = this.now() + 30_000;
      let parsed: unknown = null;
      try {
        parsed = JSON.parse(message.body);
      } catch {
        // EvalAI hands out what it cannot parse as null
      }
      return { body: parsed, receipt_handle: message.handle };
    }
    throw new HttpError(405, { detail: `Method "${method}" not allowed.` });
  }

  /**
   * delete_submission_message_from_queue, in its order: a body without receipt_handle is a KeyError (Django's
   * 500 page), an empty one 400, a user not a host 401; SQS refuses a handle it never gave (a ClientError the
   * view answers with a Response it cannot render: the 500 page again), and takes an old one without deleting.
   */
  private deleteQueued(user: EmulatedUser, name: string, body: unknown) {
    if (body === null || typeof body !== 'object' || !('receipt_handle' in body)) throw serverError('KeyError');
    const handle = (body as { receipt_handle: unknown }).receipt_handle;
    if (!handle) throw new HttpError(400, { error: 'Please add message receipt handle in the body' });
    if (!user.host) throw new HttpError(401, QUEUE_NOT_A_HOST);
    if (typeof handle !== 'string' || !this.handedOut.has(handle)) throw serverError('ReceiptHandleIsInvalid');
    const at = this.queued.findIndex((m) => m.handle === handle);
    if (at >= 0) this.queued.splice(at, 1);
    return { success: `Message deleted successfully from the queue: ${name}` };
  }

  private requireHost(user: EmulatedUser, challengePk: number): void {
    if (!user.host || challengePk !== this.options.challengePk) throw new HttpError(400, NOT_A_HOST);
  }

  private found(pk: number): EmulatedSubmission {
    const s = this.submissions.get(pk);
    if (!s) throw new HttpError(404, { error: `Submission ${pk} does not exist` });
    return s;
  }

  private serialize(s: EmulatedSubmission) {
    return {
      id: s.id,
      participant_team: s.teamPk,
      participant_team_name: s.teamName,
      challenge_phase: s.phasePk,
      created_by: s.createdBy === undefined ? null : 1,
      status: s.status,
      is_public: s.isPublic,
      is_flagged: false,
      input_file: `${this.url}/media/submission_files/${s.id}.json`,
      submission_result_file: s.resultFile ? `${this.url}/media/result_files/${s.id}.json` : null,
      stdout_file: null,
      stderr_file: null,
      job_name: [...s.jobName],
      submitted_at: s.submittedAt,
      rerun_resumed_at: s.resumedAt,
      started_at: s.startedAt,
      completed_at: s.completedAt,
    };
  }

  /** GET …/submission/?status=: one status, strict datetime bounds, no pagination. */
  private list(url: URL): unknown {
    const wanted = url.searchParams.get('status');
    if (wanted === null || !LISTABLE.includes(wanted)) {
      throw new HttpError(400, { error: `Invalid submission status ${wanted}` });
    }
    const bound = (name: string) => {
      const value = url.searchParams.get(name);
      if (value === null) return undefined;
      const time = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+)?(Z|[+-]\d{2}:?\d{2})?$/.test(value) ? Date.parse(value) : NaN;
      if (Number.isNaN(time)) throw new HttpError(400, { error: `Invalid ${name} datetime ${value}` });
      return time;
    };
    const after = bound('submitted_after');
    const before = bound('submitted_before');
    return [...this.submissions.values()]
      .filter((s) => s.status === wanted)
      .filter((s) => after === undefined || Date.parse(s.submittedAt) > after)
      .filter((s) => before === undefined || Date.parse(s.submittedAt) < before)
      .map((s) => this.serialize(s));
  }

  private patchStatus(body: unknown, allowed: readonly string[]): unknown {
    const data = fields(body);
    const s = this.found(Number(data.submission));
    const status = String(data.submission_status ?? '').toLowerCase();
    if (typeof data.job_name === 'string' && data.job_name) s.jobName.push(data.job_name.toLowerCase());
    if (!allowed.includes(status)) throw new HttpError(400, { error: 'Sorry, submission status is invalid' });
    s.startedAt = new Date(this.now()).toISOString();
    this.setStatus(s, status as EvalAiStatus, 'PATCH update_submission');
    return this.serialize(s);
  }

  /** PATCH update_partially_evaluated_submission: running sets the status; the others merge into the rows. */
  private patchPartial(body: unknown): unknown {
    const data = fields(body);
    const status = String(data.submission_status ?? '').toLowerCase();
    if (status === 'running') return this.patchStatus(body, ['running']);
    if (status !== 'partially_evaluated' && status !== 'finished') {
      throw new HttpError(400, { error: 'Sorry, submission status is invalid' });
    }
    const s = this.found(Number(data.submission));
    const entries = this.resultEntries(data, true);
    for (const entry of entries) {
      const row = this.leaderboard.get(`${s.id}/${entry.split.codename}`);
      if (!row) {
        throw new HttpError(400, {
          error: `Leaderboard Data does not exist with phase_id: ${data.challenge_phase} andsubmission id: ${s.id}`,
        });
      }
    }
    for (const entry of entries) {
      const row = this.leaderboard.get(`${s.id}/${entry.split.codename}`) as LeaderboardRow;
      row.accuracies = { ...row.accuracies, ...entry.accuracies };
    }
    this.finishWrite(s, data, entries, status as EvalAiStatus, 'PATCH partial');
    return { success: 'Submission result has been successfully updated' };
  }

  private putResult(body: unknown, allowed: readonly string[], via: string): unknown {
    const data = fields(body);
    const s = this.found(Number(data.submission));
    const status = String(data.submission_status ?? '').toLowerCase();
    if (!allowed.includes(status)) throw new HttpError(400, { error: 'Sorry, submission status is invalid' });
    // Only results are read, and only for these: a failed PUT ignores result and challenge_phase.
    const scored = status === 'finished' || (via === 'partial' && status === 'partially_evaluated');
    const entries = scored ? this.resultEntries(data, via === 'partial') : [];
    for (const entry of entries) {
      this.leaderboard.set(`${s.id}/${entry.split.codename}`, {
        submissionPk: s.id,
        teamName: s.teamName,
        split: entry.split.codename,
        splitId: entry.split.id,
        accuracies: entry.accuracies,
      });
    }
    this.finishWrite(s, data, entries, status as EvalAiStatus, `PUT ${via}`);
    return { success: 'Submission result has been successfully updated' };
  }

  private finishWrite(
    s: EmulatedSubmission,
    data: Record<string, unknown>,
    entries: readonly { show: boolean; raw: string }[],
    status: EvalAiStatus,
    via: string,
  ): void {
    for (const key of ['stdout', 'stderr']) {
      // EvalAI saves these with ContentFile(...): null is a server error there.
      if (key in data && data[key] === null) {
        throw new HttpError(500, { error: `'NoneType' object has no attribute 'encode'` });
      }
    }
    s.stdout = String(data.stdout ?? '');
    s.stderr = String(data.stderr ?? '');
    if ('metadata' in data) s.metadata = String(data.metadata ?? '');
    s.resultFile = `[${entries
      .filter((e) => e.show)
      .map((e) => e.raw)
      .join(', ')}]`;
    s.completedAt = new Date(this.now()).toISOString();
    this.setStatus(s, status, via);
  }

  /**
   * `result`, as EvalAI reads it: a JSON string; each split must exist for the body's challenge_phase;
   * a label the schema has may be missing, a key it lacks is refused (accepted on the partial endpoint of
   * a partial-evaluation phase); values must be numbers.
   */
  private resultEntries(data: Record<string, unknown>, partialEndpoint: boolean) {
    const raw = data.result;
    const invalid = (why: string) =>
      new HttpError(400, {
        error: `\`result\` key contains invalid data with error ${why}.Please try again with correct format.`,
      });
    if (typeof raw !== 'string') throw invalid('the JSON object must be str, bytes or bytearray');
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (error) {
      throw invalid((error as Error).message);
    }
    if (!Array.isArray(parsed)) throw invalid('result is not a list');
    const phasePk = Number(data.challenge_phase);
    const asPython = parsePyJson(raw).items ?? [];
    return parsed.map((entry, index) => {
      const { split, accuracies, show_to_participant } = fields(entry);
      const phaseSplit = this.splits.find((s) => s.phase.pk === phasePk && s.codename === split);
      if (!phaseSplit) {
        throw new HttpError(400, {
          error: `Challenge Phase Split does not exist with phase_id: ${data.challenge_phase} andsplit codename: ${String(split)}`,
        });
      }
      if (accuracies === null || typeof accuracies !== 'object' || Array.isArray(accuracies)) {
        throw new HttpError(500, { error: "'NoneType' object has no attribute 'items'" });
      }
      const unknown = Object.keys(accuracies).filter((key) => !this.options.labels.includes(key));
      if (unknown.length > 0 && !(partialEndpoint && phaseSplit.phase.partialEvaluation)) {
        throw new HttpError(400, {
          error: `Following metrics are missing in theleaderboard data: [${unknown.map((k) => `'${k}'`).join(', ')}]`,
        });
      }
      const malformed = Object.entries(accuracies).filter(([, v]) => typeof v !== 'number' || !Number.isFinite(v));
      if (malformed.length > 0) {
        throw new HttpError(400, {
          error: `Values for following metrics are not offloat/int: ${malformed.map(([k]) => k).join(', ')}`,
        });
      }
      return {
        split: phaseSplit,
        accuracies: accuracies as Record<string, number>,
        show: show_to_participant === true,
        raw: asPython[index]?.fields?.get('accuracies')?.repr ?? '{}',
      };
    });
  }

  /**
   * GET /api/jobs/challenge_phase_split/<id>/leaderboard/: the rows of finished submissions (and
   * partially evaluated ones on partial-evaluation phases), public ones only, best first, one per team,
   * values in the schema's label order ('#' for a missing one), paginated.
   */
  private publicLeaderboard(splitId: number, url: URL): unknown {
    const split = this.splits.find((s) => s.id === splitId);
    if (!split) throw new HttpError(404, { error: 'Challenge Phase Split does not exist' });
    const labels = this.options.labels;
    const orderBy = this.options.defaultOrderBy ?? labels[0] ?? '';
    const shown: EvalAiStatus[] = split.phase.partialEvaluation ? ['finished', 'partially_evaluated'] : ['finished'];
    const rows = [...this.leaderboard.values()]
      .filter((row) => row.splitId === splitId)
      .map((row) => ({ row, submission: this.require(row.submissionPk) }))
      .filter(({ submission }) => shown.includes(submission.status) && submission.isPublic)
      .sort((a, b) => (b.row.accuracies[orderBy] ?? 0) - (a.row.accuracies[orderBy] ?? 0));
    const teams = new Set<string>();
    const best = rows.filter(({ submission }) => !teams.has(submission.teamName) && teams.add(submission.teamName));
    const page = Number(url.searchParams.get('page') ?? '1');
    const pages = Math.max(1, Math.ceil(best.length / PAGE_SIZE));
    if (!Number.isInteger(page) || page < 1 || page > pages) throw new HttpError(404, { detail: 'Invalid page.' });
    const link = (n: number) =>
      n < 1 || n > pages ? null : `${this.url}/api/jobs/challenge_phase_split/${splitId}/leaderboard/?page=${n}`;
    return {
      count: best.length,
      next: link(page + 1),
      previous: page === 2 ? `${this.url}/api/jobs/challenge_phase_split/${splitId}/leaderboard/` : link(page - 1),
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
}

async function readBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return {};
  const type = request.headers['content-type'] ?? '';
  if (type.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(text));
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, { detail: 'JSON parse error' });
  }
}

function fields(body: unknown): Record<string, unknown> {
  return body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}

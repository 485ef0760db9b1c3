import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EvalAiStatus } from '@pitwall/domain';

/**
 * An EvalAI stand-in that enforces the rules of EvalAI's host API (evalai-host-api.md §2): Bearer
 * auth answering 401 token_not_valid, PATCH accepting only queued/running and PUT only
 * finished/failed/cancelled, `result` as a JSON string whose splits and labels match the phase and
 * leaderboard, the per-token throttle with 429 and Retry-After, and last-writer-wins statuses.
 * Tests and the local runtime drive the participant's side through its methods.
 */

export interface EmulatedPhase {
  readonly pk: number;
  readonly codename: string;
  /** Dataset split codenames of the phase. */
  readonly splits: readonly string[];
  /** is_partial_submission_evaluation_enabled: partial results may omit metrics. */
  readonly partialEvaluation?: boolean;
}

export interface EvalAiEmulatorOptions {
  readonly challengePk: number;
  readonly phases: readonly EmulatedPhase[];
  /** leaderboard.schema.labels */
  readonly labels: readonly string[];
  readonly hostToken: string;
  /** The token participants use for the participant endpoints (submit, cancel, leaderboard). */
  readonly participantToken?: string;
  /** What EvalAI does after recording a submission: publish its message to the challenge's queue. */
  readonly onSubmission?: (submission: EmulatedSubmission, message: string) => Promise<void>;
  /** Per token, as EvalAI's UserRateThrottle ("60/minute"). */
  readonly requestsPerMinute?: number;
  readonly now?: () => number;
}

export interface EmulatedSubmission {
  readonly id: number;
  readonly challengePk: number;
  readonly phasePk: number;
  readonly teamPk: number;
  readonly teamName: string;
  readonly imageUri: string;
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
  /** Every status written, in order, by which call, and when (ms since the epoch). */
  readonly history: { status: string; via: string; at: number }[];
}

export interface LeaderboardRow {
  readonly submissionPk: number;
  readonly teamName: string;
  readonly split: string;
  readonly accuracies: Readonly<Record<string, number>>;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly body: unknown;
}

export interface Fault {
  readonly method?: string;
  readonly path?: RegExp;
  readonly status: number;
  /** How many matching requests fail; default 1. */
  times?: number;
  readonly retryAfterSeconds?: number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(`HTTP ${status}`);
  }
}

const TOKEN_NOT_VALID = {
  detail: 'Given token not valid for any token type',
  code: 'token_not_valid',
  messages: [{ token_class: 'RefreshToken', token_type: 'refresh', message: 'Token is invalid or expired' }],
};

export class EvalAiEmulator {
  readonly submissions = new Map<number, EmulatedSubmission>();
  readonly leaderboard = new Map<string, LeaderboardRow>();
  readonly requests: RecordedRequest[] = [];
  readonly faults: Fault[] = [];
  private readonly throttle = new Map<string, number[]>();
  private nextPk = 1;
  private server: Server | undefined;
  private readonly now: () => number;

  constructor(private readonly options: EvalAiEmulatorOptions) {
    this.now = options.now ?? Date.now;
  }

  async start(): Promise<string> {
    this.server = createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return this.url;
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo | null;
    if (!address) throw new Error('the EvalAI emulator is not running');
    return `http://127.0.0.1:${address.port}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    this.server = undefined;
  }

  /** A participant's `evalai push`: the submission EvalAI records, status submitted. */
  createSubmission(input: { phasePk: number; teamPk: number; teamName: string; imageUri: string }): EmulatedSubmission {
    if (!this.options.phases.some((p) => p.pk === input.phasePk)) throw new Error(`no phase ${input.phasePk}`);
    const submission: EmulatedSubmission = {
      id: this.nextPk++,
      challengePk: this.options.challengePk,
      ...input,
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
      history: [{ status: 'submitted', via: 'participant', at: this.now() }],
    };
    this.submissions.set(submission.id, submission);
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

  /** EvalAI's resume: only failed submissions, status resuming, same pk. */
  resume(submissionPk: number): void {
    const s = this.require(submissionPk);
    if (s.status !== 'failed') throw new Error(`submission ${submissionPk} is ${s.status}, only failed ones resume`);
    this.setStatus(s, 'resuming', 'participant');
    s.resumedAt = new Date(this.now()).toISOString();
  }

  get(submissionPk: number): EmulatedSubmission {
    return this.require(submissionPk);
  }

  private require(submissionPk: number): EmulatedSubmission {
    const s = this.submissions.get(submissionPk);
    if (!s) throw new Error(`no submission ${submissionPk}`);
    return s;
  }

  private setStatus(s: EmulatedSubmission, status: EvalAiStatus, via: string): void {
    s.status = status;
    s.history.push({ status, via, at: this.now() });
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const method = request.method ?? 'GET';
    const url = new URL(request.url ?? '/', 'http://emulator');
    let body: unknown;
    let status = 500;
    let payload: unknown;
    let headers: Record<string, string> = {};
    const inputFile = /^\/media\/submission_files\/(\d+)\.json$/.exec(url.pathname);
    if (inputFile && method === 'GET') {
      // Public media, like EvalAI's S3 bucket: no token, and not counted by the API's throttle.
      const file = this.submissions.get(Number(inputFile[1]))?.inputFile;
      response.writeHead(file === undefined ? 404 : 200, { 'Content-Type': 'application/json' });
      response.end(file ?? '{"detail": "Not found."}');
      return;
    }
    try {
      body = await readBody(request);
      const role = this.authorize(request);
      this.injectedFault(method, url.pathname);
      payload = role === 'host' ? this.route(method, url, body) : await this.participantRoute(method, url, body);
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
    this.requests.push({ method, path: url.pathname + url.search, status, body });
    response.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    response.end(JSON.stringify(payload));
  }

  private authorize(request: IncomingMessage): 'host' | 'participant' {
    const header = request.headers.authorization ?? '';
    const token = /^Bearer (.+)$/.exec(header)?.[1] ?? '';
    const role =
      token === this.options.hostToken ? 'host' : token === this.options.participantToken ? 'participant' : undefined;
    if (!role) throw new HttpError(401, TOKEN_NOT_VALID);
    // DRF's throttle: a sliding log of the last minute's requests per user.
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
    return role;
  }

  private injectedFault(method: string, path: string): void {
    const fault = this.faults.find(
      (f) => (f.times ?? 1) > 0 && (!f.method || f.method === method) && (!f.path || f.path.test(path)),
    );
    if (!fault) return;
    fault.times = (fault.times ?? 1) - 1;
    const headers: Record<string, string> =
      fault.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(fault.retryAfterSeconds) };
    throw new HttpError(fault.status, { detail: `injected fault ${fault.status}` }, headers);
  }

  private route(method: string, url: URL, body: unknown): unknown {
    const path = url.pathname;
    let m = /^\/api\/jobs\/submission\/(\d+)$/.exec(path);
    if (m && method === 'GET') return this.serialize(this.found(Number(m[1])));
    m = /^\/api\/jobs\/challenge\/(\d+)\/update_submission\/$/.exec(path);
    if (m && method === 'PATCH') return this.patchSubmission(Number(m[1]), body);
    if (m && method === 'PUT')
      return this.putSubmission(Number(m[1]), body, ['finished', 'failed', 'cancelled'], 'update_submission');
    m = /^\/api\/jobs\/challenges\/(\d+)\/update_partially_evaluated_submission\/$/.exec(path);
    if (m && method === 'PUT') {
      return this.putSubmission(
        Number(m[1]),
        body,
        ['failed', 'cancelled', 'finished', 'partially_evaluated'],
        'partial',
      );
    }
    m = /^\/api\/jobs\/challenge\/(\d+)\/submission\/$/.exec(path);
    if (m && method === 'GET') {
      const wanted = url.searchParams.get('status');
      return [...this.submissions.values()]
        .filter((s) => s.challengePk === Number(m?.[1]) && (!wanted || s.status === wanted))
        .map((s) => this.serialize(s));
    }
    throw new HttpError(404, { detail: 'Not found.' });
  }

  /** What a participant can do: submit an image, cancel a submission, look at the leaderboard. */
  private async participantRoute(method: string, url: URL, body: unknown): Promise<unknown> {
    const path = url.pathname;
    let m = /^\/api\/jobs\/challenge\/(\d+)\/challenge_phase\/(\d+)\/submission\/$/.exec(path);
    if (m && method === 'POST') {
      const data = fields(body);
      const image = data.submitted_image_uri;
      const team = data.team_name;
      if (typeof image !== 'string' || !image) throw new HttpError(400, { error: 'submitted_image_uri is required' });
      if (typeof team !== 'string' || !team) throw new HttpError(400, { error: 'team_name is required' });
      const teamPk = this.teamPkOf(team);
      const submission = this.createSubmission({ phasePk: Number(m[2]), teamPk, teamName: team, imageUri: image });
      await this.options.onSubmission?.(submission, this.messageFor(submission.id));
      return this.serialize(submission);
    }
    m = /^\/api\/jobs\/challenges\/(\d+)\/submissions\/(\d+)\/update_submission_meta\/$/.exec(path);
    if (m && method === 'PATCH') {
      if (String(fields(body).status ?? '').toLowerCase() !== 'cancelled')
        throw new HttpError(400, { error: 'only cancelling is supported' });
      this.cancel(this.found(Number(m[2])).id);
      return this.serialize(this.found(Number(m[2])));
    }
    if (/^\/api\/challenges\/(\d+)\/leaderboard\/$/.test(path) && method === 'GET')
      return [...this.leaderboard.values()];
    throw new HttpError(403, { detail: 'Sorry, you are not allowed to perform this operation!' });
  }

  /** EvalAI's participant team pk for a team name: the one it already has, or the next free one. */
  teamPkOf(teamName: string): number {
    const known = [...this.submissions.values()].find((s) => s.teamName === teamName);
    return known?.teamPk ?? 1000 + new Set([...this.submissions.values()].map((s) => s.teamName)).size;
  }

  private found(pk: number): EmulatedSubmission {
    const s = this.submissions.get(pk);
    if (!s) throw new HttpError(404, { detail: 'Submission does not exist' });
    return s;
  }

  private serialize(s: EmulatedSubmission) {
    return {
      id: s.id,
      participant_team: s.teamPk,
      participant_team_name: s.teamName,
      challenge_phase: s.phasePk,
      status: s.status,
      input_file: `${this.url}/media/submission_files/${s.id}.json`,
      job_name: [...s.jobName],
      submitted_at: s.submittedAt,
      rerun_resumed_at: s.resumedAt,
      started_at: s.startedAt,
      completed_at: s.completedAt,
    };
  }

  private patchSubmission(challengePk: number, body: unknown): unknown {
    const data = fields(body);
    const s = this.found(Number(data.submission));
    if (s.challengePk !== challengePk)
      throw new HttpError(400, { error: 'Submission does not belong to this challenge' });
    const status = String(data.submission_status ?? '').toLowerCase();
    if (status !== 'queued' && status !== 'running') {
      throw new HttpError(400, { error: 'Sorry, submission status is not valid' });
    }
    if (typeof data.job_name === 'string' && data.job_name) s.jobName.push(data.job_name.toLowerCase());
    s.startedAt = new Date(this.now()).toISOString();
    this.setStatus(s, status, 'PATCH update_submission');
    return this.serialize(s);
  }

  private putSubmission(challengePk: number, body: unknown, allowed: readonly string[], via: string): unknown {
    const data = fields(body);
    const s = this.found(Number(data.submission));
    const status = String(data.submission_status ?? '').toLowerCase();
    if (!allowed.includes(status)) throw new HttpError(400, { error: 'Sorry, submission status is not valid' });
    if (Number(data.challenge_phase) !== s.phasePk) {
      throw new HttpError(400, { error: `Challenge Phase ${data.challenge_phase} does not exist for this submission` });
    }
    for (const key of ['stdout', 'stderr', 'environment_log']) {
      // EvalAI calls .encode() on these: null is a server error there.
      if (key in data && data[key] === null)
        throw new HttpError(500, { error: `'NoneType' object has no attribute 'encode'` });
    }
    const phase = this.options.phases.find((p) => p.pk === s.phasePk);
    let entries: { split: string; accuracies: Record<string, number> }[] = [];
    if (status === 'finished' || status === 'partially_evaluated') {
      entries = this.checkResult(
        data.result,
        phase,
        status === 'partially_evaluated' && phase?.partialEvaluation === true,
      );
    }
    s.stdout = String(data.stdout ?? '');
    s.stderr = String(data.stderr ?? '');
    s.metadata = String(data.metadata ?? '');
    if (status !== 'partially_evaluated') s.completedAt = new Date(this.now()).toISOString();
    this.setStatus(s, status as EvalAiStatus, `PUT ${via}`);
    for (const entry of entries) {
      this.leaderboard.set(`${s.id}/${entry.split}`, {
        submissionPk: s.id,
        teamName: s.teamName,
        split: entry.split,
        accuracies: entry.accuracies,
      });
    }
    void challengePk; // EvalAI does not check that the submission belongs to <cpk> on PUT
    return { success: 'Submission result has been successfully updated' };
  }

  private checkResult(raw: unknown, phase: EmulatedPhase | undefined, missingAllowed: boolean) {
    const invalid = () =>
      new HttpError(400, { error: '`result` key contains invalid data. Please try again with correct format!' });
    if (typeof raw !== 'string') throw invalid();
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw invalid();
    }
    if (!Array.isArray(parsed)) throw invalid();
    return parsed.map((entry) => {
      const { split, accuracies } = (entry ?? {}) as { split?: unknown; accuracies?: unknown };
      if (typeof split !== 'string' || !phase?.splits.includes(split)) {
        throw new HttpError(400, {
          error: `Challenge Phase Split does not exist with phase_id: ${phase?.pk} and dataset_split codename: ${String(split)}`,
        });
      }
      if (accuracies === null || typeof accuracies !== 'object' || Array.isArray(accuracies)) throw invalid();
      const keys = Object.keys(accuracies);
      const missing = this.options.labels.filter((label) => !keys.includes(label));
      if (missing.length > 0 && !missingAllowed) {
        throw new HttpError(400, {
          error: `Following metrics are missing in the leaderboard data: ${missing.join(', ')}`,
        });
      }
      const unknown = keys.filter((key) => !this.options.labels.includes(key));
      if (unknown.length > 0) {
        throw new HttpError(400, {
          error: `Following metrics are missing in the leaderboard schema: ${unknown.join(', ')}`,
        });
      }
      for (const [key, value] of Object.entries(accuracies)) {
        if (typeof value !== 'number' || !Number.isFinite(value)) {
          throw new HttpError(400, { error: `The value of ${key} must be an integer or a float` });
        }
      }
      return { split, accuracies: accuracies as Record<string, number> };
    });
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

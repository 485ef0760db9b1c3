import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EmulatedChallenge } from './challenge.js';
import { HttpError, readBody, SERVER_ERROR_PAGE, UNCAUGHT } from './http-error.js';
import type { CancelTrigger, EmulatedUser, EvalAiEmulatorOptions, Fault, RecordedRequest } from './model.js';
import { publicLeaderboard } from './public-leaderboard.js';
import { routeOf } from './routes.js';

/**
 * A model of EvalAI's server as it was measured (docs/evalai.md), not of what Pitwall wishes it
 * were: every write is last-writer-wins (over a cancel too), a partial PUT on any phase makes the
 * submission `partially_evaluated`, validation is as loose as EvalAI's, errors have EvalAI's statuses and
 * bodies, the throttle is a sliding 60-second log per user, and the public leaderboard is EvalAI's route.
 * Where the emulator is stricter than EvalAI it is wrong: Pitwall's own checks must do the guarding.
 * Tests and the local runtime drive the participant's side through its methods.
 *
 * This file is the HTTP side (authentication, the throttle, injected faults); the views are in
 * host-api.ts, participant-api.ts, queue-proxy.ts and public-leaderboard.ts, the records in challenge.ts.
 */

const TOKEN_NOT_VALID = {
  detail: 'Given token not valid for any token type',
  code: 'token_not_valid',
  messages: [{ token_class: 'RefreshToken', token_type: 'refresh', message: 'Token is invalid or expired' }],
};
const PUBLIC_MEDIA = /^\/media\/(submission_files|result_files)\/(\d+)\.json$/;
const PUBLIC_LEADERBOARD = /^\/api\/jobs\/challenge_phase_split\/(\d+)\/leaderboard\/$/;

export class EvalAiEmulator extends EmulatedChallenge {
  readonly requests: RecordedRequest[] = [];
  readonly faults: Fault[] = [];
  private readonly cancels: { trigger: CancelTrigger; submissionPk: number; countdown: number }[] = [];
  private readonly throttle = new Map<string, number[]>();
  private readonly users = new Map<string, EmulatedUser>();
  private server: Server | undefined;

  constructor(options: EvalAiEmulatorOptions) {
    super(options);
    this.users.set(options.hostToken, { token: options.hostToken, host: true });
    if (options.participantToken)
      this.users.set(options.participantToken, { token: options.participantToken, host: false });
    for (const user of options.users ?? []) this.users.set(user.token, user);
  }

  /** Listens on 127.0.0.1, on `port` where given (an EvalAI that comes back where it was), else on a free one. */
  async start(port = 0): Promise<string> {
    this.server = createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve) => this.server?.listen(port, '127.0.0.1', resolve));
    return this.url;
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo | null;
    if (!address) throw new Error('the EvalAI emulator is not running');
    return `http://127.0.0.1:${address.port}`;
  }

  async close(): Promise<void> {
    this.flush();
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    this.server = undefined;
  }

  /**
   * Test hook: the participant cancels `submissionPk` just before the emulator handles the API request
   * the trigger names, so a test can put a cancel between any two requests of an evaluation.
   */
  cancelBefore(submissionPk: number, trigger: CancelTrigger): void {
    this.cancels.push({ trigger, submissionPk, countdown: 'nth' in trigger ? trigger.nth : 1 });
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const method = request.method ?? 'GET';
    const url = new URL(request.url ?? '/', 'http://emulator');
    const media = PUBLIC_MEDIA.exec(url.pathname);
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
      payload = await this.answer(request, method, url, body);
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

  private async answer(request: IncomingMessage, method: string, url: URL, body: unknown): Promise<unknown> {
    this.applyCancels(method, url.pathname);
    const board = PUBLIC_LEADERBOARD.exec(url.pathname);
    if (board && method === 'GET') {
      // Public: AnonRateThrottle, no token needed.
      this.injectedFault(method, url.pathname);
      return publicLeaderboard(this, Number(board[1]), url, this.url);
    }
    const user = this.authenticate(request);
    this.injectedFault(method, url.pathname);
    const found = routeOf(method, url.pathname);
    if (!found) throw new HttpError(404, { detail: 'Not found.' });
    return found.route.view({ challenge: this, user, method, url, params: found.params, body, base: this.url });
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
}

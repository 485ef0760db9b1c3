import {
  EvalAiAuthError,
  EvalAiBudgetSpentError,
  type EvalAiHost,
  EvalAiNotHostError,
  type EvalAiPhase,
  type EvalAiQueueProxy,
  EvalAiRateLimitedError,
  EvalAiRejectedError,
  EvalAiResponseError,
  type EvalAiResultUpdate,
  type EvalAiStatus,
  type EvalAiSubmission,
  EvalAiUnavailableError,
  EvalAiUnverifiedEmailError,
  NotFoundError,
} from '@pitwall/domain';
import {
  errorBodySchema,
  inputFileSchema,
  type LeaderboardEntry,
  leaderboardPageSchema,
  MAX_BOARD_PAGES,
  MAX_INPUT_FILE_BYTES,
  MAX_TEAM_NAME,
  parseJson,
  phaseSchema,
  queuedMessageSchema,
  readText,
  resultBody,
  safeJson,
  toSubmission,
} from './evalai-responses.js';
import { type RequestBudget, type RequestPriority, unlimitedBudget } from './request-budget.js';

/** Network errors that mean the request never left: no connection was made. */
const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

export interface EvalAiClientOptions {
  /** e.g. https://eval.ai */
  readonly baseUrl: string;
  readonly token: string;
  readonly timeoutMs?: number;
  /** Tries after the first, for 5xx, network errors, timeouts and short 429s. */
  readonly retries?: number;
  readonly minRetryDelayMs?: number;
  readonly maxRetryDelayMs?: number;
  /** A 429 asking to wait longer than this is handed to the caller (the state machine retries later). */
  readonly maxRetryAfterSeconds?: number;
  /**
   * How long a request may wait here for a budget slot before EvalAiBudgetSpentError hands it to the state
   * machine, which waits in its own Retry (default 0: a Lambda does not sleep for a slot).
   */
  readonly maxBudgetWaitSeconds?: number;
  readonly budget?: RequestBudget;
  readonly fetch?: typeof fetch;
  /** The challenge this token hosts, named in errors about requests whose path does not say. */
  readonly challengePk?: number;
  /** How the client waits (for a Retry-After, a budget slot, a backoff); tests pass a fake clock's. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Told of every answer EvalAI's API gives (its HTTP status), e.g. to count requests and 429s. */
  readonly onAnswer?: (status: number) => void;
}

/** EvalAI's host REST API (docs/evalai.md): Bearer auth, JSON bodies, results as JSON strings. */
export class EvalAiClient implements EvalAiHost {
  private readonly baseUrl: string;
  private readonly budget: RequestBudget;
  private readonly fetch: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: EvalAiClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.budget = options.budget ?? unlimitedBudget;
    this.fetch = options.fetch ?? globalThis.fetch;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async getSubmission(submissionPk: number): Promise<EvalAiSubmission> {
    return toSubmission(await this.request('read', 'GET', `/api/jobs/submission/${submissionPk}`), `${submissionPk}`);
  }

  async getPhase(challengePk: number, phasePk: number): Promise<EvalAiPhase> {
    const path = `/api/challenges/challenge/${challengePk}/challenge_phase/${phasePk}`;
    const parsed = phaseSchema.safeParse(await this.request('read', 'GET', path));
    if (!parsed.success) {
      throw new EvalAiResponseError(
        `EvalAI's phase ${phasePk} is not in the expected form: ${parsed.error.issues[0]?.message}`,
        { cause: parsed.error },
      );
    }
    const limit = parsed.data.max_concurrent_submissions_allowed;
    return { id: parsed.data.id, ...(limit ? { maxConcurrentSubmissions: limit } : {}) };
  }

  async listSubmissions(
    challengePk: number,
    status: EvalAiStatus,
    options: { readonly submittedAfter?: string } = {},
  ): Promise<EvalAiSubmission[]> {
    const query = new URLSearchParams({ status });
    if (options.submittedAfter) query.set('submitted_after', options.submittedAfter);
    const path = `/api/jobs/challenge/${challengePk}/submission/?${query}`;
    // Ranked with terminal results: one list stands in for a read of every submission it covers, and the
    // status watch's is what ends cancelled runs (and frees their GPUs) while the budget is busiest.
    const body = await this.request('result', 'GET', path);
    // Some EvalAI versions wrap lists in DRF's page object.
    const items = Array.isArray(body) ? body : (body as { results?: unknown })?.results;
    if (!Array.isArray(items)) throw new EvalAiResponseError(`EvalAI's answer to GET ${path} is not a list`);
    return items.map((item, i) => toSubmission(item, `#${i} of the ${status} list`));
  }

  /**
   * The public leaderboard of a challenge phase split, every page, best entry per team first (EvalAI's
   * `/api/jobs/challenge_phase_split/<id>/leaderboard/`; no token needed).
   */
  async leaderboard(splitId: number): Promise<LeaderboardEntry[]> {
    const entries: LeaderboardEntry[] = [];
    let url: string | null = `${this.baseUrl}/api/jobs/challenge_phase_split/${splitId}/leaderboard/`;
    for (let page = 1; url && page <= MAX_BOARD_PAGES; page++) {
      const label = `GET the leaderboard of split ${splitId}`;
      // Anonymous (AnonRateThrottle): it costs the host token's budget nothing.
      const body = await this.attempts(undefined, { method: 'GET', url, label, publicFile: false, anonymous: true });
      const parsed = leaderboardPageSchema.safeParse(body);
      if (!parsed.success) {
        throw new EvalAiResponseError(`EvalAI's leaderboard page ${page} is not in the expected form`, {
          cause: parsed.error,
        });
      }
      for (const row of parsed.data.results) {
        const labels = row.leaderboard__schema.labels;
        entries.push({
          submissionPk: row.submission__id,
          teamName: row.submission__participant_team__team_name.slice(0, MAX_TEAM_NAME),
          values: Object.fromEntries(labels.map((name, i) => [name, row.result[i] ?? '#'])),
        });
      }
      url =
        parsed.data.next && new URL(parsed.data.next).origin === new URL(this.baseUrl).origin ? parsed.data.next : null;
    }
    return entries;
  }

  async readSubmittedImage(submission: EvalAiSubmission): Promise<string> {
    const what = `the input file of submission ${submission.id}`;
    const url = submission.inputFile ? new URL(submission.inputFile) : undefined;
    // A public file: no token goes with it, and only over https, or from the EvalAI server's own origin (a
    // self-hosted EvalAI serves its media itself, over the scheme the host configured).
    if (!url || (url.protocol !== 'https:' && url.origin !== new URL(this.baseUrl).origin)) {
      throw new EvalAiResponseError(`${what} is not an https URL: ${submission.inputFile ?? '(none)'}`);
    }
    // Not EvalAI's API: no budget slot, since the throttle does not count media.
    const body = await this.attempts(undefined, {
      method: 'GET',
      url: url.href,
      label: `GET ${what}`,
      publicFile: true,
    });
    const parsed = inputFileSchema.safeParse(body);
    if (!parsed.success) {
      throw new EvalAiResponseError(`${what} names no Docker image: ${parsed.error.issues[0]?.message}`, {
        cause: parsed.error,
      });
    }
    return parsed.data.submitted_image_uri;
  }

  async patchStatus(
    challengePk: number,
    update: { submissionPk: number; status: 'queued' | 'running'; jobName?: string },
  ): Promise<void> {
    await this.request('status', 'PATCH', `/api/jobs/challenge/${challengePk}/update_submission/`, {
      submission: update.submissionPk,
      submission_status: update.status,
      ...(update.jobName ? { job_name: update.jobName } : {}),
    });
  }

  async putResult(challengePk: number, status: 'finished' | 'failed' | 'cancelled', update: EvalAiResultUpdate) {
    await this.request(
      'result',
      'PUT',
      `/api/jobs/challenge/${challengePk}/update_submission/`,
      resultBody(status, update),
    );
  }

  async putPartialResult(challengePk: number, update: EvalAiResultUpdate): Promise<boolean> {
    try {
      await this.request(
        'partial',
        'PUT',
        `/api/jobs/challenges/${challengePk}/update_partially_evaluated_submission/`,
        resultBody('partially_evaluated', update),
        { waitForBudget: false },
      );
      return true;
    } catch (error) {
      if (error instanceof EvalAiBudgetSpentError) return false; // best effort: the next observation sends them
      throw error;
    }
  }

  async resumeSubmission(submissionPk: number): Promise<void> {
    await this.request('status', 'POST', `/api/jobs/submissions/${submissionPk}/resume/`);
  }

  /**
   * The challenge's queue through EvalAI's REST proxy (for a challenge without use_host_sqs): a GET takes
   * one message (short poll), a POST with its receipt handle deletes it. Both count against the budget.
   */
  queueProxy(queueName: string): EvalAiQueueProxy {
    const path = (prefix: string) => `/api/jobs/${prefix}queues/${encodeURIComponent(queueName)}/`;
    return {
      receive: async () => {
        const answer = await this.request('read', 'GET', path('challenge/'));
        const parsed = queuedMessageSchema.safeParse(answer);
        if (!parsed.success) {
          throw new EvalAiResponseError(`EvalAI's queue ${queueName} answered something unreadable`, {
            cause: parsed.error,
          });
        }
        const { body, receipt_handle: receiptHandle } = parsed.data;
        return receiptHandle ? { body, receiptHandle } : undefined;
      },
      // EvalAI answers any error of its SQS call with its 500 page; its own workers try a delete once more at
      // most, and so does Pitwall: a message not deleted comes back, and its submission's status decides again.
      delete: async (receiptHandle) => {
        await this.request('read', 'POST', path(''), { receipt_handle: receiptHandle }, { retries: 1 });
      },
    };
  }

  private request(
    priority: RequestPriority,
    method: string,
    path: string,
    body?: unknown,
    options: { waitForBudget?: boolean; retries?: number } = {},
  ): Promise<unknown> {
    const url = `${this.baseUrl}${path}`;
    return this.attempts(priority, { method, url, label: `${method} ${path}`, body, publicFile: false }, options);
  }

  /**
   * One request, tried up to 1 + retries times. Each try to EvalAI's API takes a slot of the budget first,
   * since EvalAI counts every request it receives. A 429 with a short Retry-After is waited out exactly,
   * with no backoff on top; 5xx and network errors back off with jitter; anything else is final.
   */
  private async attempts(
    priority: RequestPriority | undefined,
    exchange: Exchange,
    { waitForBudget = true, retries: retriesHere }: { waitForBudget?: boolean; retries?: number } = {},
  ): Promise<unknown> {
    const { minRetryDelayMs = 500, maxRetryDelayMs = 8000, timeoutMs = 10_000 } = this.options;
    const retries = Math.min(retriesHere ?? Number.POSITIVE_INFINITY, this.options.retries ?? 4);
    const maxWaitMs = (this.options.maxRetryAfterSeconds ?? 10) * 1000;
    const budgetWaitMs = waitForBudget ? (this.options.maxBudgetWaitSeconds ?? 0) * 1000 : 0;
    for (let attempt = 0; ; attempt++) {
      const lease = priority ? await this.slot(priority, timeoutMs, budgetWaitMs) : undefined;
      let outcome: { value: unknown } | { error: unknown };
      const heard = { answer: false };
      try {
        outcome = { value: await this.once(exchange, heard) };
      } catch (error) {
        outcome = { error };
      } finally {
        await lease?.release(heard.answer ? 'answered' : 'unanswered');
      }
      if ('value' in outcome) return outcome.value;
      const { error } = outcome;
      if (attempt >= retries) throw error;
      if (error instanceof EvalAiRateLimitedError && error.retryAfterSeconds !== undefined) {
        if (error.retryAfterSeconds * 1000 > maxWaitMs) throw error;
        await this.sleep(error.retryAfterSeconds * 1000);
      } else if (error instanceof EvalAiUnavailableError) {
        const backoff = Math.min(maxRetryDelayMs, minRetryDelayMs * 2 ** attempt);
        await this.sleep(backoff * (0.5 + Math.random() / 2));
      } else {
        throw error;
      }
    }
  }

  /** A budget slot, waiting for one when the wait is at most `maxWaitMs`. */
  private async slot(priority: RequestPriority, maxRequestMs: number, maxWaitMs: number) {
    for (let waited = 0; ; ) {
      const grant = await this.budget.take(priority, maxRequestMs);
      if (grant.granted) return grant.lease;
      if (waited + grant.retryAfterMs > maxWaitMs) {
        throw new EvalAiBudgetSpentError(
          `Pitwall's EvalAI request budget is spent for the last 60 s (${priority} request); a slot frees up in ${Math.ceil(grant.retryAfterMs / 1000)} s`,
          Math.ceil(grant.retryAfterMs / 1000),
        );
      }
      waited += grant.retryAfterMs;
      await this.sleep(grant.retryAfterMs);
    }
  }

  /**
   * One HTTP exchange with EvalAI's API, or a read of a public file (no token, at most MAX_INPUT_FILE_BYTES).
   * EvalAI's errors become Pitwall's named errors, each saying what the host must do. `heard` is set once
   * the request is settled: EvalAI answered, or it was never sent (a request sent and not answered may still
   * reach EvalAI later).
   */
  private async once(request: Exchange, heard: { answer: boolean }): Promise<unknown> {
    const { method, url, label, body, publicFile, anonymous = publicFile } = request;
    const { timeoutMs = 10_000 } = this.options;
    let response: Response;
    try {
      response = await this.fetch(url, {
        method,
        headers: {
          ...(anonymous ? {} : { Authorization: `Bearer ${this.options.token}` }),
          Accept: 'application/json',
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      // A connection never made cannot reach EvalAI later: only a request sent and not answered can.
      if (NEVER_SENT.has(String((error as { cause?: { code?: unknown } }).cause?.code))) heard.answer = true;
      throw new EvalAiUnavailableError(`EvalAI did not answer ${label}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    heard.answer = true;
    if (!publicFile) this.options.onAnswer?.(response.status);
    const text = await readText(response, label, publicFile ? MAX_INPUT_FILE_BYTES : undefined);
    if (response.ok) return parseJson(text, label);
    throw this.failure(response, text, label, url);
  }

  private failure(response: Response, text: string, label: string, url: string): Error {
    const detail = text.slice(0, 500);
    const status = response.status;
    const said = errorBodySchema.safeParse(safeJson(text)).data ?? {};
    const words = `${said.error ?? ''} ${said.detail ?? ''}`;
    const challenge = /\/challenges?\/(\d+)\//.exec(new URL(url).pathname)?.[1] ?? this.options.challengePk;
    if (status >= 500) return new EvalAiUnavailableError(`EvalAI answered ${status} to ${label}: ${detail}`);
    if (status === 429) {
      const retryAfter = Number(response.headers.get('retry-after') ?? '');
      const seconds = Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : undefined;
      return new EvalAiRateLimitedError(`EvalAI throttled ${label} (429, Retry-After ${seconds ?? '?'} s)`, seconds);
    }
    if ([400, 401, 403].includes(status) && /not authorized|only challenge hosts/i.test(said.error ?? '')) {
      return new EvalAiNotHostError(
        `EvalAI refused ${label} (${status}: ${detail}): the EvalAI user of this token is not a host of challenge ${challenge ?? '(unknown)'}. Use the auth token of a member of the challenge's host team.`,
      );
    }
    if (status === 403 && /verify your email/i.test(words)) {
      return new EvalAiUnverifiedEmailError(
        `EvalAI refused ${label} (403: ${detail}): the EvalAI user of this token has not verified its e-mail address. Verify it on EvalAI (profile → e-mail), then retry.`,
      );
    }
    if (status === 401 && said.code !== 'token_not_valid' && /credentials were not provided/i.test(words)) {
      return new EvalAiAuthError(
        `EvalAI saw no credentials on ${label} (401: ${detail}). The Authorization header did not reach EvalAI: check any proxy between Pitwall and ${new URL(url).origin}.`,
      );
    }
    if (status === 401) {
      return new EvalAiAuthError(
        `EvalAI refused the host token for ${label} (401: ${detail}). Rotate the token: copy a new auth token from your EvalAI profile into Pitwall's EvalAI secret.`,
      );
    }
    if (status === 404) return new NotFoundError(`EvalAI has no ${label} (404)`);
    return new EvalAiRejectedError(`EvalAI refused ${label} (${status}): ${detail}`, status);
  }
}

interface Exchange {
  readonly method: string;
  readonly url: string;
  readonly label: string;
  readonly body?: unknown;
  /** A public file, not EvalAI's API: no token, a size limit. */
  readonly publicFile: boolean;
  /** Sent without the token (public files and EvalAI's public endpoints). */
  readonly anonymous?: boolean;
}

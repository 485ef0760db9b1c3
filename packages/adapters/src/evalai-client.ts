import {
  EVALAI_STATUSES,
  EvalAiAuthError,
  type EvalAiHost,
  EvalAiRateLimitedError,
  EvalAiRejectedError,
  EvalAiResponseError,
  type EvalAiResultUpdate,
  type EvalAiSubmission,
  EvalAiUnavailableError,
  NotFoundError,
} from '@pitwall/domain';
import pRetry, { AbortError } from 'p-retry';
import { z } from 'zod';
import { type RequestBudget, type RequestPriority, unlimitedBudget } from './request-budget.js';

export interface EvalAiClientOptions {
  /** e.g. https://eval.ai */
  readonly baseUrl: string;
  readonly token: string;
  readonly timeoutMs?: number;
  /** Retries after the first try, for 5xx, network errors, timeouts and short 429s. */
  readonly retries?: number;
  readonly minRetryDelayMs?: number;
  readonly maxRetryDelayMs?: number;
  /** A 429 asking to wait longer than this is handed to the caller (the state machine retries later). */
  readonly maxRetryAfterSeconds?: number;
  readonly budget?: RequestBudget;
  readonly fetch?: typeof fetch;
}

const submissionSchema = z.looseObject({
  id: z.number().int().positive(),
  status: z
    .string()
    .transform((s) => s.toLowerCase())
    .pipe(z.enum(EVALAI_STATUSES)),
  participant_team: z.union([z.number().int().positive(), z.looseObject({ id: z.number().int().positive() })]),
  participant_team_name: z.string().nullish(),
  challenge_phase: z.union([z.number().int().positive(), z.looseObject({ id: z.number().int().positive() })]),
});

const MAX_TEAM_NAME = 200;

/** EvalAI's host REST API (reference: evalai-host-api.md §2): Bearer auth, JSON bodies, results as JSON strings. */
export class EvalAiClient implements EvalAiHost {
  private readonly baseUrl: string;
  private readonly budget: RequestBudget;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: EvalAiClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.budget = options.budget ?? unlimitedBudget;
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  async getSubmission(submissionPk: number): Promise<EvalAiSubmission> {
    const body = await this.request('read', 'GET', `/api/jobs/submission/${submissionPk}`);
    const parsed = submissionSchema.safeParse(body);
    if (!parsed.success) {
      throw new EvalAiResponseError(
        `EvalAI's submission ${submissionPk} is not in the expected form: ${parsed.error.issues[0]?.message}`,
        {
          cause: parsed.error,
        },
      );
    }
    const s = parsed.data;
    const teamPk = typeof s.participant_team === 'number' ? s.participant_team : s.participant_team.id;
    return {
      id: s.id,
      status: s.status,
      participantTeamPk: teamPk,
      participantTeamName: (s.participant_team_name ?? '').slice(0, MAX_TEAM_NAME) || `team-${teamPk}`,
      challengePhasePk: typeof s.challenge_phase === 'number' ? s.challenge_phase : s.challenge_phase.id,
    };
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
    if (!(await this.budget.take('partial'))) return false;
    await this.send(
      'PUT',
      `/api/jobs/challenges/${challengePk}/update_partially_evaluated_submission/`,
      resultBody('partially_evaluated', update),
    );
    return true;
  }

  private async request(priority: RequestPriority, method: string, path: string, body?: unknown): Promise<unknown> {
    if (!(await this.budget.take(priority))) {
      throw new EvalAiRateLimitedError(
        `Pitwall's EvalAI request budget for this minute is spent (${priority} request)`,
      );
    }
    return this.send(method, path, body);
  }

  private async send(method: string, path: string, body?: unknown): Promise<unknown> {
    const { retries = 4, minRetryDelayMs = 500, maxRetryDelayMs = 8000 } = this.options;
    try {
      return await pRetry(() => this.once(method, path, body), {
        retries,
        minTimeout: minRetryDelayMs,
        maxTimeout: maxRetryDelayMs,
        randomize: true,
      });
    } catch (error) {
      if (error instanceof AbortError) throw error.originalError;
      throw error;
    }
  }

  /** One HTTP exchange. Errors worth retrying are thrown as they are; the rest wrapped in AbortError. */
  private async once(method: string, path: string, body?: unknown): Promise<unknown> {
    const { timeoutMs = 10_000, maxRetryAfterSeconds = 10 } = this.options;
    let response: Response;
    try {
      response = await this.fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          Authorization: `Bearer ${this.options.token}`,
          Accept: 'application/json',
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new EvalAiUnavailableError(`EvalAI did not answer ${method} ${path}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const text = await response.text();
    if (response.ok) return parseJson(text, method, path);
    const detail = text.slice(0, 500);
    if (response.status >= 500)
      throw new EvalAiUnavailableError(`EvalAI answered ${response.status} to ${method} ${path}: ${detail}`);
    if (response.status === 429) {
      const retryAfter = Number(response.headers.get('retry-after') ?? '');
      const seconds = Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : undefined;
      const error = new EvalAiRateLimitedError(
        `EvalAI throttled ${method} ${path} (429, Retry-After ${seconds ?? '?'} s)`,
        seconds,
      );
      if (seconds === undefined || seconds > maxRetryAfterSeconds) throw new AbortError(error);
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
      throw error;
    }
    if (response.status === 401) {
      throw new AbortError(
        new EvalAiAuthError(
          `EvalAI refused the host token for ${method} ${path} (401: ${detail}). Rotate the token: copy a new auth token from your EvalAI profile into Pitwall's EvalAI secret.`,
        ),
      );
    }
    if (response.status === 404) throw new AbortError(new NotFoundError(`EvalAI has no ${path} (404)`));
    throw new AbortError(
      new EvalAiRejectedError(`EvalAI refused ${method} ${path} (${response.status}): ${detail}`, response.status),
    );
  }
}

function resultBody(status: string, update: EvalAiResultUpdate) {
  return {
    challenge_phase: update.phasePk,
    submission: update.submissionPk,
    submission_status: status,
    result: update.result,
    stdout: update.stdout,
    stderr: update.stderr,
    environment_log: '',
    metadata: update.metadata,
  };
}

function parseJson(text: string, method: string, path: string): unknown {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new AbortError(new EvalAiResponseError(`EvalAI's answer to ${method} ${path} is not JSON`, { cause: error }));
  }
}

import {
  EVALAI_STATUSES,
  EvalAiAuthError,
  type EvalAiHost,
  EvalAiRateLimitedError,
  EvalAiRejectedError,
  EvalAiResponseError,
  type EvalAiResultUpdate,
  type EvalAiStatus,
  type EvalAiSubmission,
  EvalAiUnavailableError,
  MAX_IMAGE_URI_LENGTH,
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
  submitted_at: z.iso.datetime({ offset: true }).nullish().catch(undefined),
  rerun_resumed_at: z.iso.datetime({ offset: true }).nullish().catch(undefined),
  input_file: z.url().max(2048).nullish().catch(undefined),
});

/** What `evalai push` uploads as the input file of a Docker submission; the participant controls it. */
const inputFileSchema = z.looseObject({
  submitted_image_uri: z.string().trim().min(1).max(MAX_IMAGE_URI_LENGTH),
});
/** The file is a few dozen bytes; a larger one is not what `evalai push` uploaded. */
const MAX_INPUT_FILE_BYTES = 16 * 1024;

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
    return toSubmission(await this.request('read', 'GET', `/api/jobs/submission/${submissionPk}`), `${submissionPk}`);
  }

  async listSubmissions(challengePk: number, status: EvalAiStatus): Promise<EvalAiSubmission[]> {
    const path = `/api/jobs/challenge/${challengePk}/submission/?status=${encodeURIComponent(status)}`;
    const body = await this.request('read', 'GET', path);
    // Some EvalAI versions wrap lists in DRF's page object.
    const items = Array.isArray(body) ? body : (body as { results?: unknown })?.results;
    if (!Array.isArray(items)) throw new EvalAiResponseError(`EvalAI's answer to GET ${path} is not a list`);
    return items.map((item, i) => toSubmission(item, `#${i} of the ${status} list`));
  }

  async readSubmittedImage(submission: EvalAiSubmission): Promise<string> {
    const what = `the input file of submission ${submission.id}`;
    const url = submission.inputFile ? new URL(submission.inputFile) : undefined;
    // A public file: no token goes with it, and only to https (or to the EvalAI server itself, for local runs).
    if (!url || (url.protocol !== 'https:' && url.origin !== new URL(this.baseUrl).origin)) {
      throw new EvalAiResponseError(`${what} is not an https URL: ${submission.inputFile ?? '(none)'}`);
    }
    const body = await this.retrying(() =>
      this.once({ method: 'GET', url: url.href, label: `GET ${what}`, publicFile: true }),
    );
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

  private send(method: string, path: string, body?: unknown): Promise<unknown> {
    return this.retrying(() => this.once({ method, url: `${this.baseUrl}${path}`, label: `${method} ${path}`, body }));
  }

  private async retrying(exchange: () => Promise<unknown>): Promise<unknown> {
    const { retries = 4, minRetryDelayMs = 500, maxRetryDelayMs = 8000 } = this.options;
    try {
      return await pRetry(exchange, {
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

  /**
   * One HTTP exchange with EvalAI's API, or a read of a public file (no token, at most MAX_INPUT_FILE_BYTES).
   * Errors worth retrying are thrown as they are; the rest wrapped in AbortError.
   */
  private async once(request: {
    method: string;
    url: string;
    label: string;
    body?: unknown;
    publicFile?: boolean;
  }): Promise<unknown> {
    const { method, url, label, body, publicFile = false } = request;
    const { timeoutMs = 10_000, maxRetryAfterSeconds = 10 } = this.options;
    let response: Response;
    try {
      response = await this.fetch(url, {
        method,
        headers: {
          ...(publicFile ? {} : { Authorization: `Bearer ${this.options.token}` }),
          Accept: 'application/json',
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new EvalAiUnavailableError(`EvalAI did not answer ${label}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const text = await readText(response, label, publicFile ? MAX_INPUT_FILE_BYTES : undefined);
    if (response.ok) return parseJson(text, label);
    const detail = text.slice(0, 500);
    if (response.status >= 500)
      throw new EvalAiUnavailableError(`EvalAI answered ${response.status} to ${label}: ${detail}`);
    if (response.status === 429) {
      const retryAfter = Number(response.headers.get('retry-after') ?? '');
      const seconds = Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : undefined;
      const error = new EvalAiRateLimitedError(
        `EvalAI throttled ${label} (429, Retry-After ${seconds ?? '?'} s)`,
        seconds,
      );
      if (seconds === undefined || seconds > maxRetryAfterSeconds) throw new AbortError(error);
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
      throw error;
    }
    if (response.status === 401) {
      throw new AbortError(
        new EvalAiAuthError(
          `EvalAI refused the host token for ${label} (401: ${detail}). Rotate the token: copy a new auth token from your EvalAI profile into Pitwall's EvalAI secret.`,
        ),
      );
    }
    if (response.status === 404) throw new AbortError(new NotFoundError(`EvalAI has no ${label} (404)`));
    throw new AbortError(
      new EvalAiRejectedError(`EvalAI refused ${label} (${response.status}): ${detail}`, response.status),
    );
  }
}

/** EvalAI's submission serializer, validated: only what Pitwall uses, bounded. */
function toSubmission(body: unknown, which: string): EvalAiSubmission {
  const parsed = submissionSchema.safeParse(body);
  if (!parsed.success) {
    throw new EvalAiResponseError(
      `EvalAI's submission ${which} is not in the expected form: ${parsed.error.issues[0]?.message}`,
      { cause: parsed.error },
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
    ...(s.submitted_at ? { submittedAt: s.submitted_at } : {}),
    ...(s.rerun_resumed_at ? { resumedAt: s.rerun_resumed_at } : {}),
    ...(s.input_file ? { inputFile: s.input_file } : {}),
  };
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

/** The body as text; with a limit, reading stops (and fails) as soon as it is passed. */
async function readText(response: Response, label: string, maxBytes: number | undefined): Promise<string> {
  if (maxBytes === undefined || !response.body) return response.text();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += chunk.byteLength;
    if (size > maxBytes) {
      await response.body.cancel().catch(() => undefined);
      throw new AbortError(new EvalAiResponseError(`the answer to ${label} is larger than ${maxBytes} bytes`));
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string, label: string): unknown {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new AbortError(new EvalAiResponseError(`EvalAI's answer to ${label} is not JSON`, { cause: error }));
  }
}

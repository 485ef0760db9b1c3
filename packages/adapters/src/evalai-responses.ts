import {
  EVALAI_STATUSES,
  EvalAiResponseError,
  type EvalAiResultUpdate,
  type EvalAiSubmission,
  MAX_IMAGE_URI_LENGTH,
} from '@pitwall/domain';
import { z } from 'zod';

// EvalAI's answers as Pitwall reads them: each validated and bounded, since they cross a trust boundary.

export const submissionSchema = z.looseObject({
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

/** The fields of a phase Pitwall reads; a limit EvalAI does not give (or gives malformed) is left out. */
export const phaseSchema = z.looseObject({
  id: z.number().int().positive(),
  max_concurrent_submissions_allowed: z.number().int().positive().nullish().catch(undefined),
});

/** What EvalAI's queue proxy answers: the message parsed as JSON (or null), and its receipt handle. */
export const queuedMessageSchema = z.object({ body: z.unknown(), receipt_handle: z.string().min(1).nullable() });

/** What `evalai push` uploads as the input file of a Docker submission; the participant controls it. */
export const inputFileSchema = z.looseObject({
  submitted_image_uri: z.string().trim().min(1).max(MAX_IMAGE_URI_LENGTH),
});
/** The file is a few dozen bytes; a larger one is not what `evalai push` uploaded. */
export const MAX_INPUT_FILE_BYTES = 16 * 1024;

/** Team names are cut to this: a bound on what EvalAI sends, above any name it lets a team take. */
export const MAX_TEAM_NAME = 200;

/** One team's best entry on the public board, values by label ('#' where EvalAI has none). */
export interface LeaderboardEntry {
  readonly submissionPk: number;
  readonly teamName: string;
  readonly values: Readonly<Record<string, number | string>>;
}

export const MAX_BOARD_PAGES = 100;

export const leaderboardPageSchema = z.looseObject({
  next: z.string().nullable(),
  results: z.array(
    z.looseObject({
      submission__id: z.number().int().positive(),
      submission__participant_team__team_name: z.string(),
      result: z.array(z.union([z.number(), z.string()])),
      leaderboard__schema: z.looseObject({ labels: z.array(z.string()) }),
    }),
  ),
});

export const errorBodySchema = z.looseObject({
  error: z.string().optional().catch(undefined),
  detail: z.string().optional().catch(undefined),
  code: z.string().optional().catch(undefined),
});

export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** EvalAI's submission serializer, validated: only what Pitwall uses, bounded. */
export function toSubmission(body: unknown, which: string): EvalAiSubmission {
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

export function resultBody(status: string, update: EvalAiResultUpdate) {
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
export async function readText(response: Response, label: string, maxBytes: number | undefined): Promise<string> {
  if (maxBytes === undefined || !response.body) return response.text();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += chunk.byteLength;
    if (size > maxBytes) {
      await response.body.cancel().catch(() => undefined);
      throw new EvalAiResponseError(`the answer to ${label} is larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function parseJson(text: string, label: string): unknown {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new EvalAiResponseError(`EvalAI's answer to ${label} is not JSON`, { cause: error });
  }
}

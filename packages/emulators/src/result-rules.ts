import type { EmulatedChallenge } from './challenge.js';
import { fields, HttpError } from './http-error.js';
import type { PhaseSplit } from './model.js';
import { parsePyJson } from './python-repr.js';

export interface ResultEntry {
  readonly split: PhaseSplit;
  readonly accuracies: Record<string, number>;
  readonly show: boolean;
  /** Python's str() of the accuracies, as EvalAI writes them into submission_result_file. */
  readonly raw: string;
}

/**
 * `result`, as EvalAI reads it: a JSON string; each split must exist for the body's challenge_phase;
 * a label the schema has may be missing, a key it lacks is refused (accepted on the partial endpoint of
 * a partial-evaluation phase); values must be numbers.
 */
export function resultEntries(
  challenge: EmulatedChallenge,
  data: Record<string, unknown>,
  partialEndpoint: boolean,
): ResultEntry[] {
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
    const phaseSplit = challenge.splits.find((s) => s.phase.pk === phasePk && s.codename === split);
    if (!phaseSplit) {
      throw new HttpError(400, {
        error: `Challenge Phase Split does not exist with phase_id: ${data.challenge_phase} andsplit codename: ${String(split)}`,
      });
    }
    return {
      split: phaseSplit,
      accuracies: checkedAccuracies(challenge, accuracies, partialEndpoint && phaseSplit.phase.partialEvaluation),
      show: show_to_participant === true,
      raw: asPython[index]?.fields?.get('accuracies')?.repr ?? '{}',
    };
  });
}

function checkedAccuracies(
  challenge: EmulatedChallenge,
  accuracies: unknown,
  extraKeysAllowed: boolean | undefined,
): Record<string, number> {
  if (accuracies === null || typeof accuracies !== 'object' || Array.isArray(accuracies)) {
    throw new HttpError(500, { error: "'NoneType' object has no attribute 'items'" });
  }
  const unknown = Object.keys(accuracies).filter((key) => !challenge.options.labels.includes(key));
  if (unknown.length > 0 && !extraKeysAllowed) {
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
  return accuracies as Record<string, number>;
}

import { createHash } from 'node:crypto';

/**
 * The longest name a worker's Job may have: the JobRunner port's contract, a DNS-1123 label (whose grammar,
 * with the label values', is packages/kube's names.ts).
 */
export const MAX_JOB_NAME = 63;

export interface WorkerJobNameInput {
  readonly team: string;
  readonly track: string;
  readonly submissionId: string | number;
  readonly worker: number;
  /** Attempts after the first get their own names, so a resumed run never collides with leftovers. */
  readonly attempt?: number;
  /** The worker's Job moved to on-demand capacity (after lost spot nodes): a name beside its first one. */
  readonly onDemand?: boolean;
}

/** The length of `shortHash`'s names: 50 bits of base32. */
export const HASH_LENGTH = 10;

/**
 * A readable, deterministic name for one worker's Job (a DNS-1123 label), valid for any input.
 * The submission id and worker are kept whole; team and track are shortened to fit; a hash of
 * all inputs keeps names of different inputs apart even when their readable parts coincide.
 */
export function workerJobName(input: WorkerJobNameInput): string {
  if (!Number.isSafeInteger(input.worker) || input.worker < 0) {
    throw new RangeError(`worker must be a non-negative integer, got ${input.worker}`);
  }
  const attempt = input.attempt ?? 1;
  if (!Number.isSafeInteger(attempt) || attempt < 1) {
    throw new RangeError(`attempt must be a positive integer, got ${input.attempt}`);
  }
  const hash = shortHash([
    input.team,
    input.track,
    String(input.submissionId),
    String(input.worker),
    String(attempt),
    ...(input.onDemand ? ['on-demand'] : []),
  ]);
  const fixed = [
    slug(String(input.submissionId)) || 'sub',
    `w${input.worker}`,
    ...(attempt > 1 ? [`a${attempt}`] : []),
    ...(input.onDemand ? ['od'] : []),
    hash,
  ];
  const fixedPart = fixed.join('-');
  // Names too long to keep readable at all fall back to the hash alone with a fixed prefix.
  if (fixedPart.length > MAX_JOB_NAME - 4) return `job-${hash}`;
  const room = MAX_JOB_NAME - fixedPart.length - 1;
  const readable = fitReadable(slug(input.team) || 'team', slug(input.track) || 'track', room);
  return readable ? `${readable}-${fixedPart}` : fixedPart;
}

/** Lower-case ASCII letters, digits and single dashes; accents are folded, everything else is a dash. */
export function slug(raw: string): string {
  return raw
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

function fitReadable(team: string, track: string, room: number): string {
  const full = `${team}-${track}`;
  if (full.length <= room) return full;
  if (room < 3) return trim(team, room);
  // Team first, it is what a host looks for in `kubectl get jobs`; the track keeps at least a third.
  const teamLength = Math.min(team.length, room - 1 - Math.min(track.length, Math.floor(room / 3)));
  return [trim(team, teamLength), trim(track, room - teamLength - 1)].filter(Boolean).join('-');
}

function trim(value: string, length: number): string {
  return length <= 0 ? '' : value.slice(0, length).replace(/^-+|-+$/g, '');
}

/** A short, deterministic hash of `parts`, in lower-case base32: valid in any Kubernetes name. */
export function shortHash(parts: readonly string[]): string {
  const digest = createHash('sha256').update(JSON.stringify(parts)).digest();
  // RFC 4648 base32 alphabet, lower-cased: valid in DNS labels.
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < HASH_LENGTH) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length === HASH_LENGTH) break;
  }
  return out;
}

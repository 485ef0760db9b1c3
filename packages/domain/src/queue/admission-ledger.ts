import { addUsage, type RunningSubmission, type TeamUsage } from './fair-queue.js';

/** What one admitted attempt holds: its workers' GPUs on its track, and one of its team's places on its phase. */
export interface AdmissionClaim extends RunningSubmission {
  readonly attempt: number;
}

export interface AdmissionLimits {
  /** Workers the track may run at once (its GPU budget). */
  readonly trackWorkers: number;
  /** Submissions of one team evaluating at once on the phase. */
  readonly teamPlaces: number;
}

export interface AdmissionHolding extends AdmissionClaim {
  readonly takenAt: string;
}

export interface AdmissionLedgerState {
  readonly holdings: readonly AdmissionHolding[];
  readonly usage: ReadonlyMap<number, TeamUsage>;
}

/**
 * The slots of Pitwall's queue, written only with conditional writes: two schedulers running at once never
 * give out more than a track's workers or a team's places, and a release is counted once.
 */
export interface AdmissionLedger {
  /**
   * Takes the claim's slots, all or none; false when the track or the team is full, or another attempt of the
   * submission holds them. True, taking nothing more, when this attempt holds them already: a take whose
   * answer was lost, tried again, is the admission it was.
   */
  take(claim: AdmissionClaim, limits: AdmissionLimits, at: string): Promise<boolean>;
  /**
   * Gives back what the attempt holds, once, adding the GPU-seconds it held them (workers × time) to its
   * team's use, decayed with the half-life; false when it held nothing (a late cleanup of an earlier attempt
   * leaves the next one's slots alone).
   */
  release(submissionPk: number, attempt: number, at: string, halfLifeSeconds: number): Promise<boolean>;
  read(): Promise<AdmissionLedgerState>;
}

/** The GPU-seconds a holding used until `at`. */
export function gpuSecondsOf(holding: AdmissionHolding, at: string): number {
  return (holding.workers * Math.max(0, Date.parse(at) - Date.parse(holding.takenAt))) / 1000;
}

/** A team's use once a holding of it is released at `at`. */
export function usageAfterRelease(
  usage: TeamUsage | undefined,
  holding: AdmissionHolding,
  at: string,
  halfLifeSeconds: number,
): TeamUsage {
  return addUsage(usage, gpuSecondsOf(holding, at), Date.parse(at), halfLifeSeconds);
}

/**
 * Each team's use as the queue orders by it now: what its ended runs used, decayed, and what its running
 * ones have used so far, so that a team holding GPUs stands behind one that holds none.
 */
export function usageNow(
  state: AdmissionLedgerState,
  now: number,
  halfLifeSeconds: number,
): ReadonlyMap<number, TeamUsage> {
  const usage = new Map(state.usage);
  const at = new Date(now).toISOString();
  for (const holding of state.holdings) {
    usage.set(holding.teamPk, addUsage(usage.get(holding.teamPk), gpuSecondsOf(holding, at), now, halfLifeSeconds));
  }
  return usage;
}

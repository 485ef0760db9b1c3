import {
  type AdmissionClaim,
  type AdmissionHolding,
  type AdmissionLedger,
  type AdmissionLedgerState,
  type AdmissionLimits,
  usageAfterRelease,
} from '../queue/admission-ledger.js';
import type { TeamUsage } from '../queue/fair-queue.js';

/** The admission ledger in memory, with the DynamoDB ledger's rules (the contract suite runs both). */
export class MemoryAdmissionLedger implements AdmissionLedger {
  private readonly holdings = new Map<number, AdmissionHolding>();
  private readonly usage = new Map<number, TeamUsage>();

  async take(claim: AdmissionClaim, limits: AdmissionLimits, at: string): Promise<boolean> {
    const holding = this.holdings.get(claim.submissionPk);
    if (holding) return holding.attempt === claim.attempt;
    const held = [...this.holdings.values()];
    const trackUsed = held.filter((h) => h.track === claim.track).reduce((n, h) => n + h.workers, 0);
    const teamUsed = held.filter((h) => h.phasePk === claim.phasePk && h.teamPk === claim.teamPk).length;
    if (trackUsed + claim.workers > limits.trackWorkers || teamUsed + 1 > limits.teamPlaces) return false;
    this.holdings.set(claim.submissionPk, { ...claim, takenAt: at });
    return true;
  }

  async release(submissionPk: number, attempt: number, at: string, halfLifeSeconds: number): Promise<boolean> {
    const holding = this.holdings.get(submissionPk);
    if (!holding || holding.attempt !== attempt) return false;
    this.holdings.delete(submissionPk);
    this.usage.set(holding.teamPk, usageAfterRelease(this.usage.get(holding.teamPk), holding, at, halfLifeSeconds));
    return true;
  }

  async read(): Promise<AdmissionLedgerState> {
    return { holdings: [...this.holdings.values()], usage: new Map(this.usage) };
  }
}

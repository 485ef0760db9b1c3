import { isTerminal } from '../lifecycle.js';
import type { ChallengeConfig } from './config.js';
import { submissionCost } from './cost.js';
import { FAILURE_CLASSES } from './failure-class.js';
import { failureClassOf, type SubmissionRecord } from './records.js';
import { kilometresLeft, kilometresPerGpuHour } from './throughput.js';

type Budget = NonNullable<ChallengeConfig['budget']>;

/** What the budget reads of a submission: its team, its track, and its plan and progress once it has them. */
export type BudgetedSubmission = Pick<
  SubmissionRecord,
  'submissionPk' | 'teamPk' | 'phasePk' | 'track' | 'registeredAt' | 'plan' | 'progress'
>;

/**
 * The GPU-hours a team's submissions registered in the last `periodDays` used, every attempt of each (a
 * resumed submission's earlier attempts too); a failure that was the platform's fault is not charged.
 */
export function teamGpuHours(records: readonly SubmissionRecord[], teamPk: number, now: Date, periodDays: number) {
  const since = now.getTime() - periodDays * 24 * 3600 * 1000;
  return records
    .filter((r) => r.teamPk === teamPk && Date.parse(r.registeredAt) >= since)
    .filter((r) => {
      const failureClass = failureClassOf(r);
      return !(failureClass && FAILURE_CLASSES[failureClass].fault === 'platform');
    })
    .reduce((sum, r) => sum + submissionCost(r, {}, now).gpuHours, 0);
}

/** A track's kilometres per GPU-hour for an estimate, and how it was had, in words for the participant. */
interface Rate {
  readonly perGpuHour: number;
  readonly how: string;
}

/**
 * Each track's rate, measured over its recent runs or the stage's assumption before any: read once per track
 * for one check (a measurement sorts every record).
 */
function trackRates(records: readonly SubmissionRecord[], budget: Budget): (track: string) => Rate {
  const known = new Map<string, Rate>();
  return (track) => {
    let rate = known.get(track);
    if (!rate) {
      const measured = kilometresPerGpuHour(records, track);
      rate =
        measured === undefined
          ? {
              perGpuHour: budget.assumedKmPerGpuHour,
              how: `its routes' kilometres at an assumed ${budget.assumedKmPerGpuHour} km per GPU-hour, before any run on its track has ended`,
            }
          : { perGpuHour: measured, how: "its routes' kilometres at the rate recent runs drove" };
      known.set(track, rate);
    }
    return rate;
  };
}

/** Whether `other` arrived before `submission`: each check counts only those ahead of it, so two never refuse each other. */
function arrivedBefore(other: BudgetedSubmission, submission: BudgetedSubmission): boolean {
  const [a, b] = [Date.parse(other.registeredAt), Date.parse(submission.registeredAt)];
  return a < b || (a === b && other.submissionPk < submission.submissionPk);
}

/**
 * The runs a team has under way that the budget holds for, ahead of `submission`: planned, not ended, and
 * not waiting in Pitwall's queue (admitted there, or launched on a stage without one).
 */
function reservedFor(records: readonly SubmissionRecord[], submission: BudgetedSubmission): SubmissionRecord[] {
  return records.filter(
    (r) =>
      r.teamPk === submission.teamPk &&
      r.submissionPk !== submission.submissionPk &&
      r.plan !== undefined &&
      !isTerminal(r.status) &&
      !(r.admission && !r.admission.admittedAt) &&
      arrivedBefore(r, submission),
  );
}

const WHAT_TO_DO =
  'so this submission was not evaluated. Submit again once earlier evaluations are older than that, or ask the challenge hosts.';

/**
 * Why the team's budget refuses a submission at Register, if it does: the team has used it, or this
 * evaluation, estimated from its phase's latest plan, would take the team past it. Before any plan of the
 * phase there is nothing to estimate from: admission checks again with the submission's own plan.
 */
export function budgetRefusalAtRegister(
  records: readonly SubmissionRecord[],
  submission: Pick<BudgetedSubmission, 'submissionPk' | 'teamPk' | 'phasePk' | 'track'>,
  budget: Budget,
  now: Date,
): string | undefined {
  const used = teamGpuHours(records, submission.teamPk, now, budget.periodDays);
  const planned = records
    .filter((r) => r.phasePk === submission.phasePk && r.plan?.metres)
    .sort((a, b) => Date.parse(b.registeredAt) - Date.parse(a.registeredAt))[0];
  const rate = trackRates(records, budget)(submission.track);
  const estimate = planned ? (planned.plan?.metres ?? 0) / 1000 / rate.perGpuHour : 0;
  if (used < budget.gpuHoursPerTeam && used + estimate <= budget.gpuHoursPerTeam) return undefined;
  const usedText = `Your team has used ${used.toFixed(1)} of its ${budget.gpuHoursPerTeam} GPU-hours for the last ${budget.periodDays} days`;
  if (used >= budget.gpuHoursPerTeam) return `${usedText}, ${WHAT_TO_DO}`;
  return `${usedText}, and this evaluation is estimated to take ${estimate.toFixed(1)} more (${rate.how}), ${WHAT_TO_DO}`;
}

/**
 * Why the team's budget refuses a planned submission at admission, if it does: what the team used, what its
 * runs under way ahead of this one are estimated to take still (reserved), and this one's estimate (its
 * kilometres left) together pass it.
 */
export function budgetRefusalAtAdmission(
  records: readonly SubmissionRecord[],
  submission: BudgetedSubmission,
  budget: Budget,
  now: Date,
): string | undefined {
  const used = teamGpuHours(records, submission.teamPk, now, budget.periodDays);
  const rateOf = trackRates(records, budget);
  // GPU-hours a planned submission still needs: the kilometres its attempt has left at its track's rate.
  const hoursLeft = (r: BudgetedSubmission) => kilometresLeft(r) / rateOf(r.track).perGpuHour;
  const reserved = reservedFor(records, submission).reduce((sum, r) => sum + hoursLeft(r), 0);
  const estimate = hoursLeft(submission);
  if (used + reserved + estimate <= budget.gpuHoursPerTeam) return undefined;
  return `Your team has used ${used.toFixed(1)} of its ${budget.gpuHoursPerTeam} GPU-hours for the last ${budget.periodDays} days, its evaluations under way are estimated to take ${reserved.toFixed(1)} more, and this one ${estimate.toFixed(1)} (${rateOf(submission.track).how}), ${WHAT_TO_DO}`;
}

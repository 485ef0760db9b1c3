import { pollWaitSeconds } from './config.js';
import type { HandOverInput, PollState, SubmissionRef } from './payloads.js';
import { type ControlPlane, currentRecord, isoNow } from './ports.js';

/**
 * HandOver: an execution's history is limited to 25,000 events, so a long run continues in a fresh
 * execution of the same state machine, which starts at the poll loop. The record follows the new execution.
 */
export async function handOver(
  deps: Pick<ControlPlane, 'config' | 'store' | 'clock' | 'starter'>,
  input: HandOverInput,
): Promise<{ executionId: string }> {
  const submission = input.registration.submission;
  await currentRecord(deps.store, submission);
  const age = (deps.clock.now().getTime() - Date.parse(submission.registeredAt)) / 1000;
  const handovers = (input.poll.handovers ?? 0) + 1;
  const poll: PollState = { phase: 'running', turn: 0, waitSeconds: pollWaitSeconds(deps.config.poll, age), handovers };
  // One name per attempt and hand-over: a retried start finds its execution instead of starting a second.
  const executionId = await deps.starter.start(
    { handover: { registration: input.registration, plan: input.plan, poll } },
    handOverName(submission, handovers),
  );
  await deps.store.patch(submission.submissionPk, submission.attempt, { executionId }, isoNow(deps.clock));
  return { executionId };
}

/** Step Functions execution names: at most 80 of [A-Za-z0-9_-], unique per state machine for 90 days. */
export function handOverName(submission: SubmissionRef, handovers: number): string {
  return `submission-${submission.submissionPk}-attempt-${submission.attempt}-handover-${handovers}`;
}

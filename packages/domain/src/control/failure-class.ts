import { z } from 'zod';

/** Whose fault a failure is: what the participant can fix, or what the hosts must. */
export type FailureFault = 'participant' | 'platform';

/**
 * The closed list of ways an evaluation ends without a result, each with whose fault it is and the words a
 * participant reads. Stored on the record, shown by `pitwall list`/`show`, the first line of the stderr
 * EvalAI gets, and a metric per class.
 */
export const FAILURE_CLASSES = {
  image_pull: { fault: 'participant', title: 'the image could not be pulled' },
  agent_setup: { fault: 'participant', title: 'the agent could not be set up' },
  invalid_sensors: { fault: 'participant', title: "the agent's sensors are invalid" },
  agent_crashed: { fault: 'participant', title: 'the agent crashed' },
  agent_idle: { fault: 'participant', title: 'the agent was idle' },
  resource_limit: { fault: 'participant', title: 'the agent went past its resource limits' },
  simulator_crashed: { fault: 'platform', title: 'the simulator crashed' },
  time_limit: { fault: 'participant', title: 'the time limit was exceeded' },
  queue_timeout: { fault: 'platform', title: 'no GPU became available in time' },
  bad_checkpoint: { fault: 'participant', title: 'the results file cannot be accepted' },
  rejected: { fault: 'participant', title: 'the submission was rejected' },
  cancelled: { fault: 'participant', title: 'the submission was cancelled' },
  platform_error: { fault: 'platform', title: 'an error in the evaluation backend' },
} as const satisfies Record<string, { fault: FailureFault; title: string }>;

export type FailureClass = keyof typeof FAILURE_CLASSES;
export const failureClassSchema = z.enum(Object.keys(FAILURE_CLASSES) as [FailureClass, ...FailureClass[]]);

/** Why an evaluation ended without a result: the words for the participant and the class. */
export interface Failure {
  readonly reason: string;
  readonly failureClass: FailureClass;
}

/** The stderr's first line: the class, in words and by name, and whose side it is on. */
export function failureClassLine(failure: FailureClass): string {
  const { fault, title } = FAILURE_CLASSES[failure];
  const side = fault === 'participant' ? 'a problem with the submission' : 'a problem of the evaluation backend';
  return `Failure: ${title} [${failure}; ${side}]`;
}

/**
 * What the evaluator's route statuses say happened (CARLA's "Failed - <reason>"), when a worker stopped
 * early: the most specific class the checkpoint names, if any.
 */
export function failureClassOfRouteStatuses(statuses: readonly string[]): FailureClass | undefined {
  const said = (words: string) => statuses.some((status) => status.includes(words));
  if (said("Agent couldn't be set up")) return 'agent_setup';
  if (said('sensors were invalid')) return 'invalid_sensors';
  if (said('Simulation crashed')) return 'simulator_crashed';
  if (said('Agent crashed')) return 'agent_crashed';
  return undefined;
}

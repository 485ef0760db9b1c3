/** The stand-in agent's behaviours, each an image tag (carla-standin.ts says what each does). */
export const STANDIN_BEHAVIOURS = [
  'good',
  'slow',
  'crash-once',
  'carla-crash-once',
  'idle',
  'hang',
  'bad-checkpoint',
  'preempt-once',
  'preempt-spot',
  'fork-bomb',
  'fill-disk',
] as const;

/** The stand-in agents' repository: `local/agent:<behaviour>`, fully qualified as `localhost/local/agent:…`. */
export const STANDIN_AGENT_REPOSITORY = /^(localhost\/)?local\/agent:/;

/** A stand-in agent image whose tag names no behaviour: a typo would otherwise drive as some other agent. */
export class UnknownStandinAgentError extends Error {
  constructor(image: string) {
    super(
      `${image}: the stand-in has no agent "${image.replace(STANDIN_AGENT_REPOSITORY, '')}"; the known ones are ${STANDIN_BEHAVIOURS.join(', ')}`,
    );
    this.name = 'UnknownStandinAgentError';
  }
}

/** Refuses a stand-in agent image with an unknown tag; any other image is not the stand-in's to judge. */
export function checkStandinAgent(image: string): void {
  if (!STANDIN_AGENT_REPOSITORY.test(image)) return;
  const tag = image.replace(STANDIN_AGENT_REPOSITORY, '');
  if (!(STANDIN_BEHAVIOURS as readonly string[]).includes(tag)) throw new UnknownStandinAgentError(image);
}

import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/** The state machine every evaluation runs, as AWS and the local engine both run it. */
export const STATE_MACHINE_FILE = new URL('../../../state-machines/evaluate-submission.asl.yaml', import.meta.url);

/** The ASL file as AWS gets it, with the `${param:…}` Lambda ARNs filled in with placeholders. */
export function loadStateMachine(): Record<string, unknown> {
  const text = readFileSync(STATE_MACHINE_FILE, 'utf8').replace(
    /\$\{param:([A-Za-z]+)\}/g,
    (_, name: string) => `arn:aws:lambda:eu-west-1:000000000000:function:pitwall-${name.replace(/FunctionArn$/, '')}`,
  );
  return parse(text) as Record<string, unknown>;
}

/** Every Task state name, including those inside Map iterations. */
export function taskStateNames(definition: Record<string, unknown>): string[] {
  const states = definition.States as Record<string, Record<string, unknown>>;
  return Object.entries(states).flatMap(([name, state]) => {
    if (state.Type === 'Task') return [name];
    const processor = (state.ItemProcessor ?? state.Iterator) as Record<string, unknown> | undefined;
    return processor ? taskStateNames(processor) : [];
  });
}

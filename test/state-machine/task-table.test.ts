import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import * as domain from '@pitwall/domain';
import { InvalidTaskInputError } from '@pitwall/lambda-kit';
import { rawHandlerOf } from '@pitwall/local';
import { functionArnParam, RETRIED_ERRORS, RETRY_POLICIES, TASKS, type TaskName } from '@pitwall/workflow';
import { STATE_MACHINE_FILE } from '@pitwall/workflow/state-machine';
import { parse } from 'yaml';

// biome-ignore lint/suspicious/noExplicitAny: the ASL is walked freely
type State = Record<string, any>;

/** Every Task state of the ASL as written (with its `${param:…}` Resources), Map iterations included. */
function taskStates(states: Record<string, State>): [string, State][] {
  return Object.entries(states).flatMap(([name, state]) => {
    if (state.Type === 'Task') return [[name, state] as [string, State]];
    const processor = state.ItemProcessor ?? state.Iterator;
    return processor ? taskStates(processor.States) : [];
  });
}

const asl = parse(readFileSync(STATE_MACHINE_FILE, 'utf8')) as State;
const tasks = taskStates(asl.States);
const names = Object.keys(TASKS) as TaskName[];

describe('the task table (packages/workflow/src/tasks.ts)', () => {
  it('names exactly the ASL’s Task states, each running the function the table says', () => {
    expect(tasks.map(([name]) => name).sort()).toEqual([...names].sort());
    for (const [name, state] of tasks) {
      expect(`${name}: ${state.Resource}`).toBe(`${name}: \${param:${functionArnParam(TASKS[name as TaskName])}}`);
    }
  });

  it('gives each Task state exactly the Retry lists of the table’s retry policy', () => {
    for (const [name, state] of tasks) {
      const lists = (state.Retry as State[]).map((retry) => retry.ErrorEquals);
      expect({ [name]: lists }).toEqual({ [name]: RETRY_POLICIES[TASKS[name as TaskName].retry] });
    }
  });

  it('retries exactly the domain errors marked transient, and no other error of the domain', () => {
    type ErrorClass = (new (...args: string[]) => domain.PitwallError) & { name: string };
    const errorClasses = (Object.values(domain) as unknown[]).filter(
      (value): value is ErrorClass => typeof value === 'function' && value.prototype instanceof domain.PitwallError,
    );
    const transient = errorClasses.filter((C) => new C('a', 'b').transient).map((C) => C.name);
    const retried = new Set<string>([...RETRIED_ERRORS.throttled, ...RETRIED_ERRORS.transient]);
    expect(transient.sort()).toEqual(
      errorClasses
        .map((C) => C.name)
        .filter((name) => retried.has(name))
        .sort(),
    );
    expect(transient.length).toBeGreaterThanOrEqual(5);
  });

  it.each(names)('has %s’s handler refuse an input its schema refuses, as an error never retried', async (name) => {
    const handler = rawHandlerOf(name)({ plane: {} as never });
    const refusal = handler({ submission: { submissionPk: 'not a number' } });
    await expect(refusal).rejects.toBeInstanceOf(InvalidTaskInputError);
    const retried = RETRY_POLICIES[TASKS[name].retry].flat() as string[];
    expect(retried).not.toContain(InvalidTaskInputError.name);
  });
});

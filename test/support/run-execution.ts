import { deleteJobs, handleFailure } from '@pitwall/service-cleanup';
import { register } from '@pitwall/service-ingest';
import { handOver, launchWorker, markQueued, observe, plan } from '@pitwall/service-launcher';
import { collect, publish } from '@pitwall/service-publisher';
import { StateMachine } from 'aws-local-stepfunctions';
import type { Stack } from './stack.js';
import { loadStateMachine, taskStateNames } from './state-machine.js';

// Node 20 lacks Promise.withResolvers, which aws-local-stepfunctions 3 (built for Node 22) uses in every Task.
const promiseWithResolvers = Promise as unknown as { withResolvers?: unknown };
promiseWithResolvers.withResolvers ??= <T>() => {
  let resolve!: (value: T) => void;
  let reject!: (reason?: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

export interface ExecutionResult {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly output?: unknown;
  readonly error?: { readonly name: string; readonly message: string };
  readonly events: readonly EventLog[];
  /** Names of the states entered, in order. */
  readonly path: readonly string[];
}

export interface RunOptions {
  readonly executionId?: string;
  /** Called before each Observe, e.g. to cancel or to move the clock. */
  readonly beforeObserve?: (turn: number) => void | Promise<void>;
}

type Handler = (input: unknown, context?: never) => Promise<unknown>;

/** What a Lambda would be given: the remaining time is the Task's TimeoutSeconds. */
const lambdaContext = {
  getRemainingTimeInMillis: () => 120_000,
  functionName: 'local',
  awsRequestId: 'local',
} as never;
/** The engine's event log entries (its EventLog type is not exported). */
export type EventLog = { type: string; state?: { name: string }; [key: string]: unknown };

/** Runs the real ASL file in aws-local-stepfunctions, each Task wired to its real handler. */
export async function runExecution(stack: Stack, input: unknown, options: RunOptions = {}): Promise<ExecutionResult> {
  const definition = loadStateMachine();
  const services = stack.services;
  let turn = 0;
  const observeHandler = observe(services);
  const wired: Record<string, Handler> = {
    Register: register(services),
    Plan: plan(services),
    LaunchWorker: launchWorker(services),
    MarkQueued: markQueued(services),
    Observe: async (event) => {
      await options.beforeObserve?.(++turn);
      return observeHandler(event);
    },
    HandOver: handOver(services),
    Collect: collect(services),
    Publish: publish(services),
    Cleanup: deleteJobs(services),
    HandleFailure: handleFailure(services),
  };
  const handlers = Object.fromEntries(
    Object.entries(wired).map(([name, handler]) => [name, (input: unknown) => handler(input, lambdaContext)]),
  );
  const executionId =
    options.executionId ??
    `arn:aws:states:eu-west-1:000000000000:execution:pitwall:${Math.random().toString(36).slice(2)}`;
  const machine = new StateMachine(definition as never, { validationOptions: { checkArn: true, checkPaths: true } });
  const execution = machine.run(input as never, {
    overrides: {
      taskResourceLocalHandlers: handlers as never,
      waitTimeOverrides: { WaitForWorkers: 5 },
      retryIntervalOverrides: Object.fromEntries(taskStateNames(definition).map((name) => [name, 5])),
    },
    context: { Execution: { Id: executionId } } as never,
  });
  const events: EventLog[] = [];
  const logged = (async () => {
    for await (const event of execution.eventLogs) events.push(event as unknown as EventLog);
  })();
  let result: ExecutionResult;
  try {
    const output = await execution.result;
    await logged;
    result = { status: 'SUCCEEDED', output, events, path: enteredStates(events) };
  } catch (error) {
    await logged.catch(() => undefined);
    // The engine wraps the Fail state's error (Error → name, Cause → message) in an ExecutionError.
    const e = ((error as Error).cause ?? error) as Error;
    result = { status: 'FAILED', error: { name: e.name, message: e.message }, events, path: enteredStates(events) };
  }
  return result;
}

function enteredStates(events: readonly EventLog[]): string[] {
  return events.filter((e) => e.type === 'StateEntered').map((e) => e.state?.name ?? '');
}

import { setMaxListeners } from 'node:events';
import type { ExecutionProbe, ExecutionStarter } from '@pitwall/domain';
import type { HandlerServices, LambdaEntryPoint, LambdaHost, RawHandler } from '@pitwall/lambda-kit';
import * as cleanup from '@pitwall/service-cleanup';
import * as ingest from '@pitwall/service-ingest';
import * as launcher from '@pitwall/service-launcher';
import * as publisher from '@pitwall/service-publisher';
import { type ServiceName, TASKS, type TaskName } from '@pitwall/workflow';
import { loadStateMachine, taskStateNames } from '@pitwall/workflow/state-machine';
import type { Context } from 'aws-lambda';
import { StateMachine } from 'aws-local-stepfunctions';

// Node 20 lacks Promise.withResolvers, which aws-local-stepfunctions 3 (built for Node 22) uses in every Task.
const promiseStatics = Promise as unknown as { withResolvers?: unknown };
promiseStatics.withResolvers ??= <T>() => {
  let resolve!: (value: T) => void;
  let reject!: (reason?: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

/** The engine's event log entries (its own type is not exported). */
export type EventLog = { type: string; state?: { name: string }; [key: string]: unknown };

export interface ExecutionResult {
  readonly status: 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  readonly output?: unknown;
  readonly error?: { readonly name: string; readonly message: string };
  readonly events: readonly EventLog[];
  /** Names of the states entered, in order. */
  readonly path: readonly string[];
}

export interface RunOptions {
  readonly executionId?: string;
  /** How long the poll loop's Wait lasts locally. */
  readonly waitMs?: number;
  /** How long a Retry waits locally. */
  readonly retryMs?: number;
  /** Called before each Observe, e.g. to cancel or to move the clock in tests. */
  readonly beforeObserve?: (turn: number) => void | Promise<void>;
  readonly signal?: AbortSignal;
}

/** How the engine runs a Task: given its input and a Lambda's context, it returns the Task's output. */
export type TaskInvoker = (event: unknown, context: Context) => Promise<unknown>;
export type TaskInvokers = Readonly<Record<TaskName, TaskInvoker>>;

/** What Lambda gives a function each invocation; the remaining time is the Task's TimeoutSeconds. */
export function lambdaContext(service: ServiceName, fn: string): Context {
  const functionName = `pitwall-${service}-local-${fn}`;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: crypto.randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 120_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

let compiled: { machine: StateMachine; tasks: string[] } | undefined;

/** The state machine, read and validated once: validating the definition on every run costs more than running it. */
function stateMachine() {
  if (!compiled) {
    const definition = loadStateMachine();
    const machine = new StateMachine(definition as never, { validationOptions: { checkArn: true, checkPaths: true } });
    compiled = { machine, tasks: taskStateNames(definition) };
  }
  return compiled;
}

/** Each service's exports: its raw handlers by function name, and their entry points as `<function>EntryPoint`. */
const SERVICES: Record<ServiceName, Readonly<Record<string, unknown>>> = { cleanup, ingest, launcher, publisher };

function exported<T>(service: ServiceName, name: string): T {
  const value = SERVICES[service][name];
  if (typeof value !== 'function') throw new Error(`services/${service} exports no ${name}`);
  return value as T;
}

const TASK_NAMES = Object.keys(TASKS) as TaskName[];

/** The raw handler the task table names for a Task. */
export function rawHandlerOf(name: TaskName): RawHandler<unknown> {
  return exported(TASKS[name].service, TASKS[name].function);
}

/** A function's Lambda entry point, as its service exports it. */
export function entryPointOf(service: ServiceName, fn: string): LambdaEntryPoint<unknown> {
  return exported(service, `${fn}EntryPoint`);
}

/** Each Task run by its raw handler over these services (the tests' doubles). */
export function rawInvokers(services: HandlerServices): TaskInvokers {
  return Object.fromEntries(TASK_NAMES.map((name) => [name, rawHandlerOf(name)(services)])) as TaskInvokers;
}

/** Each Task run as Lambda runs it: its function's middy-wrapped entry point, configured by the host. */
export function lambdaInvokers(host: LambdaHost): TaskInvokers {
  return Object.fromEntries(
    TASK_NAMES.map((name) => {
      const entryPoint = entryPointOf(TASKS[name].service, TASKS[name].function).hostedBy(host);
      return [name, (event: unknown, context: Context) => entryPoint(event, context)];
    }),
  ) as TaskInvokers;
}

/** Runs the real ASL file in aws-local-stepfunctions, each Task run by its invoker. */
export async function runStateMachine(
  invokers: TaskInvokers,
  input: unknown,
  options: RunOptions = {},
): Promise<ExecutionResult> {
  const { machine, tasks } = stateMachine();
  let turn = 0;
  const handlers = Object.fromEntries(
    TASK_NAMES.map((name) => [
      name,
      async (event: unknown) => {
        if (name === 'Observe') await options.beforeObserve?.(++turn);
        return invokers[name](event, lambdaContext(TASKS[name].service, TASKS[name].function));
      },
    ]),
  );
  const executionId = options.executionId ?? newExecutionId();
  const execution = machine.run(input as never, {
    overrides: {
      taskResourceLocalHandlers: handlers as never,
      // Both of the ASL's loops, the poll's and the queue's, wait locally this long.
      waitTimeOverrides: { WaitForWorkers: options.waitMs ?? 5, WaitForAdmission: options.waitMs ?? 5 },
      retryIntervalOverrides: Object.fromEntries(tasks.map((name) => [name, options.retryMs ?? 5])),
    },
    noThrowOnAbort: true,
    context: { Execution: { Id: executionId } } as never,
  });
  const abort = () => execution.abort();
  options.signal?.addEventListener('abort', abort, { once: true });
  const events: EventLog[] = [];
  const logged = (async () => {
    for await (const event of execution.eventLogs) events.push(event as unknown as EventLog);
  })();
  try {
    const output = await execution.result;
    await logged.catch(() => undefined);
    const status = options.signal?.aborted ? 'ABORTED' : 'SUCCEEDED';
    return { status, output, events, path: enteredStates(events) };
  } catch (error) {
    await logged.catch(() => undefined);
    // The engine wraps the Fail state's error (Error → name, Cause → message) in an ExecutionError.
    const e = ((error as Error).cause ?? error) as Error;
    return { status: 'FAILED', error: { name: e.name, message: e.message }, events, path: enteredStates(events) };
  } finally {
    // The engine's signal outlives every execution: a listener left on it would keep the execution alive.
    options.signal?.removeEventListener('abort', abort);
  }
}

function enteredStates(events: readonly EventLog[]): string[] {
  return events.filter((e) => e.type === 'StateEntered').map((e) => e.state?.name ?? '');
}

const EXECUTION_PREFIX = 'arn:aws:states:local:000000000000:execution:evaluate-submission:';

/** The name an execution was started under, from its id. */
export function executionName(executionId: string | undefined): string | undefined {
  return executionId?.startsWith(EXECUTION_PREFIX) ? executionId.slice(EXECUTION_PREFIX.length) : undefined;
}

export function newExecutionId(): string {
  return `${EXECUTION_PREFIX}${crypto.randomUUID()}`;
}

/** Executions started by the Pipe or a hand-over, tracked like Step Functions tracks them. */
export class LocalEngine implements ExecutionStarter, ExecutionProbe {
  private readonly executions = new Map<string, Promise<ExecutionResult>>();
  private readonly stop = new AbortController();
  /** Every execution id started, as Step Functions keeps execution names. */
  private readonly names = new Set<string>();
  invokers: TaskInvokers | undefined;

  constructor(private readonly options: Pick<RunOptions, 'waitMs' | 'retryMs'> = {}) {
    // Every running execution listens for the stop: thousands at a time in a burst are expected.
    setMaxListeners(0, this.stop.signal);
  }

  async start(input: unknown, name?: string): Promise<string> {
    if (!this.invokers) throw new Error('the local engine is not wired yet');
    const executionId = name ? `${EXECUTION_PREFIX}${name}` : newExecutionId();
    if (this.names.has(executionId)) return executionId; // Step Functions: a name starts one execution
    this.names.add(executionId);
    const run = runStateMachine(this.invokers, input, { ...this.options, executionId, signal: this.stop.signal });
    this.executions.set(executionId, run);
    void run.finally(() => this.executions.delete(executionId));
    return executionId;
  }

  async isRunning(executionId: string): Promise<boolean> {
    return this.executions.has(executionId);
  }

  get running(): number {
    return this.executions.size;
  }

  /** Resolves once no execution is running. */
  async idle(): Promise<void> {
    while (this.executions.size > 0) await Promise.allSettled([...this.executions.values()]);
  }

  abortAll(): void {
    this.stop.abort();
  }
}

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChallengeConfig } from '@pitwall/domain';
import {
  LOCAL_BUCKET,
  LOCAL_PARTICIPANT_TOKEN,
  LOCAL_PHASE_PK,
  LOCAL_REGION,
  LOCAL_SPLIT,
  LOCAL_TABLE,
  type LocalEndpoints,
  type LocalRuntime,
} from '@pitwall/local';
import { UsageError } from './io.js';

/** Where the local runtime keeps its state: PITWALL_STATE_DIR, or .pitwall in the current folder. */
export const stateRoot = () => process.env.PITWALL_STATE_DIR || '.pitwall';
export const endpointsFile = () => join(stateRoot(), 'endpoints.json');

/** What `local up` leaves for the other commands: where its servers are, and how to talk to them. */
export interface RunningStack extends LocalEndpoints {
  readonly participantToken: string;
  readonly region: string;
  readonly table: string;
  readonly bucket: string;
  /** The local phase's leaderboard split, as EvalAI's board route names it. */
  readonly splitId: number;
  /** The challenge the stack evaluates. */
  readonly challenge: ChallengeConfig;
}

export function recordEndpoints(runtime: LocalRuntime): void {
  mkdirSync(stateRoot(), { recursive: true });
  const stack: RunningStack = {
    ...runtime.endpoints,
    participantToken: LOCAL_PARTICIPANT_TOKEN,
    region: LOCAL_REGION,
    table: LOCAL_TABLE,
    bucket: LOCAL_BUCKET,
    splitId: runtime.evalai.splitId(LOCAL_PHASE_PK, LOCAL_SPLIT),
    challenge: runtime.challenge,
  };
  writeFileSync(endpointsFile(), JSON.stringify(stack, null, 2));
}

export function runningEndpoints(): RunningStack {
  try {
    return JSON.parse(readFileSync(endpointsFile(), 'utf8'));
  } catch {
    throw new UsageError('no local Pitwall is running here: start one with `pnpm pitwall local up`');
  }
}

/** A request to the local EvalAI; a stack that is not there any more (stopped, killed) is said in one line. */
export async function askLocalEvalAi(endpoints: { evalai: string }, url: string, init: RequestInit): Promise<Response> {
  return onLocalStack(endpoints.evalai, () => fetch(url, init));
}

/** Work against the local stack; one that is not there any more (stopped, killed) is said in one line. */
export async function onLocalStack<T>(address: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!isConnectionError(error)) throw error;
    throw new UsageError(
      `no local Pitwall answers at ${address} (it was stopped or killed): start one with \`pnpm pitwall local up\``,
      { cause: error },
    );
  }
}

function isConnectionError(error: unknown): boolean {
  // Duck-typed, and by message too: an error from another realm reaches here wrapped (the AWS SDK's wrapper).
  for (let e = error as { message?: unknown; code?: unknown; cause?: unknown } | undefined; e; ) {
    const text = `${String(e.code ?? '')} ${String(e.message ?? '')}`;
    if (e.message === 'fetch failed' || /\b(ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENOTFOUND)\b/.test(text)) {
      return true;
    }
    e = typeof e.cause === 'object' && e.cause !== null ? (e.cause as typeof e) : undefined;
  }
  return false;
}

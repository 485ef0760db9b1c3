import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { MachineStageConfig } from '@pitwall/deploy/stage-file';
import { type CliIo, UsageError } from '../io.js';
import type { EmbeddedStores } from './store-clients.js';

/** A path as a shell reads it: `~/` is the user's home folder. */
export const expandHome = (path: string) => resolve(path.startsWith('~/') ? join(homedir(), path.slice(2)) : path);

/** Where `serve --stage <stage>` keeps its state: the stage's `machine.stateDir`, or one folder per stage. */
export function serveStateDir(stageName: string, stage: MachineStageConfig): string {
  const safeName = stageName.replace(/\.ya?ml$/, '').replace(/[^A-Za-z0-9_-]+/g, '-');
  return stage.machine.stateDir
    ? expandHome(stage.machine.stateDir)
    : join(process.env.PITWALL_STATE_DIR || '.pitwall', `serve-${safeName}`);
}

/** What a running `serve` leaves in its state folder for the operator commands: where its stores are. */
export interface ServingMachine extends EmbeddedStores {
  readonly sqs: string;
  readonly queueUrl: string;
}

const servingFile = (stateDir: string) => join(stateDir, 'serving.json');

/** Written once `serve` has started; removed when it stops (a killed one leaves it, and its stores gone). */
export function recordServing(stateDir: string, machine: ServingMachine): () => void {
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(servingFile(stateDir), JSON.stringify(machine, null, 2), { mode: 0o600 });
  return () => rmSync(servingFile(stateDir), { force: true });
}

/** The running `serve`'s stores, or undefined when none has said it runs from that folder. */
export function readServing(stateDir: string): ServingMachine | undefined {
  try {
    return JSON.parse(readFileSync(servingFile(stateDir), 'utf8')) as ServingMachine;
  } catch {
    return undefined;
  }
}

/** Where the host token is read when the stage names no file. */
export const TOKEN_VARIABLE = 'PITWALL_EVALAI_TOKEN';

/** The host token: from the stage's tokenFile, or from PITWALL_EVALAI_TOKEN; never from the command line. */
export function hostToken(stage: MachineStageConfig, env: NodeJS.ProcessEnv, io: CliIo): string {
  const file = stage.evalai.tokenFile && expandHome(stage.evalai.tokenFile);
  if (!file) {
    const token = env[TOKEN_VARIABLE]?.trim();
    if (!token) {
      throw new UsageError(`no EvalAI host token: set evalai.tokenFile in the stage, or ${TOKEN_VARIABLE}`);
    }
    return token;
  }
  let token: string;
  try {
    token = readFileSync(file, 'utf8').trim();
    if (statSync(file).mode & 0o077) {
      io.err(`pitwall: warning: ${file} can be read by other users of this machine: chmod 600 ${file}`);
    }
  } catch (error) {
    throw new UsageError(`cannot read the EvalAI host token from ${file} (${(error as NodeJS.ErrnoException).code})`, {
      cause: error,
    });
  }
  if (!token) throw new UsageError(`the EvalAI host token file ${file} is empty`);
  return token;
}

import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import {
  type MachineStageConfig,
  parseMachineStage,
  parseStageConfig,
  type StageConfig,
  StageConfigError,
} from './stage-config.js';

// Apart from the packaging code: the CLI reads stages on every call and should not load osls's helpers.
const root = new URL('../../../', import.meta.url).pathname;

/** A stage's file: `stages/<stage>.yml`, or the file itself when given a path to a .yml file. */
function readStageFile(stage: string): { text: string; source: string } {
  const isPath = stage.endsWith('.yml') || stage.endsWith('.yaml');
  const source = isPath ? stage : `stages/${stage}.yml`;
  try {
    return { text: readFileSync(isPath ? resolve(stage) : join(root, source), 'utf8'), source };
  } catch (error) {
    throw new StageConfigError([
      `${source}: cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}); copy stages/${isPath ? 'workstation' : 'ci'}.yml to start one`,
    ]);
  }
}

/** stages/<stage>.yml, validated: a StageConfigError lists every problem. */
export function loadStage(stage: string): StageConfig {
  const { text, source } = readStageFile(stage);
  return parseStageConfig(text, source);
}

/** The stage of one machine serving a real EvalAI challenge (`pitwall serve`). */
export function loadMachineStage(stage: string): MachineStageConfig {
  const { text, source } = readStageFile(stage);
  return parseMachineStage(text, source);
}

/** Whether a stage is a machine's (`pitwall serve`): its file has a `machine` section. Unreadable: no. */
export function isMachineStage(stage: string): boolean {
  try {
    const parsed: unknown = parse(readStageFile(stage).text);
    return typeof parsed === 'object' && parsed !== null && 'machine' in parsed;
  } catch {
    return false; // the deployed stage's loading says what is wrong with the file
  }
}

export { type MachineStageConfig, type StageConfig, StageConfigError };

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { JobRunnerUnavailableError } from '@pitwall/domain';
import type { ClusterSettings } from '@pitwall/kube';
import type { GpuPool } from './gpu-pool.js';

const exec = promisify(execFile);

export interface ContainerJobRunnerOptions {
  /** Where each Job's volumes, spec and state are kept. */
  readonly directory: string;
  readonly settings: ClusterSettings;
  /** The container engine, through its CLI: podman by default. */
  readonly engine?: ContainerEngine;
  /** Extra environment for logcopy: the local servers' credentials. */
  readonly logcopyEnv: Readonly<Record<string, string>>;
  /** Extra environment for the simulator and the agent (the stand-ins' pace, in tests and the demo). */
  readonly podEnv?: Readonly<Record<string, string>>;
  /** How often each Job's containers are looked at. */
  readonly pollMs?: number;
  /**
   * The machine's GPUs: each Job gets one, as the same CDI device for the simulator and the agent and
   * none for logcopy, and waits while none is free. Without, Jobs get no device.
   */
  readonly gpus?: GpuPool;
}

/** podman or docker: the same run flags; Docker has no pods, so a Job's namespace is a holder container's. */
export type ContainerEngine = 'podman' | 'docker';

/** A state folder's tag: short, and the same for the same folder across restarts (and across its removal). */
export function stateTagOf(directory: string): string {
  return createHash('sha256').update(resolve(directory)).digest('hex').slice(0, 8);
}

/** A Job's pod on this machine: its name and its state folder's tag, so two folders' Jobs never collide. */
export const podNameOf = (job: string, stateTag: string) => `${job}-${stateTag}`;

/** The Job's containers, by their name in the manifest, with the state of each (and its writable layer's size, when measured). */
export type ListedContainers = ReadonlyMap<
  string,
  { readonly ended: boolean; readonly exitCode: number; readonly writtenBytes?: number }
>;

/** One call of the engine's CLI, its output trimmed; an engine not installed is said so. */
export async function engineCli(engine: ContainerEngine, args: string[]): Promise<{ stdout: string }> {
  try {
    const { stdout } = await exec(engine, args, { maxBuffer: 16 << 20 });
    return { stdout: stdout.trim() };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new JobRunnerUnavailableError(`${engine} is not installed on this machine`, { cause: error });
    }
    throw error;
  }
}

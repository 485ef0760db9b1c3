import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';

const exec = promisify(execFile);

/** Where container engines read CDI specs from, as the CDI specification names them. */
export const CDI_SPEC_DIRS = ['/etc/cdi', '/var/run/cdi'] as const;
/** NVIDIA's kind, as `nvidia-ctk cdi generate` writes it. */
export const NVIDIA_CDI_KIND = 'nvidia.com/gpu';

/** Which GPUs the container executor hands out: a CDI kind's devices, found on this machine or named. */
export interface GpuPoolOptions {
  /** The CDI kind, `nvidia.com/gpu` by default. */
  readonly kind?: string;
  /** Device names of that kind (`GPU-<UUID>`, or an index); all the machine's by default. */
  readonly devices?: readonly string[];
  /** Where the CDI specs are; the engines' own folders by default. */
  readonly specDirs?: readonly string[];
}

export class GpuDiscoveryError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'GpuDiscoveryError';
  }
}

/** A GPU as the executor gives it: the CDI name for `--device`, and its UUID when the name is one. */
export interface Gpu {
  readonly device: string;
  readonly uuid?: string;
}

const gpuOf = (kind: string, name: string): Gpu => ({
  device: `${kind}=${name}`,
  ...(/^GPU-[0-9a-fA-F-]+$/.test(name) ? { uuid: name } : {}),
});

/** The device names a kind's CDI specs declare; a device by UUID rather than by index where both exist. */
export function cdiDevices(kind: string, specDirs: readonly string[] = CDI_SPEC_DIRS): string[] {
  const names: string[] = [];
  for (const dir of specDirs.filter((d) => existsSync(d))) {
    for (const file of readdirSync(dir).filter((f) => /\.(ya?ml|json)$/.test(f))) {
      let spec: { kind?: unknown; devices?: { name?: unknown }[] };
      try {
        spec = parse(readFileSync(join(dir, file), 'utf8')) ?? {};
      } catch (error) {
        throw new GpuDiscoveryError(`the CDI spec ${join(dir, file)} is not valid YAML or JSON`, { cause: error });
      }
      if (spec.kind !== kind) continue;
      for (const device of spec.devices ?? []) if (typeof device.name === 'string') names.push(device.name);
    }
  }
  const byUuid = names.filter((name) => name.startsWith('GPU-'));
  return byUuid.length > 0 ? byUuid : names.filter((name) => name !== 'all');
}

/** The GPUs `nvidia-smi` sees, by UUID; none if it is not installed. */
export async function nvidiaSmiDevices(): Promise<string[]> {
  try {
    const { stdout } = await exec('nvidia-smi', ['--query-gpu=uuid', '--format=csv,noheader']);
    return stdout
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line.startsWith('GPU-'));
  } catch {
    return [];
  }
}

/**
 * The executor's GPUs, one per Job: each Job holds one until it ends, and a Job that finds none free waits
 * for one (as a pod waits, Pending, for a node with a free GPU). Which Job holds which survives a restart
 * of the runtime in the Jobs' own state, and is given back to the pool with `hold` as they are adopted.
 */
export class GpuPool {
  private readonly holders = new Map<string, string>();

  private constructor(private readonly gpus: readonly Gpu[]) {}

  /** The pool the options name: their devices, or the CDI spec's, or what nvidia-smi sees. */
  static async discover(options: GpuPoolOptions = {}): Promise<GpuPool> {
    const kind = options.kind ?? NVIDIA_CDI_KIND;
    const specDirs = options.specDirs ?? CDI_SPEC_DIRS;
    const declared = cdiDevices(kind, specDirs);
    let names = options.devices ?? declared;
    if (!options.devices && names.length === 0 && kind === NVIDIA_CDI_KIND) names = await nvidiaSmiDevices();
    if (names.length === 0) {
      throw new GpuDiscoveryError(
        `no GPU of CDI kind ${kind} on this machine (looked in ${specDirs.join(', ')}${kind === NVIDIA_CDI_KIND ? ' and asked nvidia-smi' : ''}): install NVIDIA's container toolkit and run \`nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml\``,
      );
    }
    const undeclared = names.filter((name) => !declared.includes(name) && !/^\d+$/.test(name));
    if (undeclared.length > 0 && declared.length > 0) {
      throw new GpuDiscoveryError(`the CDI specs of kind ${kind} declare no device ${undeclared.join(', ')}`);
    }
    return new GpuPool(names.map((name) => gpuOf(kind, name)));
  }

  get size(): number {
    return this.gpus.length;
  }

  /** A free GPU for the Job, or the one it holds already; none while every GPU is held. */
  take(job: string): Gpu | undefined {
    const held = this.holders.get(job);
    if (held) return this.gpus.find((gpu) => gpu.device === held);
    const busy = new Set(this.holders.values());
    const free = this.gpus.find((gpu) => !busy.has(gpu.device));
    if (free) this.holders.set(job, free.device);
    return free;
  }

  /** A Job adopted after a restart keeps the GPU it was given. */
  hold(job: string, device: string): void {
    this.holders.set(job, device);
  }

  give(job: string): void {
    this.holders.delete(job);
  }
}

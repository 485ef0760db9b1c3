import { cpus, totalmem } from 'node:os';

import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { ListedContainers } from './container-engine.js';

/**
 * What a kubelet enforces on a pod's containers, as podman's and docker's run flags: no image pulled, no
 * root, no capabilities, no new privileges, a process limit; the manifest's CPU and memory no larger than
 * this machine; each sized emptyDir a tmpfs volume that cannot hold more than its sizeLimit (its pages count
 * against the memory of whoever writes them, as a memory-backed emptyDir's do); and the ephemeral-storage a
 * container's own writable layer may take, measured as the kubelet's eviction manager does.
 */

/** No image pulled, no root, no capabilities, no new privileges, at most `pidsLimit` processes. */
export function hardening(user: string, pidsLimit: number): string[] {
  return [
    ...['--pull', 'never', '--user', `${user}:${user}`, '--cap-drop', 'ALL'],
    ...['--security-opt', 'no-new-privileges', '--pids-limit', String(pidsLimit)],
  ];
}

/** The manifest's CPU and memory limits, no larger than this machine. */
export function resourceArguments(container: IContainer): string[] {
  const limits = container.resources?.limits ?? {};
  const args: string[] = [];
  if (limits.cpu) args.push('--cpus', String(Math.min(cpuCores(String(limits.cpu)), cpus().length)));
  if (limits.memory) args.push('--memory', String(Math.min(bytes(String(limits.memory)), totalmem())));
  return args;
}

/** The most a container's own writable layer may hold (its ephemeral-storage limit), if it has one. */
export function ephemeralStorageLimit(container: IContainer): number | undefined {
  const limit = container.resources?.limits?.['ephemeral-storage'];
  return limit === undefined ? undefined : bytes(String(limit));
}

/** The pod's emptyDirs with a sizeLimit, each with the most bytes it may hold. */
export function sizedVolumes(manifest: IJob): { readonly name: string; readonly bytes: number }[] {
  return (manifest.spec?.template.spec?.volumes ?? []).flatMap((volume) => {
    const limit = volume.emptyDir?.sizeLimit;
    return limit === undefined ? [] : [{ name: volume.name, bytes: bytes(String(limit)) }];
  });
}

/** The page size tmpfs counts in: `nr_blocks`, since podman 4 reads a volume's `size=` as an XFS quota. */
const TMPFS_BLOCK = 4096;

/** `volume create` arguments for a tmpfs of at most `size` bytes that any of the pod's users may write. */
export function tmpfsVolumeOptions(size: number): string[] {
  const blocks = Math.max(1, Math.ceil(size / TMPFS_BLOCK));
  return ['--opt', 'type=tmpfs', '--opt', 'device=tmpfs', '--opt', `o=nr_blocks=${blocks},mode=1777`];
}

/** Kubernetes CPU quantities: "3", "250m". */
function cpuCores(quantity: string): number {
  return quantity.endsWith('m') ? Number(quantity.slice(0, -1)) / 1000 : Number(quantity);
}

const UNITS: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, K: 1e3, M: 1e6, G: 1e9 };

/** Kubernetes memory and storage quantities: "256Mi", "16Gi". */
function bytes(quantity: string): number {
  const match = /^(\d+(?:\.\d+)?)([KMGT]i?)?$/.exec(quantity);
  if (!match) throw new RangeError(`not a memory quantity: ${quantity}`);
  return Math.floor(Number(match[1]) * (match[2] ? (UNITS[match[2]] ?? 1) : 1));
}

/** Bytes as a person reads them, in the manifest's units. */
export function mebibytes(size: number): string {
  return `${Math.round(size / 2 ** 20)}Mi`;
}

/** The first container whose writable layer holds more than its ephemeral-storage limit, as last measured. */
export function pastStorageLimit(
  containers: readonly IContainer[],
  byName: ListedContainers,
): { container: string; written: number; limit: number } | undefined {
  for (const container of containers) {
    const written = byName.get(container.name)?.writtenBytes;
    const limit = ephemeralStorageLimit(container);
    if (written !== undefined && limit !== undefined && written > limit) {
      return { container: container.name, written, limit };
    }
  }
  return undefined;
}

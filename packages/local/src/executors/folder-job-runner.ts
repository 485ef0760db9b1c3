import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerExit, JobObservation, JobRunner, ListedJob, PodRun, WorkerJobSpec } from '@pitwall/domain';
import { buildWorkerJob, type ClusterSettings, NODE_LABELS, SPOT_TAINT, validateManifest } from '@pitwall/kube';
import type { IJob } from 'kubernetes-models/batch/v1/Job';

/** A Job's folders go whole: tried again for a moment if a file appears in them meanwhile (ENOTEMPTY). */
const REMOVE_TREE = { recursive: true, force: true, maxRetries: 5, retryDelay: 100 } as const;

/**
 * A new pod's emptyDirs, one folder each under `<job>/volumes`, writable by the containers' user; what an
 * earlier pod of the Job left there is gone, as on a cluster (stale status files would end a round that
 * has not begun). The projected service-account token is a file the local stores do not check.
 */
export function makeEmptyDirs(directory: string, manifest: IJob): void {
  const volume = (name: string) => join(directory, 'volumes', name);
  rmSync(join(directory, 'volumes'), REMOVE_TREE);
  for (const { name } of manifest.spec?.template.spec?.volumes ?? []) {
    mkdirSync(volume(name), { recursive: true });
    chmodSync(volume(name), 0o777);
  }
  writeFileSync(join(volume('aws-token'), 'token'), 'local-web-identity-token');
}

/**
 * The node a local executor's pod runs on, as a cluster would label it: the track's node class for instance
 * type, and spot where the manifest asks for it (a spot or spot-first track), for `preempt` to take away.
 */
function localNodeOf(manifest: IJob): Pick<PodRun, 'instanceType' | 'capacityType'> {
  const pod = manifest.spec?.template.spec;
  const spot = pod?.tolerations?.some((t) => t.key === SPOT_TAINT.key) ?? false;
  return {
    instanceType: pod?.nodeSelector?.[NODE_LABELS.nodeClass] ?? 'unknown',
    capacityType: spot ? 'spot' : 'on-demand',
  };
}

/** A local executor's pods, as a cluster reports them: one more starts now, on the manifest's node. */
export function startPodRun(pods: PodRun[], manifest: IJob): void {
  pods.push({ startedAt: new Date().toISOString(), ...localNodeOf(manifest) });
}

/** The pod that runs ends now (its GPU time is counted to here); nothing when none runs. */
export function endPodRun(pods: PodRun[]): void {
  const current = pods.at(-1);
  if (current && !current.endedAt) pods[pods.length - 1] = { ...current, endedAt: new Date().toISOString() };
}

/**
 * How long a stopped container of the pod gets after SIGTERM before SIGKILL, as the kubelet allows: the
 * manifest's terminationGracePeriodSeconds. logcopy's last flush happens in it; a loaded machine needs more
 * than a few seconds for it, and a Job reported done before that flush leaves Collect without results.
 */
export function terminationGraceSeconds(manifest: IJob): number {
  return manifest.spec?.template.spec?.terminationGracePeriodSeconds ?? 30;
}

/** A container's ends kept for its observation: enough to tell which side of a pod failed first. */
const MAX_EXITS_KEPT = 20;

export function keepNewestExits(exits: readonly ContainerExit[] | undefined, next: ContainerExit): ContainerExit[] {
  return [...(exits ?? []), next].slice(-MAX_EXITS_KEPT);
}

/** The agent image tag that makes a local executor take the node away once, after the first route is done. */
export const PREEMPT_ONCE_TAG = 'preempt-once';
/** The agent image tag whose every pod on a spot node loses it, once that pod has done a route of its own. */
export const PREEMPT_SPOT_TAG = 'preempt-spot';

/**
 * Whether a Job's pod is due for its lost node, by its agent's tag: `preempt-once` when none was lost yet and
 * its checkpoint has a route done; `preempt-spot` when the pod runs on spot and its checkpoint has a route
 * more than nodes were lost (each lost node's pod did one; the new pod restored them).
 */
export async function dueForPreemption(
  spec: WorkerJobSpec,
  pods: readonly PodRun[],
  interruptions: number,
  checkpoint: () => Promise<string>,
): Promise<boolean> {
  const tag = spec.image.split(':').at(-1);
  const due =
    (tag === PREEMPT_ONCE_TAG && interruptions === 0) ||
    (tag === PREEMPT_SPOT_TAG && pods.at(-1)?.capacityType === 'spot');
  if (!due) return false;
  try {
    return (JSON.parse(await checkpoint())._checkpoint?.records?.length ?? 0) >= interruptions + 1;
  } catch {
    return false; // not written yet, or being written
  }
}

/** The checkpoint the agent writes, in a Job's folder of volumes (the process executor's emptyDirs). */
export const checkpointInFolder = (directory: string) => async () =>
  readFileSync(join(directory, 'volumes', 'checkpoint', 'checkpoint.json'), 'utf8');

/** One Job of a local executor, kept in a folder of its own (its spec, volumes and logs). */
export interface FolderJob {
  readonly listed: ListedJob;
  observation(): JobObservation;
  /** A new Job: its folder is made and its containers started. */
  start(): Promise<void>;
  /** A Job a previous runtime started: carried on from what it left. */
  resume(): Promise<void>;
  /** Stops what runs, for good (the Job is deleted). */
  remove(): Promise<void>;
  /** Lets go of the Job as the runtime stops. */
  release(): Promise<void>;
  /** Its node is lost: see FolderJobRunner.preempt. */
  preempt(): Promise<boolean>;
}

/** How a Job of this executor is made: from its spec, its manifest and its folder (created then, if found). */
export type FolderJobFactory<J extends FolderJob> = (
  spec: WorkerJobSpec,
  manifest: IJob,
  directory: string,
  createdAt?: Date,
) => J;

/**
 * What the local executors share: the Job manifest Pitwall would send to Kubernetes, validated, one folder
 * per Job (its `spec.json` marks it as launched, and is what a restarted runtime finds), listing,
 * observation and deletion; how each Job runs is the executor's.
 */
export abstract class FolderJobRunner<J extends FolderJob> implements JobRunner {
  protected readonly jobs = new Map<string, J>();

  protected constructor(
    protected readonly directory: string,
    protected readonly settings: ClusterSettings,
    private readonly createJob: FolderJobFactory<J>,
  ) {
    mkdirSync(directory, { recursive: true });
  }

  abstract logTail(name: string, container: string, maxBytes: number): Promise<string>;

  async launch(spec: WorkerJobSpec): Promise<'created' | 'exists'> {
    if (this.jobs.has(spec.name) || existsSync(join(this.directory, spec.name, 'spec.json'))) return 'exists';
    const manifest = buildWorkerJob(spec, this.settings);
    await validateManifest(manifest);
    const job = this.createJob(spec, manifest, join(this.directory, spec.name));
    this.jobs.set(spec.name, job);
    await job.start();
    return 'created';
  }

  async list(): Promise<readonly ListedJob[]> {
    return [...this.jobs.values()].map((job) => job.listed);
  }

  async observe(name: string): Promise<JobObservation> {
    const job = this.jobs.get(name);
    if (!job) return { name, state: 'missing', containers: [] };
    return job.observation();
  }

  async delete(name: string): Promise<'deleted' | 'absent'> {
    const job = this.jobs.get(name);
    if (!job) return 'absent';
    this.jobs.delete(name);
    await job.remove();
    await rm(join(this.directory, name), REMOVE_TREE);
    return 'deleted';
  }

  /**
   * The node under the Job's pod is lost, as a spot reclaim drains it: every container is stopped (SIGTERM,
   * then SIGKILL after the grace), its emptyDirs go, and a new pod starts; only what logcopy uploaded is
   * left. Not counted against the backoffLimit. Returns false for a Job not running here.
   */
  async preempt(name: string): Promise<boolean> {
    return (await this.jobs.get(name)?.preempt()) ?? false;
  }

  /** After a restart of the runtime: every Job found on disk carries on, as a cluster's would. */
  async recover(): Promise<number> {
    let recovered = 0;
    for (const name of await readdir(this.directory)) {
      const specFile = join(this.directory, name, 'spec.json');
      if (this.jobs.has(name) || !existsSync(specFile)) continue;
      const spec = JSON.parse(readFileSync(specFile, 'utf8')) as WorkerJobSpec;
      // The Job's age carries over a restart, as a cluster's would.
      const job = this.createJob(
        spec,
        buildWorkerJob(spec, this.settings),
        join(this.directory, name),
        statSync(specFile).mtime,
      );
      this.jobs.set(name, job);
      await job.resume();
      recovered += 1;
    }
    return recovered;
  }

  async shutdown(): Promise<void> {
    await Promise.all([...this.jobs.values()].map((job) => job.release()));
    this.jobs.clear();
  }
}

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { type ContainerEngine, type ContainerJobRunnerOptions, podNameOf, stateTagOf } from './container-engine.js';
import { ContainerJob } from './container-job.js';
import { CONTAINER_LABEL, JOB_LABEL, STATE_LABEL } from './container-pod-layout.js';
import { FolderJobRunner } from './folder-job-runner.js';

export { type ContainerEngine, type ContainerJobRunnerOptions, stateTagOf } from './container-engine.js';

const exec = promisify(execFile);

/** How often each container's writable layer is measured (the kubelet's eviction manager looks every 10 s). */
const STORAGE_CHECK_MS = 2_000;

/** What `inspect` says of a container, the same on podman and docker, as far as the executor reads it. */
interface InspectedContainer {
  readonly State: { readonly Status: string; readonly ExitCode: number };
  readonly Config: { readonly Labels?: Record<string, string> | null };
  /** What the container wrote to its own root filesystem (with `inspect --size`). */
  readonly SizeRw?: number;
}

/**
 * Runs the Job manifest Pitwall would send to Kubernetes as real containers, through podman's or docker's
 * CLI: one network namespace per Job with no network (podman's pod, or on Docker a holder container the
 * others join), so the simulator and the agent share only loopback; logcopy with the host's network, to
 * reach the local stores; emptyDirs as per-job folders; init containers in order, sidecars (restartPolicy
 * Always) started again whenever they exit; restartPolicy Never, so a failed agent fails the pod and a new
 * pod starts while the backoffLimit allows; a `preempt` (the node lost) not counted, as podFailurePolicy
 * has it; activeDeadlineSeconds, as the process executor does. Containers run under conmon and outlive the
 * runtime: a restarted runtime adopts them by label.
 * One `ps` and one `inspect` per look serve every Job.
 */
export class ContainerJobRunner extends FolderJobRunner<ContainerJob> {
  private readonly engine: ContainerEngine;
  private readonly watch: NodeJS.Timeout;
  /** When the containers' writable layers were last measured. */
  private measuredAt = 0;

  /** This runner's state folder, in its pods' names and labels: another folder's Jobs of the same name are not its. */
  private readonly stateTag: string;

  constructor(options: ContainerJobRunnerOptions) {
    const engine = options.engine ?? 'podman';
    const stateTag = stateTagOf(options.directory);
    super(options.directory, options.settings, (spec, manifest, directory, createdAt) => {
      return new ContainerJob(spec, manifest, directory, options, engine, stateTag, createdAt);
    });
    this.engine = engine;
    this.stateTag = stateTag;
    let busy = false;
    this.watch = setInterval(() => {
      if (busy) return;
      busy = true;
      void this.look()
        .catch(() => undefined) // the engine was busy: the next look tries again
        .finally(() => {
          busy = false;
        });
    }, options.pollMs ?? 500);
    this.watch.unref();
  }

  async logTail(name: string, container: string, maxBytes: number): Promise<string> {
    try {
      const { stdout, stderr } = await exec(this.engine, ['logs', `${podNameOf(name, this.stateTag)}-${container}`], {
        maxBuffer: 64 << 20,
      });
      return `${stdout}${stderr}`.slice(-maxBytes);
    } catch {
      return '';
    }
  }

  /** Stops watching; the containers go on, for the next start to adopt. */
  override async shutdown(): Promise<void> {
    clearInterval(this.watch);
    await super.shutdown();
  }

  /** One look at every running Job's containers, and a start for those waiting for a GPU, oldest first. */
  private async look(): Promise<void> {
    for (const job of this.jobs.values()) if (job.waitingForGpu) void job.startWhenGpuFree();
    const running = [...this.jobs.values()].filter((job) => job.running);
    if (running.length === 0) return;
    const { stdout: ids } = await exec(this.engine, [
      'ps',
      '--all',
      '--quiet',
      '--filter',
      `label=${STATE_LABEL}=${this.stateTag}`,
    ]);
    const measure = Date.now() - this.measuredAt >= STORAGE_CHECK_MS;
    if (measure) this.measuredAt = Date.now();
    const byJob = new Map<string, Map<string, { ended: boolean; exitCode: number; writtenBytes?: number }>>();
    for (const container of await this.inspect(ids.split('\n').filter(Boolean), measure)) {
      const labels = container.Config.Labels ?? {};
      const job = labels[JOB_LABEL] ?? '';
      const containers = byJob.get(job) ?? new Map();
      const ended = ['exited', 'stopped', 'dead'].includes(container.State.Status);
      const written = measure && container.SizeRw !== undefined ? { writtenBytes: container.SizeRw } : {};
      containers.set(labels[CONTAINER_LABEL] ?? '', { ended, exitCode: container.State.ExitCode, ...written });
      byJob.set(job, containers);
    }
    await Promise.all(running.map((job) => job.look(byJob.get(job.podName) ?? new Map())));
  }

  /** The containers that still exist: one removed between the listing and this is left out. */
  private async inspect(ids: readonly string[], size: boolean): Promise<InspectedContainer[]> {
    if (ids.length === 0) return [];
    let stdout: string;
    try {
      const args = ['inspect', '--type', 'container', ...(size ? ['--size'] : []), ...ids];
      ({ stdout } = await exec(this.engine, args, { maxBuffer: 64 << 20 }));
    } catch (error) {
      stdout = (error as { stdout?: string }).stdout ?? '';
    }
    try {
      return JSON.parse(stdout || '[]') as InspectedContainer[];
    } catch {
      return [];
    }
  }
}

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type ContainerExit,
  type ContainerObservation,
  EPHEMERAL_STORAGE_EXCEEDED,
  type JobObservation,
  type ListedJob,
  type PodRun,
  type WorkerJobSpec,
} from '@pitwall/domain';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { IContainer } from 'kubernetes-models/v1/Container';
import {
  type ContainerEngine,
  type ContainerJobRunnerOptions,
  engineCli,
  type ListedContainers,
  podNameOf,
} from './container-engine.js';
import { mebibytes, pastStorageLimit } from './container-limits.js';
import { HOLDER_VOLUMES, JOB_LABEL, PodLayout, STATE_LABEL } from './container-pod-layout.js';
import {
  dueForPreemption,
  endPodRun,
  type FolderJob,
  keepNewestExits,
  makeEmptyDirs,
  startPodRun,
  terminationGraceSeconds,
} from './folder-job-runner.js';
import type { Gpu } from './gpu-pool.js';

interface JobState {
  state: JobObservation['state'];
  reason?: string;
  /** Failed pods, against the backoffLimit. */
  failures: number;
  /** Pods whose node was taken away (`preempt`), which podFailurePolicy does not count. */
  interruptions?: number;
  pods?: PodRun[];
  restarts: Record<string, number>;
  lastExit: Record<string, { code: number; reason: string }>;
  /** Each container's ends, oldest first (the newest MAX_EXITS_KEPT): who failed first is told by them. */
  exits?: Record<string, ContainerExit[]>;
  /** The CDI device the Job holds, from the pool. */
  gpu?: Gpu;
}

export class ContainerJob implements FolderJob {
  private status: JobState;
  private released = false;
  /** Its pod being ended or replaced: the runner's looks leave it alone meanwhile. */
  private replacing = false;
  /** Its pod is being stopped on the way to failed: a second reason met meanwhile is not a second failure. */
  private failing = false;
  /** Created, but every GPU is held by other Jobs. */
  waitingForGpu = false;
  readonly listed: ListedJob;
  /** The pod's (or Docker's holder's) name: the Job's, with its state folder's tag. */
  readonly podName: string;
  private readonly layout: PodLayout;

  constructor(
    private readonly spec: WorkerJobSpec,
    private readonly manifest: IJob,
    private readonly directory: string,
    private readonly options: ContainerJobRunnerOptions,
    private readonly engine: ContainerEngine,
    private readonly stateTag: string,
    createdAt = new Date(),
  ) {
    const { name, submissionPk, attempt } = spec;
    this.listed = { name, submissionPk, attempt, createdAt: createdAt.toISOString() };
    this.podName = podNameOf(name, stateTag);
    this.layout = new PodLayout(engine, this.podName, stateTag, directory, manifest, options);
    this.status = this.readState() ?? { state: 'pending', failures: 0, restarts: {}, lastExit: {} };
  }

  /** Whether the runner's looks are for this Job: its containers run, and the runtime still holds it. */
  get running(): boolean {
    return this.status.state === 'running' && !this.released;
  }

  private get pod() {
    return this.manifest.spec?.template.spec;
  }

  /** The Job's folders, then its pod in the background: creating it and the init containers take seconds. */
  async start(): Promise<void> {
    mkdirSync(this.directory, { recursive: true });
    writeFileSync(join(this.directory, 'spec.json'), JSON.stringify(this.spec));
    makeEmptyDirs(this.directory, this.manifest);
    this.saveState();
    void this.createPod();
  }

  /** A Job waiting for a GPU starts when one is free, or fails when its deadline passes first. */
  async startWhenGpuFree(): Promise<void> {
    if (this.released || this.pastDeadline()) {
      this.waitingForGpu = false;
      if (!this.released) await this.fail('DeadlineExceeded', 'Job was active longer than specified deadline');
      return;
    }
    await this.createPod();
  }

  private async createPod(): Promise<void> {
    const { gpus } = this.options;
    if (gpus && !this.status.gpu) {
      const gpu = gpus.take(this.spec.name);
      this.waitingForGpu = !gpu;
      if (!gpu) return; // Pending, as on a cluster with no free GPU: the runner's looks try again
      this.status.gpu = gpu;
      this.saveState();
    }
    try {
      await this.createNamespace();
      for (const init of this.pod?.initContainers ?? []) {
        if (init.restartPolicy === 'Always') {
          await this.cli(['run', '--detach', ...this.layout.runArguments(init, { main: true, ...this.gpu() })]);
          continue;
        }
        const code = await this.runToEnd(init); // init steps get no GPU
        if (code !== 0) return this.fail('InitFailed', `the ${init.name} step exited with ${code}`);
      }
      for (const container of this.pod?.containers ?? []) {
        await this.cli(['run', '--detach', ...this.layout.runArguments(container, { main: true, ...this.gpu() })]);
      }
      this.status.pods ??= [];
      startPodRun(this.status.pods, this.manifest);
      this.status.state = 'running';
      this.saveState();
    } catch (error) {
      await this.fail('StartFailed', (error as Error).message);
    }
  }

  /** A Job a previous runtime started: watched again where it is, or started again if its pod is gone. */
  async resume(): Promise<void> {
    if (this.status.state !== 'pending' && this.status.state !== 'running') return;
    if (this.status.gpu) this.options.gpus?.hold(this.spec.name, this.status.gpu.device);
    const exists = await this.cli(
      this.engine === 'podman' ? ['pod', 'exists', this.podName] : ['container', 'inspect', this.podName],
    ).then(
      () => true,
      () => false,
    );
    if (exists && this.status.state === 'running') return;
    await this.removeContainers();
    const { gpu } = this.status;
    this.status = { state: 'pending', failures: 0, restarts: {}, lastExit: {}, ...(gpu ? { gpu } : {}) };
    this.saveState();
    makeEmptyDirs(this.directory, this.manifest); // a new pod; the Job's folder and spec.json (its age) are kept
    void this.createPod();
  }

  observation(): JobObservation {
    const containers: ContainerObservation[] = [...this.sidecars(), ...(this.pod?.containers ?? [])].map(
      (container) => {
        const last = this.status.lastExit[container.name];
        const exits = this.status.exits?.[container.name];
        return {
          name: container.name,
          restarts: this.status.restarts[container.name] ?? 0,
          ...(last ? { lastExitCode: last.code, lastReason: last.reason } : {}),
          ...(exits ? { exits: [...exits] } : {}),
        };
      },
    );
    const { state, reason, interruptions, pods } = this.status;
    return {
      name: this.spec.name,
      state,
      ...(reason ? { reason } : {}),
      ...(interruptions ? { interruptions } : {}),
      ...(pods ? { pods: [...pods] } : {}),
      containers,
    };
  }

  private sidecars(): IContainer[] {
    return (this.pod?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always');
  }

  /** The node is lost: every container stopped, the emptyDirs gone, and a new pod (not a failure). */
  async preempt(): Promise<boolean> {
    if (!this.running || this.replacing) return false;
    this.replacing = true;
    try {
      await this.stopPod();
      this.status.interruptions = (this.status.interruptions ?? 0) + 1;
      await this.newPod();
    } finally {
      this.replacing = false;
    }
    return true;
  }

  /**
   * The kubelet's end of a pod: its containers (those already exited are left as they are), then the
   * sidecars, last started first (logcopy, started before the simulator, flushes last).
   */
  private async stopPod(): Promise<void> {
    endPodRun(this.status.pods ?? []);
    await this.stopContainers(terminationGraceSeconds(this.manifest));
  }

  /**
   * The kubelet's order: the pod's own containers together, in `ownGraceSeconds`, then the sidecars one by
   * one in the pod's grace, last started first.
   */
  private async stopContainers(ownGraceSeconds: number): Promise<void> {
    const stop = (container: IContainer, grace: number) =>
      this.cli(['stop', '--time', String(grace), this.layout.containerName(container.name)]).catch(() => undefined);
    await Promise.all((this.pod?.containers ?? []).map((container) => stop(container, ownGraceSeconds)));
    const grace = terminationGraceSeconds(this.manifest);
    for (const sidecar of this.sidecars().reverse()) await stop(sidecar, grace);
  }

  /** A new pod for the Job: the old one's containers removed, new emptyDirs, its init steps again. */
  private async newPod(): Promise<void> {
    await this.removeContainers();
    makeEmptyDirs(this.directory, this.manifest);
    this.saveState();
    await this.createPod();
  }

  async release(): Promise<void> {
    this.released = true;
  }

  async remove(): Promise<void> {
    this.released = true;
    await this.removeContainers();
    this.options.gpus?.give(this.spec.name);
  }

  private pastDeadline(): boolean {
    return (
      Date.now() > Date.parse(this.listed.createdAt) + (this.manifest.spec?.activeDeadlineSeconds ?? 86_400) * 1000
    );
  }

  /** A Job that ended gives its GPU back to the pool; its pod is left for its logs until it is deleted. */
  private end(state: 'succeeded' | 'failed', reason?: string): void {
    endPodRun(this.status.pods ?? []);
    this.status.state = state;
    if (reason) this.status.reason = reason;
    this.saveState();
    this.options.gpus?.give(this.spec.name);
  }

  /**
   * One look at the pod's containers: sidecars started again, the pod's end once its containers have all
   * exited (success, or a failed pod and a new one within the backoff limit), the deadline.
   */
  async look(byName: ListedContainers): Promise<void> {
    if (this.replacing) return;
    if (this.pastDeadline()) return this.fail('DeadlineExceeded', 'Job was active longer than specified deadline');
    if (
      await dueForPreemption(this.spec, this.status.pods ?? [], this.status.interruptions ?? 0, () => this.checkpoint())
    ) {
      await this.preempt();
      return;
    }
    const over = pastStorageLimit([...this.sidecars(), ...(this.pod?.containers ?? [])], byName);
    if (over) return this.evict(over);
    const exitOf = (container: IContainer) => {
      const seen = byName.get(container.name);
      if (!seen?.ended) return seen ? undefined : null;
      const reason = seen.exitCode === 0 ? 'Completed' : seen.exitCode === 137 ? 'Killed' : 'Error';
      this.status.lastExit[container.name] = { code: seen.exitCode, reason };
      return seen.exitCode;
    };
    const main = this.pod?.containers ?? [];
    const exits = main.map(exitOf);
    const gone = main.find((_, i) => exits[i] === null);
    if (gone) return this.fail('ContainerMissing', `the ${gone.name} container is gone`);
    if (exits.every((code) => code !== undefined && code !== null)) {
      for (const [i, container] of main.entries()) this.recordExit(container.name, exits[i] as number);
      this.replacing = true;
      try {
        await this.podEnded(exits.every((code) => code === 0));
      } finally {
        this.replacing = false;
      }
      return;
    }
    for (const sidecar of this.sidecars()) {
      const code = exitOf(sidecar);
      if (code === undefined) continue;
      if (code === null) return this.fail('ContainerMissing', `the ${sidecar.name} container is gone`);
      // A sidecar is started again whatever its exit; it never fails the pod.
      this.recordExit(sidecar.name, code);
      this.status.restarts[sidecar.name] = (this.status.restarts[sidecar.name] ?? 0) + 1;
      this.saveState();
      await this.cli(['start', this.layout.containerName(sidecar.name)]);
    }
  }

  private recordExit(name: string, exitCode: number): void {
    this.status.exits ??= {};
    this.status.exits[name] = keepNewestExits(this.status.exits[name], { exitCode, at: new Date().toISOString() });
  }

  /** The pod's containers have all exited: the sidecars are stopped, then success or a new pod. */
  private async podEnded(succeeded: boolean): Promise<void> {
    await this.stopPod(); // its containers have exited: stopping them again is nothing
    if (succeeded) return this.end('succeeded');
    this.status.failures += 1;
    if (this.status.failures > (this.manifest.spec?.backoffLimit ?? 6)) {
      return this.fail('BackoffLimitExceeded', 'Job has reached the specified backoff limit');
    }
    await this.newPod();
  }

  /**
   * A failed Job, as Kubernetes (1.31 on) ends one: its pod's containers stop first, and only then is the
   * Job failed, so that what the control plane then collects includes logcopy's last flush. The pod's own
   * containers get a short grace (an agent past a limit has no claim to more); logcopy gets the pod's.
   */
  private async fail(reason: string, message: string): Promise<void> {
    if (this.status.state === 'succeeded' || this.status.state === 'failed' || this.failing) return;
    this.failing = true;
    this.replacing = true;
    try {
      await this.stopContainers(5);
      if (this.engine === 'podman') {
        await this.cli(['pod', 'stop', '--time', '5', this.podName]).catch(() => undefined);
      } else {
        const ids = await this.containerIds();
        if (ids.length > 0) await this.cli(['stop', '--time', '5', ...ids]).catch(() => undefined);
      }
    } finally {
      this.replacing = false;
      this.end('failed', `${reason}: ${message}`);
    }
  }

  /**
   * The Job's network namespace, with no network: podman's pod, or on Docker a holder container (logcopy's
   * image, sleeping) that the simulator and the agent join, as a pod's pause container would be.
   */
  private async createNamespace(): Promise<void> {
    await this.clearLeftover();
    const volumes = this.layout.volumeNames();
    if (volumes.length > 0) await this.cli(['volume', 'rm', '--force', ...volumes]).catch(() => undefined);
    for (const creation of this.layout.volumeCreations()) await this.cli(creation);
    if (this.engine === 'podman') {
      await this.cli(['pod', 'create', '--name', this.podName, '--network', 'none', ...this.layout.labels()]);
    }
    await this.cli(this.layout.holderArguments());
  }

  /** The agent's checkpoint, read through the holder (a tmpfs volume is not a host folder). */
  private async checkpoint(): Promise<string> {
    const file = `${HOLDER_VOLUMES}/checkpoint/checkpoint.json`;
    return (await this.cli(['exec', this.layout.holder, 'cat', file])).stdout;
  }

  /**
   * The kubelet's answer to a container past its ephemeral-storage limit: the pod is evicted, and the Job
   * fails with it; the container's end says why, as OOMKilled would.
   */
  private async evict(over: { container: string; written: number; limit: number }): Promise<void> {
    this.status.lastExit[over.container] = { code: 137, reason: EPHEMERAL_STORAGE_EXCEEDED };
    this.recordExit(over.container, 137);
    await this.fail(
      'Evicted',
      `the ${over.container} container wrote ${mebibytes(over.written)} to its root filesystem, past its ephemeral-storage limit of ${mebibytes(over.limit)}`,
    );
  }

  /**
   * A pod (or holder) of this name already there: this state folder's own, left by an earlier life of it (a
   * folder removed and made again), goes; one that is not this folder's is named in one line, left alone.
   */
  private async clearLeftover(): Promise<void> {
    const kind = this.engine === 'podman' ? 'pod' : 'container';
    let found: unknown;
    try {
      found = JSON.parse((await this.cli([kind, 'inspect', this.podName])).stdout);
    } catch {
      return; // none
    }
    const inspected = (Array.isArray(found) ? found[0] : found) as {
      Labels?: Record<string, string>;
      Config?: { Labels?: Record<string, string> };
    };
    const labels = inspected?.Labels ?? inspected?.Config?.Labels ?? {};
    if (labels[STATE_LABEL] === this.stateTag) return this.removeContainers();
    throw new Error(
      `a ${kind} named ${this.podName} is there and is not this state folder's: remove it with \`${this.engine} ${kind === 'pod' ? 'pod rm' : 'rm'} --force ${this.podName}\``,
    );
  }

  /** The Job's containers (its pod's, or its holder and the containers that joined it), all removed. */
  private async removeContainers(): Promise<void> {
    if (this.engine === 'podman') {
      await this.cli(['pod', 'rm', '--force', '--time', '5', this.podName]).catch(() => undefined);
    } else {
      const ids = await this.containerIds();
      if (ids.length > 0) await this.cli(['rm', '--force', ...ids]).catch(() => undefined);
    }
    const volumes = this.layout.volumeNames();
    if (volumes.length > 0) await this.cli(['volume', 'rm', '--force', ...volumes]).catch(() => undefined);
  }

  private async containerIds(): Promise<string[]> {
    const { stdout } = await this.cli(['ps', '--all', '--quiet', '--filter', `label=${JOB_LABEL}=${this.podName}`]);
    return stdout.split('\n').filter(Boolean);
  }

  private async runToEnd(container: IContainer): Promise<number> {
    try {
      await this.cli(['run', ...this.layout.runArguments(container)]);
      return 0;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      return typeof code === 'number' ? code : 1;
    }
  }

  /** The Job's GPU for its simulator and agent, once the pool gave it one. */
  private gpu(): { gpu?: Gpu } {
    return this.status.gpu ? { gpu: this.status.gpu } : {};
  }

  private readState(): JobState | undefined {
    try {
      return JSON.parse(readFileSync(join(this.directory, 'state.json'), 'utf8')) as JobState;
    } catch {
      return undefined;
    }
  }

  private saveState(): void {
    if (existsSync(this.directory)) writeFileSync(join(this.directory, 'state.json'), JSON.stringify(this.status));
  }

  private cli(args: string[]): Promise<{ stdout: string }> {
    return engineCli(this.engine, args);
  }
}

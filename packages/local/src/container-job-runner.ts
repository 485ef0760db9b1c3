import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import {
  type ContainerExit,
  type ContainerObservation,
  type JobObservation,
  JobRunnerUnavailableError,
  type ListedJob,
  type PodRun,
  type WorkerJobSpec,
} from '@pitwall/domain';
import type { ClusterSettings } from '@pitwall/kube';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { IContainer } from 'kubernetes-models/v1/Container';
import {
  dueForPreemption,
  endPodRun,
  type FolderJob,
  FolderJobRunner,
  keepNewestExits,
  makeEmptyDirs,
  startPodRun,
  terminationGraceSeconds,
} from './folder-job-runner.js';
import type { Gpu, GpuPool } from './gpu-pool.js';

const exec = promisify(execFile);

/** The label that marks a container or pod as a Job's, so a restarted runtime adopts it. */
const JOB_LABEL = 'pitwall.job';
/** The state folder a Job's pod belongs to (stateTagOf): a runtime sees and adopts only its own. */
const STATE_LABEL = 'pitwall.state';
/** Which of the manifest's containers a container is. */
const CONTAINER_LABEL = 'pitwall.container';

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

/** podman or docker: the same run flags; Docker has no pods, so a Job's namespace is a holder container's. */
export type ContainerEngine = 'podman' | 'docker';

/** What `inspect` says of a container, the same on podman and docker, as far as the executor reads it. */
interface InspectedContainer {
  readonly State: { readonly Status: string; readonly ExitCode: number };
  readonly Config: { readonly Labels?: Record<string, string> | null };
}

/** A state folder's tag: short, and the same for the same folder across restarts (and across its removal). */
export function stateTagOf(directory: string): string {
  return createHash('sha256').update(resolve(directory)).digest('hex').slice(0, 8);
}

/** A Job's pod on this machine: its name and its state folder's tag, so two folders' Jobs never collide. */
const podNameOf = (job: string, stateTag: string) => `${job}-${stateTag}`;

/** The Job's containers, by their name in the manifest, with the state of each. */
type ListedContainers = ReadonlyMap<string, { readonly ended: boolean; readonly exitCode: number }>;

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
    const byJob = new Map<string, Map<string, { ended: boolean; exitCode: number }>>();
    for (const container of await this.inspect(ids.split('\n').filter(Boolean))) {
      const labels = container.Config.Labels ?? {};
      const job = labels[JOB_LABEL] ?? '';
      const containers = byJob.get(job) ?? new Map();
      const ended = ['exited', 'stopped', 'dead'].includes(container.State.Status);
      containers.set(labels[CONTAINER_LABEL] ?? '', { ended, exitCode: container.State.ExitCode });
      byJob.set(job, containers);
    }
    await Promise.all(running.map((job) => job.look(byJob.get(job.podName) ?? new Map())));
  }

  /** The containers that still exist: one removed between the listing and this is left out. */
  private async inspect(ids: readonly string[]): Promise<InspectedContainer[]> {
    if (ids.length === 0) return [];
    let stdout: string;
    try {
      ({ stdout } = await exec(this.engine, ['inspect', '--type', 'container', ...ids], { maxBuffer: 64 << 20 }));
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

class ContainerJob implements FolderJob {
  private status: JobState;
  private released = false;
  /** Its pod being ended or replaced: the runner's looks leave it alone meanwhile. */
  private replacing = false;
  /** Created, but every GPU is held by other Jobs. */
  waitingForGpu = false;
  readonly listed: ListedJob;
  /** The pod's (or Docker's holder's) name: the Job's, with its state folder's tag. */
  readonly podName: string;

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
          await this.cli(['run', '--detach', ...this.runArguments(init, { main: true })]);
          continue;
        }
        const code = await this.runToEnd(init); // init steps get no GPU
        if (code !== 0) return this.fail('InitFailed', `the ${init.name} step exited with ${code}`);
      }
      for (const container of this.pod?.containers ?? []) {
        await this.cli(['run', '--detach', ...this.runArguments(container, { main: true })]);
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
    const order = [...(this.pod?.containers ?? []), ...this.sidecars().reverse()];
    const grace = String(terminationGraceSeconds(this.manifest));
    for (const container of order) {
      await this.cli(['stop', '--time', grace, this.containerName(container.name)]).catch(() => undefined);
    }
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
    if (dueForPreemption(this.directory, this.spec, this.status.pods ?? [], this.status.interruptions ?? 0)) {
      await this.preempt();
      return;
    }
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
      await this.cli(['start', this.containerName(sidecar.name)]);
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

  private async fail(reason: string, message: string): Promise<void> {
    if (this.status.state === 'succeeded' || this.status.state === 'failed') return;
    this.end('failed', `${reason}: ${message}`);
    if (this.engine === 'podman') {
      await this.cli(['pod', 'stop', '--time', '5', this.podName]).catch(() => undefined);
    } else {
      const ids = await this.containerIds();
      if (ids.length > 0) await this.cli(['stop', '--time', '5', ...ids]).catch(() => undefined);
    }
  }

  /**
   * The Job's network namespace, with no network: podman's pod, or on Docker a holder container (logcopy's
   * image, sleeping) that the simulator and the agent join, as a pod's pause container would be.
   */
  private async createNamespace(): Promise<void> {
    await this.clearLeftover();
    if (this.engine === 'podman') {
      await this.cli(['pod', 'create', '--name', this.podName, '--network', 'none', ...this.labels()]);
      return;
    }
    await this.cli([
      'run',
      '--detach',
      '--name',
      this.podName,
      '--network',
      'none',
      ...this.labels(),
      '--label',
      `${CONTAINER_LABEL}=holder`,
      ...hardening('1000'),
      '--entrypoint',
      'sleep',
      this.options.settings.images.logcopy,
      'infinity',
    ]);
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
      return;
    }
    const ids = await this.containerIds();
    if (ids.length > 0) await this.cli(['rm', '--force', ...ids]).catch(() => undefined);
  }

  private async containerIds(): Promise<string[]> {
    const { stdout } = await this.cli(['ps', '--all', '--quiet', '--filter', `label=${JOB_LABEL}=${this.podName}`]);
    return stdout.split('\n').filter(Boolean);
  }

  private async runToEnd(container: IContainer): Promise<number> {
    try {
      await this.cli(['run', ...this.runArguments(container)]);
      return 0;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      return typeof code === 'number' ? code : 1;
    }
  }

  /**
   * The container as the manifest says, with what a kubelet would enforce: no image pulled, no root, no
   * capabilities, no new privileges, a read-only root where asked, and CPU and memory limits no larger
   * than this machine.
   */
  private runArguments(container: IContainer, { main = false } = {}): string[] {
    const logcopy = container.image === this.options.settings.images.logcopy;
    const args = [
      '--name',
      this.containerName(container.name),
      ...this.labels(),
      '--label',
      `${CONTAINER_LABEL}=${container.name}`,
      ...hardening(String(container.securityContext?.runAsUser ?? 1000)),
    ];
    // logcopy reaches the local stores on the host's loopback; the simulator and the agent have the Job's
    // namespace, with no network but their shared loopback. A container's own --network wins over the pod's.
    if (this.engine === 'podman') args.push('--pod', this.podName);
    if (logcopy) args.push('--network', 'host');
    else if (this.engine === 'docker') args.push('--network', `container:${this.podName}`);
    if (container.securityContext?.readOnlyRootFilesystem) {
      // podman mounts writable tmpfs on /tmp, /var/tmp and /run under --read-only unless told not to.
      args.push('--read-only', ...(this.engine === 'podman' ? ['--read-only-tmpfs=false'] : []));
    }
    const limits = container.resources?.limits ?? {};
    if (limits.cpu) args.push('--cpus', String(Math.min(cpuCores(String(limits.cpu)), cpus().length)));
    if (limits.memory) args.push('--memory', String(Math.min(bytes(String(limits.memory)), totalmem())));
    const env: Record<string, string> = {
      ...(logcopy ? this.options.logcopyEnv : (this.options.podEnv ?? {})),
    };
    // The simulator and the agent share the Job's GPU; the scripts check that the one given is the one seen.
    const { gpu } = this.status;
    if (gpu && main && !logcopy) {
      // Docker before 25 has no CDI: its NVIDIA runtime takes the GPU by UUID.
      if (this.engine === 'docker' && gpu.uuid) args.push('--gpus', `device=${gpu.uuid}`);
      else args.push('--device', gpu.device);
      if (gpu.uuid) env.PITWALL_GPU_UUID = gpu.uuid;
    }
    for (const variable of container.env ?? []) env[variable.name] = variable.value ?? '';
    for (const [name, value] of Object.entries(env)) args.push('--env', `${name}=${value}`);
    for (const mount of container.volumeMounts ?? []) {
      args.push('--volume', `${this.volume(mount.name)}:${mount.mountPath}${mount.readOnly ? ':ro' : ''}`);
    }
    const [entrypoint, ...commandArgs] = container.command ?? [];
    if (entrypoint === undefined) {
      args.push(container.image ?? '', ...(container.args ?? []));
    } else if (this.engine === 'podman') {
      args.push('--entrypoint', JSON.stringify(container.command), container.image ?? '', ...(container.args ?? []));
    } else {
      // Docker's --entrypoint is one program: the command's other words go before the args.
      args.push('--entrypoint', entrypoint, container.image ?? '', ...commandArgs, ...(container.args ?? []));
    }
    return args;
  }

  private containerName(container: string): string {
    return `${this.podName}-${container}`;
  }

  private labels(): string[] {
    return ['--label', `${JOB_LABEL}=${this.podName}`, '--label', `${STATE_LABEL}=${this.stateTag}`];
  }

  private volume(name: string): string {
    return join(this.directory, 'volumes', name);
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

  private async cli(args: string[]): Promise<{ stdout: string }> {
    try {
      const { stdout } = await exec(this.engine, args, { maxBuffer: 16 << 20 });
      return { stdout: stdout.trim() };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        throw new JobRunnerUnavailableError(`${this.engine} is not installed on this machine`, { cause: error });
      }
      throw error;
    }
  }
}

/** What a kubelet enforces on every container here: no image pulled, no root, no capabilities, no new privileges. */
function hardening(user: string): string[] {
  return ['--pull', 'never', '--user', `${user}:${user}`, '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges'];
}

/** Kubernetes CPU quantities: "3", "250m". */
function cpuCores(quantity: string): number {
  return quantity.endsWith('m') ? Number(quantity.slice(0, -1)) / 1000 : Number(quantity);
}

const UNITS: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, K: 1e3, M: 1e6, G: 1e9 };

/** Kubernetes memory quantities: "256Mi", "16Gi". */
function bytes(quantity: string): number {
  const match = /^(\d+(?:\.\d+)?)([KMGT]i?)?$/.exec(quantity);
  if (!match) throw new RangeError(`not a memory quantity: ${quantity}`);
  return Math.floor(Number(match[1]) * (match[2] ? (UNITS[match[2]] ?? 1) : 1));
}

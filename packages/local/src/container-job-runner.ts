import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  type ContainerObservation,
  type JobObservation,
  type JobRunner,
  JobRunnerUnavailableError,
  type ListedJob,
  type WorkerJobSpec,
} from '@pitwall/domain';
import { buildWorkerJob, type ClusterSettings, validateManifest } from '@pitwall/kube';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { IContainer } from 'kubernetes-models/v1/Container';

const exec = promisify(execFile);

/** The label that marks a container or pod as a Job's, so a restarted runtime adopts it. */
const JOB_LABEL = 'pitwall.job';

export interface ContainerJobRunnerOptions {
  /** Where each Job's volumes, spec and state are kept. */
  readonly directory: string;
  readonly settings: ClusterSettings;
  /** The container engine's command: podman. */
  readonly engine?: string;
  /** Extra environment for logcopy: the local servers' credentials. */
  readonly logcopyEnv: Readonly<Record<string, string>>;
  /** Extra environment for the simulator and the agent (the stand-ins' pace, in tests and the demo). */
  readonly podEnv?: Readonly<Record<string, string>>;
  /** How often each Job's containers are looked at. */
  readonly pollMs?: number;
}

interface JobState {
  state: JobObservation['state'];
  reason?: string;
  failures: number;
  restarts: Record<string, number>;
  lastExit: Record<string, { code: number; reason: string }>;
}

/**
 * Runs the Job manifest Pitwall would send to Kubernetes as real containers, through podman's CLI: one pod
 * per Job with no network, so the simulator and the agent share only loopback; logcopy in it with the
 * host's network, to reach the local stores; emptyDirs as per-job folders; init containers in order;
 * restartPolicy OnFailure, backoffLimit and activeDeadlineSeconds enforced here, as the process executor
 * does. Containers run under conmon and outlive the runtime: a restarted runtime adopts them by label.
 */
export class ContainerJobRunner implements JobRunner {
  private readonly jobs = new Map<string, ContainerJob>();
  private readonly engine: string;

  constructor(private readonly options: ContainerJobRunnerOptions) {
    this.engine = options.engine ?? 'podman';
    mkdirSync(options.directory, { recursive: true });
  }

  async launch(spec: WorkerJobSpec): Promise<'created' | 'exists'> {
    if (this.jobs.has(spec.name) || existsSync(join(this.options.directory, spec.name, 'spec.json'))) return 'exists';
    const manifest = buildWorkerJob(spec, this.options.settings);
    await validateManifest(manifest);
    const job = new ContainerJob(spec, manifest, join(this.options.directory, spec.name), this.options, this.engine);
    this.jobs.set(spec.name, job);
    job.prepare();
    void job.start();
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
    await rm(join(this.options.directory, name), { recursive: true, force: true });
    return 'deleted';
  }

  async logTail(name: string, container: string, maxBytes: number): Promise<string> {
    try {
      const { stdout, stderr } = await exec(this.engine, ['logs', `${name}-${container}`], { maxBuffer: 64 << 20 });
      return `${stdout}${stderr}`.slice(-maxBytes);
    } catch {
      return '';
    }
  }

  /** After a restart of the runtime: each Job on disk is adopted, its pod as it is, or started if it has none. */
  async recover(): Promise<number> {
    let recovered = 0;
    for (const name of await readdir(this.options.directory)) {
      const specFile = join(this.options.directory, name, 'spec.json');
      if (this.jobs.has(name) || !existsSync(specFile)) continue;
      const spec = JSON.parse(readFileSync(specFile, 'utf8')) as WorkerJobSpec;
      const job = new ContainerJob(
        spec,
        buildWorkerJob(spec, this.options.settings),
        join(this.options.directory, name),
        this.options,
        this.engine,
        statSync(specFile).mtime,
      );
      this.jobs.set(name, job);
      void job.adopt();
      recovered += 1;
    }
    return recovered;
  }

  /** Stops watching; the containers go on, for the next start to adopt. */
  async shutdown(): Promise<void> {
    for (const job of this.jobs.values()) job.unwatch();
    this.jobs.clear();
  }
}

class ContainerJob {
  private status: JobState;
  private watch: NodeJS.Timeout | undefined;
  private stopped = false;
  readonly listed: ListedJob;
  private readonly createdAt: Date;

  constructor(
    private readonly spec: WorkerJobSpec,
    private readonly manifest: IJob,
    private readonly directory: string,
    private readonly options: ContainerJobRunnerOptions,
    private readonly engine: string,
    createdAt = new Date(),
  ) {
    const { name, submissionPk, attempt } = spec;
    this.createdAt = createdAt;
    this.listed = { name, submissionPk, attempt, createdAt: createdAt.toISOString() };
    this.status = this.readState() ?? { state: 'pending', failures: 0, restarts: {}, lastExit: {} };
  }

  private get pod() {
    return this.manifest.spec?.template.spec;
  }

  /** The Job's folders: each emptyDir, writable by the containers' user; the projected token as a file. */
  prepare(): void {
    mkdirSync(this.directory, { recursive: true });
    writeFileSync(join(this.directory, 'spec.json'), JSON.stringify(this.spec));
    for (const volume of this.pod?.volumes ?? []) {
      mkdirSync(this.volume(volume.name), { recursive: true });
      chmodSync(this.volume(volume.name), 0o777);
    }
    writeFileSync(join(this.volume('aws-token'), 'token'), 'local-web-identity-token');
    this.saveState();
  }

  async start(): Promise<void> {
    try {
      await this.podman([
        'pod',
        'create',
        '--name',
        this.spec.name,
        '--network',
        'none',
        '--label',
        `${JOB_LABEL}=${this.spec.name}`,
      ]);
      for (const init of this.pod?.initContainers ?? []) {
        const code = await this.runToEnd(init);
        if (code !== 0) return this.fail('InitFailed', `the ${init.name} step exited with ${code}`);
      }
      for (const container of this.pod?.containers ?? []) {
        await this.podman(['run', '--detach', ...this.runArguments(container)]);
      }
      this.status.state = 'running';
      this.saveState();
      this.startWatching();
    } catch (error) {
      await this.fail('StartFailed', (error as Error).message);
    }
  }

  /** A Job a previous runtime started: watched again where it is, or started if its pod is gone. */
  async adopt(): Promise<void> {
    if (this.status.state === 'succeeded' || this.status.state === 'failed') return;
    const { stdout } = await this.podman(['pod', 'exists', this.spec.name]).catch(() => ({ stdout: 'absent' }));
    if (stdout === 'absent' || this.status.state === 'pending') {
      await this.podman(['pod', 'rm', '--force', this.spec.name]).catch(() => undefined);
      this.status = { state: 'pending', failures: 0, restarts: {}, lastExit: {} };
      return this.start();
    }
    this.startWatching();
  }

  observation(): JobObservation {
    const containers: ContainerObservation[] = (this.pod?.containers ?? []).map((container) => {
      const last = this.status.lastExit[container.name];
      return {
        name: container.name,
        restarts: this.status.restarts[container.name] ?? 0,
        ...(last ? { lastExitCode: last.code, lastReason: last.reason } : {}),
      };
    });
    const { state, reason } = this.status;
    return { name: this.spec.name, state, ...(reason ? { reason } : {}), containers };
  }

  unwatch(): void {
    this.stopped = true;
    clearInterval(this.watch);
  }

  async remove(): Promise<void> {
    this.unwatch();
    await this.podman(['pod', 'rm', '--force', '--time', '5', this.spec.name]).catch(() => undefined);
  }

  private startWatching(): void {
    const every = this.options.pollMs ?? 500;
    let busy = false;
    this.watch = setInterval(() => {
      if (busy || this.stopped) return;
      busy = true;
      void this.look()
        .catch(() => undefined) // the engine was busy: the next look tries again
        .finally(() => {
          busy = false;
        });
    }, every);
    this.watch.unref();
  }

  /** One look at the pod's containers: restarts on failure, the backoff limit, the deadline, success. */
  private async look(): Promise<void> {
    if (this.status.state !== 'running') return;
    const deadline = this.createdAt.getTime() + (this.manifest.spec?.activeDeadlineSeconds ?? 86_400) * 1000;
    if (Date.now() > deadline) return this.fail('DeadlineExceeded', 'Job was active longer than specified deadline');
    const { stdout } = await this.podman([
      'ps',
      '--all',
      '--format',
      'json',
      '--filter',
      `label=${JOB_LABEL}=${this.spec.name}`,
    ]);
    const listed = JSON.parse(stdout || '[]') as {
      Names: string[];
      State: string;
      ExitCode: number;
      Labels?: Record<string, string>;
    }[];
    const byName = new Map(listed.map((c) => [c.Labels?.['pitwall.container'] ?? '', c]));
    const main = this.pod?.containers ?? [];
    let finished = 0;
    for (const container of main) {
      const seen = byName.get(container.name);
      if (!seen) return this.fail('ContainerMissing', `the ${container.name} container is gone`);
      if (seen.State !== 'exited' && seen.State !== 'stopped') continue;
      const code = seen.ExitCode;
      if (code === 0) {
        this.status.lastExit[container.name] = { code, reason: 'Completed' };
        finished += 1;
        continue;
      }
      // restartPolicy OnFailure: each container restart counts against the Job's backoffLimit.
      this.status.lastExit[container.name] = { code, reason: code === 137 ? 'Killed' : 'Error' };
      this.status.failures += 1;
      if (this.status.failures > (this.manifest.spec?.backoffLimit ?? 6)) {
        this.saveState();
        return this.fail('BackoffLimitExceeded', 'Job has reached the specified backoff limit');
      }
      this.status.restarts[container.name] = (this.status.restarts[container.name] ?? 0) + 1;
      this.saveState();
      await this.podman(['start', this.containerName(container.name)]);
    }
    if (finished === main.length) {
      this.status.state = 'succeeded';
      this.saveState();
      this.unwatch();
    }
  }

  private async fail(reason: string, message: string): Promise<void> {
    if (this.status.state === 'succeeded' || this.status.state === 'failed') return;
    this.status.state = 'failed';
    this.status.reason = `${reason}: ${message}`;
    this.saveState();
    this.unwatch();
    await this.podman(['pod', 'stop', '--time', '5', this.spec.name]).catch(() => undefined);
  }

  private async runToEnd(container: IContainer): Promise<number> {
    try {
      await this.podman(['run', ...this.runArguments(container)]);
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
  private runArguments(container: IContainer): string[] {
    const args = [
      '--name',
      this.containerName(container.name),
      '--pod',
      this.spec.name,
      '--label',
      `${JOB_LABEL}=${this.spec.name}`,
      '--label',
      `pitwall.container=${container.name}`,
      '--pull',
      'never',
      '--user',
      `${container.securityContext?.runAsUser ?? 1000}:${container.securityContext?.runAsUser ?? 1000}`,
      '--cap-drop',
      'ALL',
      '--security-opt',
      'no-new-privileges',
    ];
    if (container.securityContext?.readOnlyRootFilesystem) args.push('--read-only', '--read-only-tmpfs=false');
    const limits = container.resources?.limits ?? {};
    if (limits.cpu) args.push('--cpus', String(Math.min(cpuCores(String(limits.cpu)), cpus().length)));
    if (limits.memory) args.push('--memory', String(Math.min(bytes(String(limits.memory)), totalmem())));
    const logcopy = container.image === this.options.settings.images.logcopy;
    // logcopy reaches the local stores on the host's loopback; the simulator and the agent have the pod's
    // namespace, with no network but their shared loopback.
    if (logcopy) args.push('--network', 'host');
    const env: Record<string, string> = {
      ...(logcopy ? this.options.logcopyEnv : (this.options.podEnv ?? {})),
    };
    for (const variable of container.env ?? []) env[variable.name] = variable.value ?? '';
    for (const [name, value] of Object.entries(env)) args.push('--env', `${name}=${value}`);
    for (const mount of container.volumeMounts ?? []) {
      args.push('--volume', `${this.volume(mount.name)}:${mount.mountPath}${mount.readOnly ? ':ro' : ''}`);
    }
    if (container.command?.length) args.push('--entrypoint', JSON.stringify(container.command));
    args.push(container.image ?? '', ...(container.args ?? []));
    return args;
  }

  private containerName(container: string): string {
    return `${this.spec.name}-${container}`;
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

  private async podman(args: string[]): Promise<{ stdout: string }> {
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

import { join } from 'node:path';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { ContainerEngine, ContainerJobRunnerOptions } from './container-engine.js';
import { hardening, resourceArguments, sizedVolumes, tmpfsVolumeOptions } from './container-limits.js';
import type { Gpu } from './gpu-pool.js';

/** The label that marks a container or pod as a Job's, so a restarted runtime adopts it. */
export const JOB_LABEL = 'pitwall.job';
/** The state folder a Job's pod belongs to (stateTagOf): a runtime sees and adopts only its own. */
export const STATE_LABEL = 'pitwall.state';
/** Which of the manifest's containers a container is. */
export const CONTAINER_LABEL = 'pitwall.container';
/** Where the holder mounts the pod's sized volumes, keeping them mounted for the pod's life. */
export const HOLDER_VOLUMES = '/volumes';

/**
 * How one Job's pod is laid out on podman or docker: its names, labels and volumes, and the run arguments
 * of each of its containers, as the manifest says them with what a kubelet would enforce.
 */
export class PodLayout {
  constructor(
    private readonly engine: ContainerEngine,
    readonly podName: string,
    private readonly stateTag: string,
    private readonly directory: string,
    private readonly manifest: IJob,
    private readonly options: ContainerJobRunnerOptions,
  ) {}

  /** The container that holds the pod's volumes (on Docker also its network namespace). */
  get holder(): string {
    return this.engine === 'podman' ? this.containerName('holder') : this.podName;
  }

  /** `volume create` arguments, one list per sized emptyDir of the pod. */
  volumeCreations(): string[][] {
    return sizedVolumes(this.manifest).map((v) => [
      'volume',
      'create',
      ...this.labels(),
      ...tmpfsVolumeOptions(v.bytes),
      this.volumeName(v.name),
    ]);
  }

  /** The sized emptyDirs' volume names (named for the pod, whose name has its state folder's tag). */
  volumeNames(): string[] {
    return sizedVolumes(this.manifest).map((v) => this.volumeName(v.name));
  }

  /**
   * The holder: sleeps with every sized volume mounted, so none is unmounted (and emptied) between the init
   * steps as the last container using a tmpfs ends; on Docker it is the pod's network namespace too.
   */
  holderArguments(): string[] {
    const mounts = sizedVolumes(this.manifest).flatMap((v) => [
      '--volume',
      `${this.volumeName(v.name)}:${HOLDER_VOLUMES}/${v.name}`,
    ]);
    return [
      ...['run', '--detach', '--name', this.holder],
      ...(this.engine === 'podman' ? ['--pod', this.podName] : ['--network', 'none']),
      ...this.labels(),
      ...['--label', `${CONTAINER_LABEL}=holder`],
      ...hardening('1000', this.options.settings.pidsLimit),
      ...mounts,
      // `sleep` as PID 1 ignores SIGTERM, and the holder keeps nothing that needs a grace.
      ...['--stop-signal', 'SIGKILL'],
      ...['--entrypoint', 'sleep', this.options.settings.images.logcopy, 'infinity'],
    ];
  }

  /**
   * The container as the manifest says, with what a kubelet would enforce: no image pulled, no root, no
   * capabilities, no new privileges, a read-only root where asked, and CPU and memory limits no larger
   * than this machine.
   */
  runArguments(container: IContainer, { main = false, gpu }: { main?: boolean; gpu?: Gpu } = {}): string[] {
    const logcopy = container.image === this.options.settings.images.logcopy;
    const args = [
      '--name',
      this.containerName(container.name),
      ...this.labels(),
      '--label',
      `${CONTAINER_LABEL}=${container.name}`,
      ...hardening(String(container.securityContext?.runAsUser ?? 1000), this.options.settings.pidsLimit),
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
    args.push(...resourceArguments(container));
    const env: Record<string, string> = {
      ...(logcopy ? this.options.logcopyEnv : (this.options.podEnv ?? {})),
    };
    // The simulator and the agent share the Job's GPU; the scripts check that the one given is the one seen.
    if (gpu && main && !logcopy) {
      // Docker before 25 has no CDI: its NVIDIA runtime takes the GPU by UUID.
      if (this.engine === 'docker' && gpu.uuid) args.push('--gpus', `device=${gpu.uuid}`);
      else args.push('--device', gpu.device);
      if (gpu.uuid) env.PITWALL_GPU_UUID = gpu.uuid;
    }
    for (const variable of container.env ?? []) env[variable.name] = variable.value ?? '';
    for (const [name, value] of Object.entries(env)) args.push('--env', `${name}=${value}`);
    const sized = new Set(sizedVolumes(this.manifest).map((v) => v.name));
    for (const mount of container.volumeMounts ?? []) {
      const source = sized.has(mount.name) ? this.volumeName(mount.name) : this.volume(mount.name);
      args.push('--volume', `${source}:${mount.mountPath}${mount.readOnly ? ':ro' : ''}`);
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

  containerName(container: string): string {
    return `${this.podName}-${container}`;
  }

  labels(): string[] {
    return ['--label', `${JOB_LABEL}=${this.podName}`, '--label', `${STATE_LABEL}=${this.stateTag}`];
  }

  /** A volume with no size limit (the projected token): a folder of the Job's. */
  volume(name: string): string {
    return join(this.directory, 'volumes', name);
  }

  /** A sized emptyDir: the engine's tmpfs volume, named for the pod. */
  volumeName(name: string): string {
    return `${this.podName}-${name}`;
  }
}

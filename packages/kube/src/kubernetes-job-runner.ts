import { ApiException, BatchV1Api, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import {
  type ContainerExit,
  type ContainerObservation,
  type JobObservation,
  type JobRunner,
  JobRunnerRejectedError,
  JobRunnerUnavailableError,
  type ListedJob,
  type PodRun,
  type WorkerJobSpec,
} from '@pitwall/domain';
import type { KubeAccess } from './kube-access.js';
import type { ClusterSettings } from './settings.js';
import { buildWorkerJob, LABELS, NODE_LABELS } from './worker-job.js';

interface Apis {
  readonly version: string;
  readonly batch: BatchV1Api;
  readonly core: CoreV1Api;
}

/** Worker Jobs on a Kubernetes cluster (EKS, or any through a kubeconfig) through @kubernetes/client-node. */
export class KubernetesJobRunner implements JobRunner {
  private apis: Apis | undefined;
  /** Nodes' instance and capacity types by name: a node's labels do not change while it lives. */
  private readonly nodes = new Map<string, Pick<PodRun, 'instanceType' | 'capacityType'>>();

  constructor(
    private readonly access: KubeAccess,
    private readonly settings: ClusterSettings,
  ) {}

  async launch(spec: WorkerJobSpec): Promise<'created' | 'exists'> {
    const { batch } = await this.client();
    try {
      await batch.createNamespacedJob({
        namespace: this.settings.namespace,
        body: buildWorkerJob(spec, this.settings) as never,
      });
      return 'created';
    } catch (error) {
      if (statusOf(error) === 409) return 'exists';
      throw translate(error, `create job ${spec.name}`);
    }
  }

  async list(): Promise<readonly ListedJob[]> {
    const { batch } = await this.client();
    const listed: ListedJob[] = [];
    let _continue: string | undefined;
    do {
      let page: Awaited<ReturnType<BatchV1Api['listNamespacedJob']>>;
      try {
        page = await batch.listNamespacedJob({
          namespace: this.settings.namespace,
          labelSelector: `${LABELS.managedBy}=pitwall`,
          limit: 500,
          ...(_continue ? { _continue } : {}),
        });
      } catch (error) {
        throw translate(error, 'list jobs');
      }
      for (const job of page.items) {
        const labels = job.metadata?.labels ?? {};
        const submissionPk = Number(labels[LABELS.submission]);
        const attempt = Number(labels[LABELS.attempt]);
        const created = job.metadata?.creationTimestamp;
        if (!job.metadata?.name || !Number.isSafeInteger(submissionPk) || !Number.isSafeInteger(attempt) || !created)
          continue;
        listed.push({ name: job.metadata.name, submissionPk, attempt, createdAt: new Date(created).toISOString() });
      }
      _continue = page.metadata?._continue || undefined;
    } while (_continue);
    return listed;
  }

  async observe(name: string): Promise<JobObservation> {
    const { batch, core } = await this.client();
    const namespace = this.settings.namespace;
    let job: Awaited<ReturnType<BatchV1Api['readNamespacedJob']>>;
    try {
      job = await batch.readNamespacedJob({ name, namespace });
    } catch (error) {
      if (statusOf(error) === 404) return { name, state: 'missing', containers: [] };
      throw translate(error, `read job ${name}`);
    }
    const pods = await this.pods(core, name);
    const conditions = job.status?.conditions ?? [];
    const condition = (type: string) => conditions.find((c) => c.type === type && c.status === 'True');
    const failed = condition('Failed');
    // Pods whose node was taken away: podFailurePolicy does not count them, and nor does Pitwall.
    const interruptions = pods.filter((p) =>
      p.status?.conditions?.some((c) => c.type === 'DisruptionTarget' && c.status === 'True'),
    ).length;
    const runs = await this.podRuns(core, pods);
    const seen = {
      containers: containerSummary(pods),
      ...(interruptions > 0 ? { interruptions } : {}),
      ...(runs.length > 0 ? { pods: runs } : {}),
    };
    if (condition('Complete')) return { name, state: 'succeeded', ...seen };
    if (failed) {
      const reason = [failed.reason, failed.message].filter(Boolean).join(': ') || 'the job failed';
      return { name, state: 'failed', reason, ...seen };
    }
    const running = pods.some((p) => p.status?.phase === 'Running');
    return { name, state: running ? 'running' : 'pending', ...seen };
  }

  async delete(name: string): Promise<'deleted' | 'absent'> {
    const { batch } = await this.client();
    try {
      // Foreground: the Job goes only once its pods are gone, so no agent outlives its Job.
      await batch.deleteNamespacedJob({ name, namespace: this.settings.namespace, propagationPolicy: 'Foreground' });
      return 'deleted';
    } catch (error) {
      if (statusOf(error) === 404) return 'absent';
      throw translate(error, `delete job ${name}`);
    }
  }

  async logTail(name: string, container: string, maxBytes: number): Promise<string> {
    try {
      const { core } = await this.client();
      const pods = await this.pods(core, name);
      const newest = pods.sort((a, b) => timeOf(b) - timeOf(a))[0]?.metadata?.name;
      if (!newest) return '';
      const log = await core.readNamespacedPodLog({
        name: newest,
        namespace: this.settings.namespace,
        container,
        tailLines: 200,
        limitBytes: maxBytes,
      });
      return typeof log === 'string' ? log.slice(-maxBytes) : '';
    } catch {
      return ''; // the log is a courtesy for the participant; its absence never fails the submission
    }
  }

  /** Each pod's start and end, and its node's instance type and capacity type (read once per node). */
  private async podRuns(core: CoreV1Api, pods: readonly V1Pod[]): Promise<PodRun[]> {
    const runs: PodRun[] = [];
    for (const pod of [...pods].sort((a, b) => timeOf(a) - timeOf(b))) {
      const started = pod.status?.startTime;
      if (!started) continue; // not yet on a node
      const ended = ['Succeeded', 'Failed'].includes(pod.status?.phase ?? '') ? lastFinish(pod) : undefined;
      const node = pod.spec?.nodeName ? await this.nodeOf(core, pod.spec.nodeName) : {};
      runs.push({
        startedAt: new Date(started).toISOString(),
        ...(ended ? { endedAt: ended } : {}),
        ...node,
      });
    }
    return runs;
  }

  private async nodeOf(core: CoreV1Api, name: string): Promise<Pick<PodRun, 'instanceType' | 'capacityType'>> {
    const known = this.nodes.get(name);
    if (known) return known;
    let labels: Record<string, string>;
    try {
      labels = (await core.readNode({ name })).metadata?.labels ?? {};
    } catch (error) {
      if (statusOf(error) === 404) return {}; // the node is gone (a reclaimed spot node): its pod keeps no type
      throw translate(error, `read node ${name}`);
    }
    const type = labels['node.kubernetes.io/instance-type'];
    const capacity = labels[NODE_LABELS.capacityType];
    const node = {
      ...(type ? { instanceType: type } : {}),
      ...(capacity ? { capacityType: capacity === 'SPOT' ? ('spot' as const) : ('on-demand' as const) } : {}),
    };
    this.nodes.set(name, node);
    return node;
  }

  private async pods(core: CoreV1Api, jobName: string): Promise<V1Pod[]> {
    try {
      const list = await core.listNamespacedPod({
        namespace: this.settings.namespace,
        labelSelector: `job-name=${jobName}`,
      });
      return list.items;
    } catch (error) {
      throw translate(error, `list pods of ${jobName}`);
    }
  }

  /** API clients for the current access; rebuilt when it changes (a renewed token). */
  private async client(): Promise<Apis> {
    let access: Awaited<ReturnType<KubeAccess>>;
    try {
      access = await this.access();
    } catch (error) {
      if (error instanceof JobRunnerRejectedError) throw error; // a kubeconfig that cannot work: not retried
      throw new JobRunnerUnavailableError(`cannot reach the cluster's API: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (this.apis?.version === access.version) return this.apis;
    this.apis = {
      version: access.version,
      batch: access.config.makeApiClient(BatchV1Api),
      core: access.config.makeApiClient(CoreV1Api),
    };
    return this.apis;
  }
}

function statusOf(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

/** Kubernetes errors as the domain's named errors, which the state machine retries or catches. */
function translate(error: unknown, action: string): Error {
  const status = statusOf(error);
  const detail = error instanceof ApiException ? statusMessage(error.body) : (error as Error).message;
  if (status === 401 || status === 403) {
    return new JobRunnerRejectedError(
      `the cluster refused to ${action} (${status}: ${detail}); check the launcher role's EKS access entry and its Role in the namespace`,
      { cause: error },
    );
  }
  if (status !== undefined && status < 500 && status !== 429) {
    return new JobRunnerRejectedError(`the cluster refused to ${action} (${status}: ${detail})`, { cause: error });
  }
  return new JobRunnerUnavailableError(`could not ${action}: ${status ?? 'no answer'}${detail ? ` (${detail})` : ''}`, {
    cause: error,
  });
}

function statusMessage(body: unknown): string {
  try {
    const parsed = typeof body === 'string' ? JSON.parse(body) : body;
    return typeof parsed?.message === 'string' ? parsed.message : String(body ?? '');
  } catch {
    return String(body ?? '').slice(0, 300);
  }
}

/** When the pod's last container ended. */
function lastFinish(pod: V1Pod): string | undefined {
  const times = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]
    .map((s) => s.state?.terminated?.finishedAt)
    .filter((t): t is Date => t !== undefined)
    .map((t) => new Date(t).getTime());
  return times.length > 0 ? new Date(Math.max(...times)).toISOString() : undefined;
}

function timeOf(pod: V1Pod): number {
  const created = pod.metadata?.creationTimestamp;
  return created ? new Date(created).getTime() : 0;
}

/** Restarts and the last termination of each container, over all the Job's pods. */
function containerSummary(pods: readonly V1Pod[]): ContainerObservation[] {
  type Entry = {
    restarts: number;
    lastExitCode?: number;
    lastReason?: string;
    waiting?: ContainerObservation['waiting'];
    exits: ContainerExit[];
  };
  const byName = new Map<string, Entry>();
  for (const pod of [...pods].sort((a, b) => timeOf(a) - timeOf(b))) {
    const since = pod.metadata?.creationTimestamp ? new Date(pod.metadata.creationTimestamp).toISOString() : undefined;
    for (const status of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
      const entry = byName.get(status.name) ?? { restarts: 0, exits: [] };
      entry.restarts += status.restartCount ?? 0;
      // The kubelet keeps two ends of a container per pod: the one before its last restart, and its own.
      for (const ended of [status.lastState?.terminated, status.state?.terminated]) {
        if (ended?.finishedAt)
          entry.exits.push({ exitCode: ended.exitCode, at: new Date(ended.finishedAt).toISOString() });
      }
      const terminated = status.state?.terminated ?? status.lastState?.terminated;
      if (terminated) {
        entry.lastExitCode = terminated.exitCode;
        if (terminated.reason) entry.lastReason = terminated.reason;
      }
      // Pods come oldest first: what the newest pod waits for is what counts.
      const waiting = status.state?.waiting;
      if (waiting?.reason && since) {
        entry.waiting = { reason: waiting.reason, since, ...(waiting.message ? { message: waiting.message } : {}) };
      } else delete entry.waiting;
      byName.set(status.name, entry);
    }
  }
  return [...byName.entries()].map(([name, { exits, ...entry }]) => ({
    name,
    ...entry,
    ...(exits.length > 0 ? { exits } : {}),
  }));
}

import { DNS_1123_LABEL, LABEL_VALUE } from './names.js';

/** A manifest the Kubernetes API server would refuse. */
export class InvalidManifestError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidManifestError';
  }
}

const DNS_1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
/** Kinds whose names must be DNS-1123 labels (63 characters) rather than subdomains. */
const LABEL_NAMED = new Set(['Job', 'Namespace', 'Service']);

interface KubernetesObject {
  apiVersion?: unknown;
  kind?: unknown;
  metadata?: { name?: unknown; labels?: Record<string, unknown> };
  spec?: {
    podFailurePolicy?: unknown;
    podReplacementPolicy?: unknown;
    template?: {
      metadata?: { labels?: Record<string, unknown> };
      spec?: {
        restartPolicy?: unknown;
        initContainers?: { name?: unknown; restartPolicy?: unknown }[];
        containers?: { name?: unknown; restartPolicy?: unknown }[];
      };
    };
  };
}

/**
 * Validates a Kubernetes object against the official OpenAPI schema (the kubernetes-models package for
 * its apiVersion and kind) and the name and label rules the API server enforces beyond the schema.
 */
export async function validateManifest(manifest: unknown): Promise<void> {
  const object = manifest as KubernetesObject;
  const { apiVersion, kind } = object ?? {};
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') {
    throw new InvalidManifestError('a manifest needs apiVersion and kind');
  }
  const group = apiVersion.includes('/') ? apiVersion : `v1`;
  let model: new (data: unknown) => { validate(): void };
  try {
    const module = (await import(`kubernetes-models/${group}/${kind}`)) as Record<string, typeof model>;
    model = module[kind] as typeof model;
  } catch (error) {
    throw new InvalidManifestError(`unknown kind ${apiVersion} ${kind}`, { cause: error });
  }
  try {
    new model(manifest).validate();
  } catch (error) {
    throw new InvalidManifestError(`${kind}: ${(error as Error).message}`, { cause: error });
  }
  const name = object.metadata?.name;
  if (typeof name !== 'string') throw new InvalidManifestError(`${kind}: metadata.name is required`);
  const nameOk = LABEL_NAMED.has(kind)
    ? name.length <= 63 && DNS_1123_LABEL.test(name)
    : name.length <= 253 && DNS_1123_SUBDOMAIN.test(name);
  if (!nameOk) throw new InvalidManifestError(`${kind}: metadata.name "${name}" is not a valid DNS-1123 name`);
  if (kind === 'Job') jobRules(object, name);
  for (const labels of [object.metadata?.labels, object.spec?.template?.metadata?.labels]) {
    for (const [key, value] of Object.entries(labels ?? {})) {
      if (!LABEL_KEY.test(key)) throw new InvalidManifestError(`${kind} ${name}: label key "${key}" is invalid`);
      if (typeof value !== 'string' || value.length > 63 || !LABEL_VALUE.test(value)) {
        throw new InvalidManifestError(`${kind} ${name}: label ${key}="${String(value)}" is invalid`);
      }
    }
  }
}

/** The Job rules the API server checks beyond the schema (batch validation), for what Pitwall's Jobs use. */
function jobRules(object: KubernetesObject, name: string): void {
  const spec = object.spec;
  const pod = spec?.template?.spec;
  const refuse = (why: string) => {
    throw new InvalidManifestError(`Job ${name}: ${why}`);
  };
  if (spec?.podFailurePolicy !== undefined) {
    if (pod?.restartPolicy !== 'Never') refuse('spec.podFailurePolicy is only supported with restartPolicy Never');
    if (spec.podReplacementPolicy !== undefined && spec.podReplacementPolicy !== 'Failed') {
      refuse('spec.podReplacementPolicy must be Failed when spec.podFailurePolicy is set');
    }
  }
  for (const container of pod?.initContainers ?? []) {
    if (container.restartPolicy !== undefined && container.restartPolicy !== 'Always') {
      refuse(`init container ${String(container.name)}: restartPolicy may only be Always`);
    }
  }
  for (const container of pod?.containers ?? []) {
    if (container.restartPolicy !== undefined)
      refuse(`container ${String(container.name)}: restartPolicy is for init containers`);
  }
}

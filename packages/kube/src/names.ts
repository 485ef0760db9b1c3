import { HASH_LENGTH, shortHash, slug } from '@pitwall/domain';

/** Kubernetes DNS-1123 label: lower-case alphanumerics and '-', alphanumeric at both ends, at most 63. */
export const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS_1123_LABEL_MAX = 63;
/** Kubernetes label value: empty, or alphanumerics with '-', '_', '.' inside, at most 63. */
export const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Any string as a valid Kubernetes label value, with a hash suffix when it had to be changed. */
export function labelValue(raw: string): string {
  if (raw.length <= DNS_1123_LABEL_MAX && LABEL_VALUE.test(raw)) return raw;
  const hash = shortHash([raw]);
  const base = slug(raw)
    .slice(0, DNS_1123_LABEL_MAX - HASH_LENGTH - 1)
    .replace(/-+$/, '');
  return base ? `${base}-${hash}` : hash;
}

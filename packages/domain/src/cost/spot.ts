import type { CapacityType } from './prices.js';

/**
 * Where a track's workers run (the phase's `capacity`): on demand, spot, or spot first (on demand where spot
 * cannot be had, or after too many interruptions).
 */
export const CAPACITY_CHOICES = ['on-demand', 'spot', 'spot-first'] as const;
export type CapacityChoice = (typeof CAPACITY_CHOICES)[number];

/** A track's choice of capacity and when a spot-first worker gives up on spot (the phase's settings). */
export interface CapacityPolicy {
  readonly capacity: CapacityChoice;
  /** A spot-first worker interrupted more often than this moves to on demand. */
  readonly maxInterruptions: number;
  /** A spot-first worker that loses its node with less than this left before its deadline moves at once. */
  readonly onDemandWithinSeconds?: number;
}

/**
 * The capacity a worker's next pod asks for: a spot track stays on spot, a spot-first one moves to on demand
 * once its worker has been interrupted more than `maxInterruptions` times, or at all with less than
 * `onDemandWithinSeconds` of its time left (each loss costs the route in flight and a new node's start,
 * which a worker near its deadline cannot afford twice).
 */
export function capacityAfter(
  policy: CapacityPolicy,
  interruptions: number,
  secondsLeft = Number.POSITIVE_INFINITY,
): CapacityType {
  if (policy.capacity === 'on-demand') return 'on-demand';
  if (policy.capacity === 'spot') return 'spot';
  if (interruptions > policy.maxInterruptions) return 'on-demand';
  const nearDeadline = policy.onDemandWithinSeconds !== undefined && secondsLeft < policy.onDemandWithinSeconds;
  return interruptions > 0 && nearDeadline ? 'on-demand' : 'spot';
}

/**
 * The resume rule after a lost pod: the new pod restores the checkpoint logcopy last uploaded and starts with
 * the first route not in it, so the routes done before are never driven again and the one in flight is.
 */
export function nextRouteAfterLoss(routesInUploadedCheckpoint: number): number {
  return routesInUploadedCheckpoint;
}

import type { CapacityType } from './prices.js';

/**
 * Where a track's workers run (the cluster settings' capacityTypes): on demand, spot, or spot first (on demand
 * where spot cannot be had, or after too many interruptions).
 */
export const CAPACITY_CHOICES = ['on-demand', 'spot', 'spot-first'] as const;
export type CapacityChoice = (typeof CAPACITY_CHOICES)[number];

/**
 * The capacity a worker's next pod asks for: a spot track stays on spot, a spot-first one moves to on demand
 * once its worker has been interrupted more than `maxInterruptions` times (each loss costs the route in
 * flight and a new node's start).
 */
export function capacityAfter(choice: CapacityChoice, interruptions: number, maxInterruptions: number): CapacityType {
  if (choice === 'on-demand') return 'on-demand';
  if (choice === 'spot-first' && interruptions > maxInterruptions) return 'on-demand';
  return 'spot';
}

/**
 * The resume rule after a lost pod: the new pod restores the checkpoint logcopy last uploaded and starts with
 * the first route not in it, so the routes done before are never driven again and the one in flight is.
 */
export function nextRouteAfterLoss(routesInUploadedCheckpoint: number): number {
  return routesInUploadedCheckpoint;
}

/** What GPU time costs: a stage's price table, per instance type, in US dollars an hour. */

export const CAPACITY_TYPES = ['on-demand', 'spot'] as const;
export type CapacityType = (typeof CAPACITY_TYPES)[number];

export interface InstancePrice {
  readonly onDemand: number;
  readonly spot: number;
}
export type PriceTable = Readonly<Record<string, InstancePrice>>;

/** One pod's share of an evaluation: the GPU-seconds it held a node, and what node. */
export interface PodUsage {
  readonly gpuSeconds: number;
  readonly instanceType: string;
  readonly capacityType: CapacityType;
}

export function hourlyPrice(prices: PriceTable, instanceType: string, capacity: CapacityType): number | undefined {
  const price = prices[instanceType];
  return price && (capacity === 'spot' ? price.spot : price.onDemand);
}

/** What the pods cost at the table's prices; none when a pod ran on an instance type the table does not price. */
export function costOf(pods: readonly PodUsage[], prices: PriceTable): number | undefined {
  let usd = 0;
  for (const pod of pods) {
    const price = hourlyPrice(prices, pod.instanceType, pod.capacityType);
    if (price === undefined) return undefined;
    usd += (pod.gpuSeconds / 3600) * price;
  }
  return usd;
}

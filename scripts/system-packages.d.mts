// Types of system-packages.mjs, which is plain Node (it runs before anything is installed).
export interface SystemPackage {
  readonly commands: readonly string[];
  readonly packages: readonly string[];
  readonly for: string;
}
export type InstallPlan =
  | { readonly action: 'none' }
  | { readonly action: 'install'; readonly prefix: readonly string[]; readonly install: readonly string[] }
  | { readonly action: 'stop'; readonly message: string };
export const SYSTEM_PACKAGES: readonly SystemPackage[];
export function missingPackages(has: (command: string) => boolean): string[];
export function installPlan(
  missing: readonly string[],
  who: { readonly root: boolean; readonly sudo: boolean },
): InstallPlan;
export function ensureSystemPackages(
  run: (command: string, args: readonly string[], options: object) => number,
): boolean;

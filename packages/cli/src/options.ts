import { InvalidArgumentError } from 'commander';

/** A commander option parser for whole numbers not below `min`. */
export function integerOption(flag: string, min: number): (value: string) => number {
  return (value) => {
    const parsed = /^-?[0-9]+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(parsed) || parsed < min) {
      throw new InvalidArgumentError(`${flag} must be a whole number of at least ${min}, got "${value}"`);
    }
    return parsed;
  };
}

/** A commander option parser for a date (ISO 8601, e.g. 2026-12-01). */
export function dateOption(flag: string): (value: string) => Date {
  return (value) => {
    const at = new Date(value);
    if (Number.isNaN(at.getTime())) throw new InvalidArgumentError(`${flag} must be a date (ISO 8601), got ${value}`);
    return at;
  };
}
/** Every operator command reads the running local stack, or a deployed stage with this option. */
export const STAGE_OPTION = [
  '--stage <stage>',
  'a deployed stage (stages/<stage>.yml) instead of the running local stack',
] as const;

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

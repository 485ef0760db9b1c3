import type { Clock } from '../control/ports.js';

/** A clock the test moves, so that deadlines and grace periods pass without waiting. */
export class ManualClock implements Clock {
  constructor(public time = Date.parse('2026-06-01T12:00:00Z')) {}

  now(): Date {
    return new Date(this.time);
  }

  advance(seconds: number): void {
    this.time += seconds * 1000;
  }
}

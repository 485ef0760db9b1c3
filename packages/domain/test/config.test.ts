import { describe, expect, it } from '@jest/globals';
import { parseChallengeConfig } from '../src/index.js';

const phase = { track: 'SENSORS', routesKey: 'routes/r.xml', workers: 2, timeLimitSeconds: 600 };
const config = (overrides: Record<string, unknown>) => ({
  challengePk: 1,
  phases: { 1: phase },
  allowedImages: ['^registry\\.example/'],
  ...overrides,
});

describe('the challenge configuration', () => {
  it('is strict: an unknown key is an error, not ignored (a misspelt gate would be off)', () => {
    expect(() => parseChallengeConfig(config({ phases: { 1: { ...phase, requiresQualifer: 'SENSORS' } } }))).toThrow(
      /requiresQualifer/,
    );
    expect(() => parseChallengeConfig(config({ pol: {} }))).toThrow(/pol/);
  });

  it('checks that a gate names a track some qualifier grants, and that a grant names a configured track', () => {
    expect(() => parseChallengeConfig(config({ phases: { 1: { ...phase, requiresQualifier: 'NOPE' } } }))).toThrow(
      "no configured phase's qualifier grants NOPE",
    );
    const qualifier = { ...phase, track: 'SENSORS_QUALIFIER', qualifier: { grants: 'MAP', thresholds: {} } };
    expect(() => parseChallengeConfig(config({ phases: { 1: phase, 2: qualifier } }))).toThrow(
      'names MAP, the track of no configured phase',
    );
    const fine = { ...qualifier, qualifier: { grants: 'SENSORS', thresholds: { 'Driving score': 50 } } };
    expect(
      parseChallengeConfig(config({ phases: { 1: { ...phase, requiresQualifier: 'SENSORS' }, 2: fine } })).phases[2]
        ?.qualifier?.grants,
    ).toBe('SENSORS');
  });

  it('wants image patterns anchored', () => {
    expect(() => parseChallengeConfig(config({ allowedImages: ['registry\\.example/'] }))).toThrow('must be anchored');
  });
});

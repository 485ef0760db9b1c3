import { describe, expect, it } from '@jest/globals';
import { slug, workerJobName } from '@pitwall/domain';
import fc from 'fast-check';
import { DNS_1123_LABEL, LABEL_VALUE, labelValue } from '../src/index.js';

function expectValidLabel(name: string): void {
  expect(name.length).toBeLessThanOrEqual(63);
  expect(name).toMatch(DNS_1123_LABEL);
}

describe('workerJobName', () => {
  it('is readable for ordinary input', () => {
    const name = workerJobName({ team: 'Team Alpha', track: 'SENSORS', submissionId: 1351, worker: 2 });
    expect(name).toMatch(/^team-alpha-sensors-1351-w2-[a-z2-7]{10}$/);
    expectValidLabel(name);
  });

  it('is deterministic', () => {
    const input = { team: 'Zoë & Co', track: 'MAP', submissionId: '99', worker: 0 };
    expect(workerJobName(input)).toBe(workerJobName({ ...input }));
  });

  it.each([
    ['unicode', 'Équipe Ünïcødé 東京チーム'],
    ['spaces and question marks', '  why? not?  '],
    ['empty', ''],
    ['only symbols', '?!@#$%^&*()'],
    ['500 characters', 'a'.repeat(500)],
    ['dots and underscores', 'team_name.v2'],
    ['emoji', '🚗💨🏁'],
    ['leading digits and dashes', '---123---'],
  ])('gives a valid label for a team name with %s', (_case, team) => {
    expectValidLabel(workerJobName({ team, track: 'SENSORS_QUALIFIER', submissionId: 123456789, worker: 15 }));
  });

  it('falls back to defaults for empty names but stays unique', () => {
    const a = workerJobName({ team: '', track: '', submissionId: 1, worker: 0 });
    const b = workerJobName({ team: '?', track: '', submissionId: 1, worker: 0 });
    expect(a).toMatch(/^team-track-1-w0-/);
    expect(a).not.toBe(b);
  });

  it('tells apart teams whose names fold to the same slug', () => {
    const a = workerJobName({ team: 'Team A', track: 'MAP', submissionId: 1, worker: 0 });
    const b = workerJobName({ team: 'team-a', track: 'MAP', submissionId: 1, worker: 0 });
    expect(a).not.toBe(b);
    expect(a.slice(0, -11)).toBe(b.slice(0, -11));
  });

  it('gives later attempts their own names', () => {
    const first = workerJobName({ team: 't', track: 'MAP', submissionId: 1, worker: 0 });
    const second = workerJobName({ team: 't', track: 'MAP', submissionId: 1, worker: 0, attempt: 2 });
    expect(second).toMatch(/-1-w0-a2-/);
    expect(first).not.toBe(second);
  });

  it('gives a worker moved to on-demand capacity a Job name of its own, its first one unchanged', () => {
    const input = { team: 't', track: 'MAP', submissionId: 1, worker: 0, attempt: 2 };
    const moved = workerJobName({ ...input, onDemand: true });
    expect(moved).toMatch(/-1-w0-a2-od-[a-z2-7]{10}$/);
    expect(workerJobName({ ...input, onDemand: false })).toBe(workerJobName(input));
    expect(moved).not.toBe(workerJobName(input));
    expectValidLabel(workerJobName({ ...input, team: 'x'.repeat(500), onDemand: true }));
  });

  it('keeps the submission id and worker whole even for very long team names', () => {
    const name = workerJobName({ team: 'x'.repeat(500), track: 'y'.repeat(200), submissionId: 987654321, worker: 31 });
    expect(name).toContain('-987654321-w31-');
    expectValidLabel(name);
  });

  it('rejects a negative or fractional worker index', () => {
    expect(() => workerJobName({ team: 't', track: 'm', submissionId: 1, worker: -1 })).toThrow(RangeError);
    expect(() => workerJobName({ team: 't', track: 'm', submissionId: 1, worker: 1.5 })).toThrow(RangeError);
  });

  const anyInput = fc.record({
    team: fc.string({ unit: 'binary', maxLength: 600 }),
    track: fc.string({ unit: 'grapheme', maxLength: 100 }),
    submissionId: fc.oneof(fc.integer({ min: 1 }), fc.string({ maxLength: 300 })),
    worker: fc.nat({ max: 10_000 }),
    attempt: fc.integer({ min: 1, max: 50 }),
  });

  it('is a valid DNS-1123 label of at most 63 characters for any input (property)', () => {
    fc.assert(
      fc.property(anyInput, (input) => expectValidLabel(workerJobName(input))),
      { numRuns: 2000 },
    );
  });

  it('gives different names to different inputs (property)', () => {
    fc.assert(
      fc.property(anyInput, anyInput, (a, b) => {
        fc.pre(JSON.stringify(a) !== JSON.stringify(b));
        expect(workerJobName(a)).not.toBe(workerJobName(b));
      }),
      { numRuns: 2000 },
    );
  });

  it('never collides across the workers and attempts of one submission (property)', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 1, max: 64 }), (team, workers) => {
        const names = new Set<string>();
        for (let worker = 0; worker < workers; worker++) {
          for (const attempt of [1, 2])
            names.add(workerJobName({ team, track: 'SENSORS', submissionId: 5, worker, attempt }));
        }
        expect(names.size).toBe(workers * 2);
      }),
      { numRuns: 100 },
    );
  });
});

describe('labelValue', () => {
  it('keeps values that are already valid', () => {
    expect(labelValue('Team_A.v2')).toBe('Team_A.v2');
    expect(labelValue('')).toBe('');
  });

  it('repairs any string into a valid label value (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (raw) => {
        const value = labelValue(raw);
        expect(value.length).toBeLessThanOrEqual(63);
        expect(value).toMatch(LABEL_VALUE);
      }),
    );
  });
});

describe('slug', () => {
  it('folds accents and collapses everything else to single dashes', () => {
    expect(slug('  Équipe -- Zoë!! ')).toBe('equipe-zoe');
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import {
  CARLA_LEADERBOARD_LABELS,
  evalAiResultFields,
  type MergedCheckpoint,
  mergeCheckpoints,
  parseCheckpoint,
} from '../../src/index.js';

const load = (name: string) => parseCheckpoint(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
const complete: MergedCheckpoint = mergeCheckpoints([load('two-workers-0.json'), load('two-workers-1.json')]);
const incomplete: MergedCheckpoint = mergeCheckpoints([load('incomplete-0.json'), load('incomplete-1.json')]);

describe('evalAiResultFields', () => {
  it('sends result as a JSON string with the split and the 15 CARLA labels', () => {
    const fields = evalAiResultFields(complete);
    expect(typeof fields.result).toBe('string');
    const [entry, ...rest] = JSON.parse(fields.result);
    expect(rest).toEqual([]);
    expect(entry.split).toBe('leaderboard');
    expect(entry.show_to_participant).toBe(true);
    expect(Object.keys(entry.accuracies)).toEqual(Object.keys(CARLA_LEADERBOARD_LABELS));
    expect(entry.accuracies['Driving score']).toBe(50.871605);
    expect(entry.accuracies['Route completion']).toBe(64.405864);
    expect(entry.accuracies['Collisions vehicles']).toBe(0.19);
    expect(entry.accuracies['Off-road infractions']).toBe(0.012);
    for (const value of Object.values(entry.accuracies)) expect(typeof value).toBe('number');
  });

  it('reports zeros until every route is done', () => {
    const [entry] = JSON.parse(evalAiResultFields(incomplete).result);
    expect(Object.values(entry.accuracies).every((v) => v === 0)).toBe(true);
  });

  it('takes the split and the labels from configuration', () => {
    const fields = evalAiResultFields(complete, {
      leaderboard: {
        split: 'test_split',
        showToParticipant: false,
        labels: { DS: 'score_composed', RC: 'score_route' },
      },
    });
    expect(JSON.parse(fields.result)).toEqual([
      { split: 'test_split', show_to_participant: false, accuracies: { DS: 50.871605, RC: 64.405864 } },
    ]);
  });

  it('never sends null: stderr and metadata are strings', () => {
    const fields = evalAiResultFields(complete);
    expect(fields.stderr).toBe('');
    expect(JSON.parse(fields.metadata)).toEqual({ entry_status: 'Crashed', eligible: false, progress: [4, 4] });
    const withErrors = evalAiResultFields(incomplete, { errors: ['worker 1: crashed'], metadata: { attempt: 2 } });
    expect(withErrors.stderr).toBe('worker 1: crashed');
    expect(JSON.parse(withErrors.metadata).attempt).toBe(2);
  });

  it('tells the participant the sensors, the progress and each route with its time ratio', () => {
    const stdout = evalAiResultFields(complete).stdout;
    expect(stdout).toContain('Sensors: carla_camera, carla_imu, carla_gnss');
    expect(stdout).toContain('Completed 4 out of 4 routes');
    // 95.25 s of game time in 380.5 s: ratio 0.250, 5.01 FPS at 20 Hz
    expect(stdout).toMatch(/^0 +RouteScenario_0_rep0 +0\.250 +5\.01 +Perfect$/m);
    expect(stdout).toMatch(/^3 +RouteScenario_3_rep0 +0\.201 +4\.01 +Failed - Simulation crashed$/m);
    expect(evalAiResultFields(incomplete).stdout).toContain('Completed 2 out of 3 routes');
  });
});

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { STAGE_REFERENCE_FILE, stageReference } from '../src/stage-reference.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('the stage file reference', () => {
  it('is what the schemas say today (pnpm stage:reference writes it)', () => {
    expect(readFileSync(`${root}${STAGE_REFERENCE_FILE}`, 'utf8')).toBe(stageReference());
  });

  it('gives each key its type, whether it must be set, its default and its unit', () => {
    const lines = stageReference().split('\n');
    const row = (key: string) => lines.find((line) => line.startsWith(`| \`${key}\` |`));
    expect(row('evalai.requestsPerMinute')).toBe(
      '| `evalai.requestsPerMinute` | integer (1…60) |  | `50` | per minute |',
    );
    expect(row('challenge.phases.<key>.timeLimitSeconds')).toMatch(/\| yes \| {2}\| s \|$/);
    expect(row('cluster.settings.logcopyCredentials.secretName')).toMatch(/\| one of \|/);
    expect(row('machine.executor')).toContain('`"podman"`');
    expect(row('challenge.prices.<key>.spot')).toMatch(/USD per GPU-hour \|$/);
  });
});

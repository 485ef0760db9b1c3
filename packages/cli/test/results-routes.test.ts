import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { runCli } from '../src/program.js';
import { captureIo } from './capture-io.js';

const fixtures = fileURLToPath(new URL('../../domain/test/results/fixtures/', import.meta.url));
const fixture = (name: string) => join(fixtures, name);
const scratch = mkdtempSync(join(tmpdir(), 'pitwall-cli-'));

describe('pitwall results merge', () => {
  it('writes the same file as the official merge', async () => {
    const io = captureIo();
    const out = join(scratch, 'merged.json');
    expect(
      await runCli(
        ['results', 'merge', '--out', out, fixture('two-workers-1.json'), fixture('two-workers-0.json')],
        io,
      ),
    ).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(fixture('two-workers.merged.json'), 'utf8'));
    expect(io.stdout()).toContain('4 of 4 routes from 2 file(s), entry status Crashed, driving score 50.871605');
  });

  it('exits 2 naming the file and the place of a bad checkpoint', async () => {
    const bad = join(scratch, 'bad.json');
    const doc = JSON.parse(readFileSync(fixture('single-0.json'), 'utf8'));
    doc._checkpoint.records[0].scores.score_penalty = 7;
    writeFileSync(bad, JSON.stringify(doc));
    const io = captureIo();
    expect(await runCli(['results', 'merge', '--out', join(scratch, 'x.json'), bad], io)).toBe(2);
    expect(io.stderr()).toBe(
      `pitwall: ${bad}: checkpoint rejected: _checkpoint.records[0].scores.score_penalty: must be between 0 and 1\n`,
    );
  });

  it('exits 2 when the files cannot be merged', async () => {
    const io = captureIo();
    const single = fixture('single-0.json');
    expect(await runCli(['results', 'merge', '--out', join(scratch, 'y.json'), single, single], io)).toBe(2);
    expect(io.stderr()).toContain('has more than one record');
  });

  it('exits 2 for a missing file', async () => {
    const io = captureIo();
    expect(await runCli(['results', 'merge', '--out', join(scratch, 'z.json'), join(scratch, 'nope.json')], io)).toBe(
      2,
    );
    expect(io.stderr()).toContain('no such file');
  });
});

describe('pitwall results evalai', () => {
  it('prints the PUT body with result as a JSON string', async () => {
    const io = captureIo();
    const args = [
      'results',
      'evalai',
      fixture('two-workers.merged.json'),
      '--split',
      'test_split',
      '--submission',
      '9',
      '--phase',
      '3',
    ];
    expect(await runCli(args, io)).toBe(0);
    const body = JSON.parse(io.stdout());
    expect(body).toMatchObject({
      challenge_phase: 3,
      submission: 9,
      submission_status: 'FINISHED',
      stderr: '',
      environment_log: '',
    });
    const [entry] = JSON.parse(body.result);
    expect(entry.split).toBe('test_split');
    expect(entry.accuracies['Driving score']).toBe(50.871605);
  });

  it('marks incomplete results as partially evaluated', async () => {
    const io = captureIo();
    expect(await runCli(['results', 'evalai', fixture('incomplete.merged.json')], io)).toBe(0);
    expect(JSON.parse(io.stdout()).submission_status).toBe('PARTIALLY_EVALUATED');
    expect(io.stderr()).toContain('update_partially_evaluated_submission');
  });
});

describe('pitwall routes plan', () => {
  it('plans a bundled route set by name', async () => {
    const io = captureIo();
    expect(
      await runCli(['routes', 'plan', '--routes', 'validation', '--workers', '4', '--strategy', 'contiguous'], io),
    ).toBe(0);
    const plan = JSON.parse(io.stdout());
    expect(plan.workerCount).toBe(4);
    expect(plan.workers.map((w: { routesSubset: string }) => w.routesSubset)).toEqual(['0-4', '5-9', '10-14', '15-19']);
  });

  it('rejects an unknown strategy and a bad worker count with exit 2', async () => {
    expect(
      await runCli(['routes', 'plan', '--routes', 'validation', '--workers', '4', '--strategy', 'random'], captureIo()),
    ).toBe(2);
    expect(await runCli(['routes', 'plan', '--routes', 'validation', '--workers', '0'], captureIo())).toBe(2);
  });

  it('explains what is wrong with a bad route file', async () => {
    const xml = join(scratch, 'routes.xml');
    writeFileSync(xml, '<routes><route id="x"/></routes>');
    const io = captureIo();
    expect(await runCli(['routes', 'plan', '--routes', xml, '--workers', '2'], io)).toBe(2);
    expect(io.stderr()).toContain('has id "x", not a number');
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { DNS_1123_LABEL } from '@pitwall/kube';
import { leaderboardTable } from '../src/leaderboard-view.js';
import { runCli } from '../src/program.js';
import { captureIo } from './capture-io.js';

describe('pitwall CLI', () => {
  it('lists its commands under --help and exits 0', async () => {
    const io = captureIo();
    expect(await runCli(['--help'], io)).toBe(0);
    for (const command of [
      'demo',
      'local',
      'submit',
      'cancel',
      'list',
      'show',
      'tour',
      'message',
      'names',
      'lifecycle',
      'routes',
      'results',
    ]) {
      expect(io.stdout()).toContain(command);
    }
  });

  it('says its version with --version and exits 0', async () => {
    const io = captureIo();
    expect(await runCli(['--version'], io)).toBe(0);
    expect(io.stdout()).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('exits 2 on an unknown command', async () => {
    const io = captureIo();
    expect(await runCli(['frobnicate'], io)).toBe(2);
    expect(io.stderr()).toContain("unknown command 'frobnicate'");
  });

  it('reports a failure underneath in one line, without a stack trace', async () => {
    const io = captureIo();
    const partial = join(mkdtempSync(join(tmpdir(), 'pitwall-cli-')), 'worker-0.json');
    writeFileSync(partial, '{}');
    expect(await runCli(['results', 'merge', '--out', '/proc/no-such-folder/merged.json', partial], io)).toBe(1);
    expect(io.stderr()).toMatch(
      /^pitwall: ENOENT: no such file or directory, open '\/proc\/no-such-folder\/merged.json' \(PITWALL_DEBUG=1 prints where it came from\)\n$/,
    );
    expect(io.stderr()).not.toContain('    at ');
  });

  it('gives equal Driving scores one place on the board', () => {
    const entry = (submissionPk: number, score: number) => ({
      submissionPk,
      teamName: `team ${submissionPk}`,
      values: { 'Driving score': score, 'Route completion': 90, 'Infraction penalty': 0.5 },
    });
    const places = leaderboardTable([entry(1, 80), entry(2, 70), entry(3, 70), entry(4, 60)])
      .split('\n')
      .filter((line) => /team \d/.test(line))
      .map((line) => Number(line.split('│')[1]?.trim()));
    expect(places).toEqual([1, 2, 2, 4]);
  });

  it('parses a message given on stdin', async () => {
    const io = captureIo('{"challenge_pk":"1","phase_pk":"2","submission_pk":3}');
    expect(await runCli(['message', 'parse'], io)).toBe(0);
    expect(JSON.parse(io.stdout())).toEqual({ challengePk: 1, phasePk: 2, submissionPk: 3, extra: {} });
  });

  it('reports an invalid message with the field and exits 2', async () => {
    const io = captureIo();
    expect(await runCli(['message', 'parse', '{"challenge_pk":1,"phase_pk":2}'], io)).toBe(2);
    expect(io.stderr()).toBe('pitwall: invalid submission message: submission_pk: is required\n');
  });

  it('prints a valid Job name for a hostile team name', async () => {
    const io = captureIo();
    const args = ['names', 'job', '--team', '?? 東京 ??', '--track', 'SENSORS', '--submission', '12', '--worker', '3'];
    expect(await runCli(args, io)).toBe(0);
    const name = io.stdout().trim();
    expect(name).toMatch(DNS_1123_LABEL);
    expect(name).toContain('-12-w3-');
  });

  it('rejects a negative worker index with exit 2', async () => {
    const io = captureIo();
    const args = ['names', 'job', '--team', 't', '--track', 'm', '--submission', '1', '--worker', '-1'];
    expect(await runCli(args, io)).toBe(2);
    expect(io.stderr()).toContain('--worker must be a whole number of at least 0');
  });

  it('prints the lifecycle with the EvalAI method of each status', async () => {
    const io = captureIo();
    expect(await runCli(['lifecycle'], io)).toBe(0);
    expect(io.stdout()).toMatch(/^running\s+EvalAI: PATCH running/m);
    expect(io.stdout()).toMatch(/^cancelled\s+terminal\s+EvalAI: PUT cancelled/m);
  });

  it('runs the tour to the end', async () => {
    const io = captureIo();
    expect(await runCli(['tour'], io)).toBe(0);
    expect(io.stdout()).toContain('read as challenge 203, phase 527, submission 1351');
    expect(io.stdout()).toContain('Run `pnpm pitwall --help`');
  });
});

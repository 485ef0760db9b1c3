import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from '@jest/globals';
import { EvalAiEmulator } from '../src/index.js';

const HOST = 'host-token';
const options = (stateFile: string) => ({
  challengePk: 3,
  phases: [{ pk: 7, codename: 'sensors', splits: ['leaderboard'], maxConcurrentSubmissions: 5 }],
  labels: ['Driving score'],
  hostToken: HOST,
  participantToken: 'participant-token',
  stateFile,
});

describe('the EvalAI emulator’s state file', () => {
  it('gives an emulator started again, after a crash too, its submissions and leaderboard, and ids that carry on', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'pitwall-evalai-')), 'evalai.json');
    const first = new EvalAiEmulator(options(file));
    const url = await first.start();
    const finished = first.createSubmission({ phasePk: 7, teamPk: 1, teamName: 'Team A', imageUri: 'a:1' });
    const cancelled = first.createSubmission({ phasePk: 7, teamPk: 2, teamName: 'Team B', imageUri: 'b:1' });
    first.cancel(cancelled.id);
    const put = await fetch(`${url}/api/jobs/challenge/3/update_submission/`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${HOST}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        challenge_phase: 7,
        submission: finished.id,
        submission_status: 'finished',
        stdout: 'done',
        stderr: '',
        metadata: '',
        result: JSON.stringify([
          { split: 'leaderboard', show_to_participant: true, accuracies: { 'Driving score': 81.5 } },
        ]),
      }),
    });
    expect(put.status).toBe(200);
    await sleep(300); // past the save delay; the first emulator is never closed, as after kill -9

    const again = new EvalAiEmulator(options(file));
    expect(again.get(finished.id)).toMatchObject({ status: 'finished', stdout: 'done', teamName: 'Team A' });
    expect(again.get(cancelled.id).status).toBe('cancelled');
    expect(again.leaderboard.get(`${finished.id}/leaderboard`)?.accuracies).toEqual({ 'Driving score': 81.5 });
    expect(again.createSubmission({ phasePk: 7, teamPk: 1, teamName: 'Team A', imageUri: 'a:2' }).id).toBe(3);
    expect(again.teamPkOf('Team B')).toBe(2);
    await first.close();
  });

  it('refuses a state file it cannot read, naming it', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'pitwall-evalai-')), 'evalai.json');
    writeFileSync(file, '{"submissions": [');
    expect(() => new EvalAiEmulator(options(file))).toThrow(`the EvalAI emulator's state file ${file} cannot be read`);
  });
});

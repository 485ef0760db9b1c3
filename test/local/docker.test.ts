import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { agentImage, buildLocalImages, LEADERBOARD_LABELS, LocalRuntime } from '@pitwall/local';
import { until } from '../support/until.js';

// Real containers with Docker: .ci/run installs Debian's docker.io. Where no daemon runs (CI), the test starts
// one of its own on the default socket (its own data root, no bridge, no iptables), as container-runtime.md
// measured; the default socket, because a child process sees none of the test's own environment changes.
const TERMINAL = ['finished', 'failed', 'cancelled'];
const home = mkdtempSync('/tmp/pwdk-'); // short: the daemon's sockets live under it
let dockerd: ChildProcess | undefined;
const docker = (...args: string[]) => execFileSync('docker', args, { encoding: 'utf8', stdio: 'pipe' }).trim();
const answers = () => {
  try {
    docker('info', '--format', '{{.ServerVersion}}');
    return true;
  } catch {
    return false;
  }
};

beforeAll(async () => {
  if (!answers()) {
    dockerd = spawn(
      'dockerd',
      [
        ...['--data-root', join(home, 'data'), '--exec-root', join(home, 'exec'), '--pidfile', join(home, 'pid')],
        ...['-H', 'unix:///var/run/docker.sock', '--iptables=false', '--ip-masq=false', '--bridge=none'],
      ],
      { stdio: 'ignore' },
    );
    await until(answers, 60_000);
  }
  await buildLocalImages({ engine: 'docker', behaviours: ['good'] });
}, 240_000);

afterAll(async () => {
  if (!dockerd) return; // the machine's own daemon: the runtime removed its Jobs' containers
  const ids = docker('ps', '--all', '--quiet').split('\n').filter(Boolean);
  if (ids.length > 0) docker('rm', '--force', ...ids);
  const exited = new Promise((resolve) => dockerd?.once('exit', resolve));
  dockerd.kill('SIGTERM');
  await exited;
}, 60_000);

describe('the container executor, end to end with docker', () => {
  it("runs each Job in a holder's namespace with no network, logcopy on the host's, to a result on the leaderboard", async () => {
    const runtime = await LocalRuntime.start({
      stateDir: mkdtempSync(join(home, 'state-')),
      workers: 2,
      pollMs: 200,
      msPerKm: 40,
      executor: 'docker',
    });
    try {
      const submission = await runtime.submit('Team Whale', agentImage('good'));
      const jobs = `team-whale-sensors-${submission.id}-w`;
      const running = () =>
        docker('ps', '--format', '{{.Names}}', '--filter', 'label=pitwall.job')
          .split('\n')
          .filter((name) => name.startsWith(jobs));
      // Per worker: the holder, then simulator, agent and logcopy.
      await until(() => running().length === 8, 90_000);
      const network = (name: string) => docker('inspect', '--format', '{{.HostConfig.NetworkMode}}', name);
      const [holder] = running().filter(
        // `<job>-<state folder's tag>`: the job's name ends in its hash, the tag is the state folder's.
        (name) => /-w\d+-[a-z0-9]+-[0-9a-f]{8}$/.test(name) && !/-(simulator|agent|logcopy)$/.test(name),
      );
      expect(network(holder ?? '')).toBe('none');
      const holderId = docker('inspect', '--format', '{{.Id}}', holder ?? '');
      expect(network(`${holder}-agent`)).toBe(`container:${holderId}`);
      expect(network(`${holder}-simulator`)).toBe(`container:${holderId}`);
      expect(network(`${holder}-logcopy`)).toBe('host');
      expect(docker('inspect', '--format', '{{.Config.User}}', `${holder}-agent`)).toBe('1000:1000');

      await until(() => TERMINAL.includes(runtime.evalai.get(submission.id).status), 180_000);
      const remote = runtime.evalai.get(submission.id);
      expect({ status: remote.status, stderr: remote.stderr }).toEqual({ status: 'finished', stderr: '' });
      expect(remote.stdout).toContain('Completed 20 out of 20 routes');
      const row = runtime.evalai.leaderboard.get(`${submission.id}/leaderboard`);
      expect(Object.keys(row?.accuracies ?? {})).toEqual(LEADERBOARD_LABELS);
      await runtime.engine.idle();
      expect(
        docker('ps', '--all', '--format', '{{.Names}}')
          .split('\n')
          .filter((n) => n.startsWith(jobs)),
      ).toEqual([]);
    } finally {
      await runtime.stop();
    }
  }, 300_000);
});

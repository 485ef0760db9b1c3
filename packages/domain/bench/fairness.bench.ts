// pnpm bench:fairness — a day of GPU scarcity through the real admission policy, against first come, first served.
import { type FairQueuePolicy, type SimulatedSubmission, type Simulation, simulateQueue } from '../src/index.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const GPUS = 16;
const WORKERS = 4;
const HEAVY = 1;
const LIGHT_TEAMS = 10;

// A fixed workload (seeded): one heavy team pushes twenty submissions at the start of the day; ten light
// teams submit one each, one every two hours from the first hour. Every run takes 3 to 5 hours on 4 GPUs.
let seed = 20261202;
const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return seed / 2 ** 31;
};
const runMs = () => Math.round((3 + 2 * random()) * HOUR);
const submissions: SimulatedSubmission[] = [];
const add = (teamPk: number, queuedAt: number) =>
  submissions.push({
    submissionPk: submissions.length + 1,
    teamPk,
    phasePk: 1,
    track: 'SENSORS',
    workers: WORKERS,
    queuedAt,
    runMs: runMs(),
  });
for (let i = 0; i < 20; i += 1) add(HEAVY, 0);
for (let team = 0; team < LIGHT_TEAMS; team += 1) add(100 + team, (1 + 2 * team) * HOUR);

const fair: FairQueuePolicy = {
  capacity: { SENSORS: GPUS },
  // EvalAI's own limit does not hold once partial results are sent: the heavy team may fill every GPU.
  maxConcurrentPerTeam: GPUS / WORKERS,
  halfLifeSeconds: 6 * 3600,
  maxWaitSeconds: 24 * 3600,
};
// First come, first served: every submission overdue at once, so the oldest always goes first.
const fifo: FairQueuePolicy = { ...fair, maxWaitSeconds: 0 };

interface Figures {
  readonly lightMaxWaitHours: number;
  readonly jain: number;
  readonly idleFraction: number;
  readonly rows: string[];
}

function figures(name: string, simulation: Simulation): Figures {
  const teams = [...new Set(submissions.map((s) => s.teamPk))];
  const served = (team: number) =>
    simulation.runs
      .filter((r) => r.submission.teamPk === team)
      .reduce((sum, r) => sum + r.submission.workers * Math.max(0, Math.min(r.endedAt, DAY) - r.startedAt), 0);
  const demanded = (team: number) =>
    submissions.filter((s) => s.teamPk === team && s.queuedAt < DAY).reduce((sum, s) => sum + s.workers * s.runMs, 0);
  const waits = (team: number) =>
    simulation.runs
      .filter((r) => r.submission.teamPk === team)
      .map((r) => (r.startedAt - r.submission.queuedAt) / HOUR);
  // Jain's index of each team's share of what it asked for within the day: 1 when every team got the same share.
  const shares = teams.map((team) => served(team) / demanded(team));
  const jain = shares.reduce((a, b) => a + b, 0) ** 2 / (shares.length * shares.reduce((a, b) => a + b * b, 0));
  const rows = teams.map((team) =>
    [
      name.padEnd(5),
      (team === HEAVY ? 'heavy' : `light ${team - 99}`).padEnd(9),
      String(submissions.filter((s) => s.teamPk === team).length).padStart(4),
      Math.max(...waits(team))
        .toFixed(1)
        .padStart(10),
      (served(team) / HOUR).toFixed(1).padStart(12),
      shares[teams.indexOf(team)]?.toFixed(2).padStart(7),
    ].join(' '),
  );
  const light = teams.filter((team) => team !== HEAVY).flatMap(waits);
  return {
    lightMaxWaitHours: Math.max(...light),
    jain,
    idleFraction: simulation.idleWhileWaitingGpuMs / simulation.capacityGpuMs,
    rows,
  };
}

const byFifo = figures('fifo', simulateQueue(submissions, fifo));
const byFair = figures('fair', simulateQueue(submissions, fair));
console.log(
  `${GPUS} GPUs, ${WORKERS} per submission; a heavy team's 20 submissions at 00:00, ${LIGHT_TEAMS} light teams' one each from 01:00, every 2 h.`,
);
console.log('queue team      subs  max wait h  GPU-h in day  share');
for (const row of [...byFifo.rows, ...byFair.rows]) console.log(row);
console.log(
  `fairness: light_max_wait_fifo=${byFifo.lightMaxWaitHours.toFixed(2)} light_max_wait_fair=${byFair.lightMaxWaitHours.toFixed(2)} jain_fifo=${byFifo.jain.toFixed(3)} jain_fair=${byFair.jain.toFixed(3)} gpu_idle_fair=${byFair.idleFraction.toFixed(3)}`,
);
if (byFair.idleFraction !== 0 || byFair.lightMaxWaitHours >= byFifo.lightMaxWaitHours) process.exit(1);

"""The stand-in evaluator's kinematic world, driven by stand-in agents in its own process (the in-process
trust level) and through the referee (the agent in an agent host process of its own): a score depends on
the driving, and a hostile agent behind the referee gains nothing."""

import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
STANDIN = os.path.join(REPO, "packages", "local", "src", "standin")
REFEREE = os.path.join(REPO, "cluster", "images", "evaluator", "referee")
ROUTES = os.path.join(REPO, "packages", "carla-routes", "data", "routes_validation.xml")


def evaluate(agent, referee, subset="0-1", step_seconds=5):
    """(exit code, records, stderr) of the stand-in evaluator on `subset` with stand-in agent `agent`."""
    with tempfile.TemporaryDirectory() as folder:
        checkpoint = os.path.join(folder, "checkpoint.json")
        env = {**os.environ, "PYTHONPATH": f"{REFEREE}:{STANDIN}", "PITWALL_STANDIN_WORLD_SCALE": "0.1",
               "PITWALL_REFEREE_CHANNEL": folder, "PITWALL_REFEREE_STEP_SECONDS": str(step_seconds)}
        team_agent = os.path.join(STANDIN, "agents", f"{agent}.py")
        host = None
        if referee:
            # The agent host sees only its own folder's modules: not the stand-in world, nor the evaluator's.
            host_env = {**os.environ, "PYTHONPATH": REFEREE}
            host = subprocess.Popen([sys.executable, "-m", "pitwall_referee.agent_host", "--channel", folder,
                                     "--agent", team_agent], cwd=REFEREE, env=host_env, stderr=subprocess.DEVNULL)
        command = [sys.executable, "-m", "kinematic.evaluator", "--routes", ROUTES, "--routes-subset", subset,
                   "--checkpoint", checkpoint, "--track", "SENSORS",
                   "--agent", os.path.join(REFEREE, "proxy_agent.py") if referee else team_agent]
        try:
            run = subprocess.run(command, cwd=STANDIN, env=env, capture_output=True, text=True, timeout=120)
        finally:
            if host:
                host.kill()
                host.wait()
        records = []
        if os.path.exists(checkpoint):
            with open(checkpoint) as file:
                records = json.load(file)["_checkpoint"]["records"]
        return run.returncode, records, run.stderr


def composed(records):
    return [record["scores"]["score_composed"] for record in records]


class ScoresDependOnDriving(unittest.TestCase):
    def test_a_good_driver_completes_its_routes_the_same_in_process_and_through_the_referee(self):
        code, records, stderr = evaluate("good", referee=False)
        self.assertEqual(code, 0, stderr)
        self.assertEqual([r["status"] for r in records], ["Completed", "Completed"])
        self.assertTrue(all(score > 90 for score in composed(records)), composed(records))
        code, through_referee, stderr = evaluate("good", referee=True)
        self.assertEqual(code, 0, stderr)
        self.assertEqual(through_referee, records)

    def test_a_weaving_driver_scores_less_and_one_that_stands_still_is_blocked(self):
        _, good, _ = evaluate("good", referee=True)
        _, swerving, _ = evaluate("swerving", referee=True)
        self.assertLess(sum(composed(swerving)), sum(composed(good)) - 10)
        code, idle, _ = evaluate("idle", referee=True)
        self.assertEqual(code, 0)
        self.assertEqual([(r["status"], r["scores"]["score_composed"]) for r in idle], [("Failed - Agent got blocked", 0.0)] * 2)
        self.assertTrue(all(r["infractions"]["vehicle_blocked"] for r in idle))


class HostileAgentsGainNothing(unittest.TestCase):
    def test_a_scorer_patched_in_process_forges_a_perfect_score_but_not_through_the_referee(self):
        # The threat the referee removes: in the evaluator's process, the agent rewrites the scorer.
        _, forged, _ = evaluate("patches_scorer", referee=False)
        self.assertEqual(composed(forged), [100.0, 100.0])
        _, refereed, _ = evaluate("patches_scorer", referee=True)
        self.assertEqual([(r["status"], r["scores"]["score_composed"]) for r in refereed], [("Failed - Agent got blocked", 0.0)] * 2)

    def test_an_agent_that_answers_nan_ends_the_evaluation_as_agent_crashed(self):
        code, records, stderr = evaluate("answers_nan", referee=True)
        self.assertEqual(code, 1)
        self.assertEqual([r["status"] for r in records], ["Failed - Agent crashed"])
        self.assertIn("(agent_crashed)", stderr.strip().splitlines()[-1])

    def test_an_agent_that_stops_answering_ends_the_evaluation_as_agent_idle_within_its_step_time(self):
        started = time.monotonic()
        code, records, stderr = evaluate("never_answers", referee=True, step_seconds=1)
        self.assertLess(time.monotonic() - started, 30)
        self.assertEqual(code, 1)
        self.assertEqual([r["status"] for r in records], ["Failed - Agent crashed"])
        self.assertGreater(records[0]["scores"]["score_route"], 0)  # what it drove before counts
        self.assertIn("(agent_idle)", stderr.strip().splitlines()[-1])

    def test_an_agent_that_raises_is_agent_crashed_with_its_message_in_one_short_printable_line(self):
        code, records, stderr = evaluate("raises", referee=True)
        self.assertEqual(code, 1)
        last = stderr.strip().splitlines()[-1]
        self.assertIn("(agent_crashed)", last)
        self.assertIn("CUDA error", last)
        self.assertNotIn("\x1b", last)
        self.assertLess(len(last), 800)

    def test_more_cameras_than_the_track_allows_are_invalid_sensors_before_the_car_moves(self):
        code, records, stderr = evaluate("too_many_cameras", referee=True)
        self.assertEqual(code, 1)
        self.assertIn("(invalid_sensors)", stderr.strip().splitlines()[-1])
        self.assertEqual(records[0]["scores"]["score_route"], 0.0)


if __name__ == "__main__":
    unittest.main()

"""The chaos harness (benchmarks/chaos.py) in a short form: a small account, a few kill -9s
per stage (backup with 5% faults, push, delete-remote, import-export), and each stage must
end exactly as an uninterrupted run does. `make chaos` runs the full form."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from test_readme_figures import module

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def test_short_chaos_run_recovers_every_kill(tmp_path):
    out = tmp_path / "chaos.json"
    done = subprocess.run([sys.executable, "chaos.py", "--items", "60", "--kills", "3", "--seed", "7",
                           "--out", str(out)], cwd=BENCHMARKS, capture_output=True, text=True, timeout=600)
    result = json.loads(out.read_text())["scenarios"]["chaos"]
    stages = result["by_stage"]
    assert set(stages) == {"backup", "push", "delete-remote", "import-export"}, done.stdout[-3000:]
    for name, stage in stages.items():
        assert stage["ok"], (name, stage)
        # Counted per kill; a stage is ok only if one of its kills struck with work left.
        assert stage["kills"] == len(stage["per_kill"]) and stage["kills_with_work_left"] >= 1, (name, stage)
        for kill in stage["per_kill"]:
            assert kill["killed"] == name and kill["work_left"] == (kill["done"] < kill["done_at_end"]), kill
    # A small account may finish before its third kill.
    assert result["kills"] >= 4 and result["kills_recovered"] == result["kills_with_work_left"] >= 4
    assert result["stages_exercised"] == 4 and result["differences"] == 0
    assert json.loads(out.read_text())["scenarios"]["chaos"]["run"]["quick"] is True


def test_kills_that_landed_after_the_work_was_done_exercised_nothing():
    chaos = module("chaos")
    late = chaos.judged([{"killed": "delete-remote", "done": 0}, {"killed": "delete-remote", "done": 0}], 0, True)
    assert late["kills"] == 2 and late["kills_with_work_left"] == 0 and late["kills_recovered"] == 0
    assert late["exercised"] is False  # nothing was eligible: the stage fails
    mixed = chaos.judged([{"killed": "backup", "done": 3}, {"killed": "backup", "done": 10}], 10, True)
    assert [k["work_left"] for k in mixed["per_kill"]] == [True, False]
    assert mixed["exercised"] and mixed["kills_recovered"] == 1
    wrong = chaos.judged([{"killed": "push", "done": 3}], 10, False)
    assert wrong["exercised"] and wrong["kills_recovered"] == 0 and not wrong["per_kill"][0]["resume_ended_correct"]
    stages = {"backup": {**mixed, "ok": True, "difference_count": 0}, "delete-remote": {**late, "ok": False}}
    result = chaos.summary(stages, items=60, kills=2, seed=7)
    assert result["stages_exercised"] == 1 and result["differences"] == 1
    limits = {b["figure"]: b["limit"] for b in result["bounds"]}
    assert limits == {"kills": 4, "stages_exercised": 2, "kills_recovered": 1, "differences": 0}

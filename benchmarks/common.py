"""What every benchmark script shares: the command line (--only, --quick) and the results
files. Each scenario in a results file carries its own run: the date, the machine, the
commit measured ("+dirty" when the tree had changes) and whether it was a quick run, so
that a file may hold scenarios measured on different days and none borrows another's
date. Saving a scenario replaces its own entry and no other. A quick run is written beside
the full figures (results/quick/), never over them.

    benchmarks/results/NAME.json = {"scenarios": {SCENARIO: {figures..., "run": {...}}}}

A script that states its own bounds writes them in one shape, a list of
{"label", "figure" (a dotted path into the scenario's figures), "op", "limit", "why"?}
(`bound`), judged by `judge` here and again by report.py from the results file alone.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, NamedTuple

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def commit() -> str:
    """The commit measured, short, with "+dirty" when the code had changes (results files
    aside: a run writes them as it goes); "unknown" outside a git checkout."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
        changed = subprocess.run(["git", "status", "--porcelain", "--", ".", ":(exclude)benchmarks/results"],
                                 cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if changed else "")


def machine() -> dict:
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "system": platform.platform()}


def run_stamp(quick: bool) -> dict:
    """Taken once when a run starts, before it writes anything."""
    return {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": machine(),
            "commit": commit(), "quick": bool(quick)}


def save_scenario(path: Path, name: str, figures: dict, run: dict) -> None:
    """Write one scenario's figures with its run into `path`, the other scenarios as they were."""
    previous = json.loads(path.read_text()) if path.exists() else {}
    scenarios = dict(previous.get("scenarios", {}))
    scenarios[name] = {**figures, "run": run}
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".tmp")
    part.write_text(json.dumps({"scenarios": scenarios}, indent=1, ensure_ascii=False) + "\n")
    part.replace(path)


class Timed(NamedTuple):
    seconds: float        # wall clock, start to exit
    code: int             # exit code (negative: the signal that ended it)
    out: str              # its stdout (stderr is dropped)
    cpu_seconds: float    # user + system, of it and the children it waited for
    peak_rss: int         # bytes, its own peak (not its children's)
    load_at_start: float  # the machine's 1-minute load average: a busy machine stretches the seconds, not the CPU


def timed(command: list[str], env: dict | None = None) -> Timed:
    """Run one command to its end and say what it cost."""
    load = os.getloadavg()[0]
    started = time.monotonic()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    return Timed(time.monotonic() - started, os.waitstatus_to_exitcode(status), out,
                 usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, load)


OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b, "<": lambda a, b: a < b, ">": lambda a, b: a > b,
    "==": lambda a, b: a == b}


def bound(label: str, figure: str, op: str, limit: float | None, why: str | None = None) -> dict:
    """One bound as every results file states it."""
    assert op in OPS, op
    return {"label": label, "figure": figure, "op": op, "limit": limit, **({"why": why} if why else {})}


def figure_at(figures: dict, path: str):
    """The figure at a dotted path, or None when the run did not measure it."""
    value = figures
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def judge(figures: dict, bounds: list[dict]) -> list[dict]:
    """Each bound with the value measured and whether it was met; a figure the run did not
    measure, or a bound without a limit, is not met."""
    out = []
    for b in bounds:
        value = figure_at(figures, b["figure"])
        met = (value is not None and b.get("limit") is not None and b.get("op") in OPS
               and bool(OPS[b["op"]](value, b["limit"])))
        out.append({**b, "value": value, "met": met})
    return out


def run_plan(doc: str, results: Path, script: str, plan_for) -> None:
    """The command line every benchmark script shares: --only NAME, --quick; each scenario
    printed with the command that reruns it alone, and saved as soon as it is measured (a
    long run stopped midway keeps what it measured)."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    with tempfile.TemporaryDirectory(prefix="exodus-bench-") as tmp:
        plan = plan_for(Path(tmp), False)
        parser.add_argument("--only", choices=list(plan))
        parser.add_argument("--quick", action="store_true", help="smaller accounts, for a smoke run")
        args = parser.parse_args()
        plan = plan_for(Path(tmp), args.quick)
        target = for_run(results, args.quick)
        for name, run in plan.items():
            if args.only and name != args.only:
                continue
            print(f"{name}: running ... (rerun alone: benchmarks/{script} --only {name})", flush=True)
            stamp = run_stamp(args.quick)
            figures = run()
            save_scenario(target, name, figures, stamp)
            print(json.dumps({**figures, "run": stamp}, indent=1, ensure_ascii=False), flush=True)
        print(f"written to {target}", flush=True)


def for_run(results: Path, quick: bool) -> Path:
    """Where a run's figures go: a quick run's beside the full ones, so that it never replaces them."""
    return results.parent / "quick" / results.name if quick else results

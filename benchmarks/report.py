"""Gather what the benchmark scripts measured into one report: benchmarks/results/latest.json
({"date", "machine", "scenarios": {NAME: {figures..., "target", "met"}}}), a markdown
table in benchmarks/results/latest.md, and the same table in README.md between the
`bench-table` markers. `make bench` runs it last.

    .venv/bin/python benchmarks/report.py
"""

from __future__ import annotations

import json
import re
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
README = Path(__file__).parents[1] / "README.md"

# Report name: (results file, scenario in it, one line of its figures, command to rerun it).
SCENARIOS = {
    "quota": ("backup", "quota", lambda f: (
        f"{f['core_calls_per_item']} core calls/item ({f['items']:,} items), "
        f"{f['core_times_fewer_than_per_photo']}× fewer than per-photo tools "
        f"({f['core_without_comments_times_fewer']}× leaving comments aside); deep pass "
        f"{f['deep_calls_per_item']}/item"), "benchmarks/backup.py --only quota"),
    "throughput": ("backup", "throughput", lambda f: (
        f"{f['originals']['concurrent']['mb_per_s']} MB/s of a {f['cap_mb_per_s']:g} MB/s cap "
        f"({f['originals']['concurrent']['achieved_over_cap']:.0%}) at {f['latency_ms']} ms latency; "
        f"{f['originals']['concurrent_over_one_at_a_time']}× one file at a time "
        f"({f['small_files']['concurrent_over_one_at_a_time']}× for 50-200 KB files)"),
        "benchmarks/backup.py --only throughput"),
    "memory": ("backup", "memory", lambda f: (
        "peak RSS " + ", ".join(f"{v['peak_rss_mb']} MB at {v['items']:,} items" for k, v in f.items()
                                if isinstance(v, dict)) + f"; growth {f['growth']}×"),
        "benchmarks/backup.py --only memory"),
    "memory_video": ("backup", "memory_video", lambda f: (
        f"one {f['large']['video_bytes'] / 1e9:.0f} GB video: peak RSS {f['large']['peak_rss_mb']} MB, "
        f"{f['added_mb']} MB more than a 30 KB one; {f['large']['mb_per_s']} MB/s"),
        "benchmarks/backup.py --only memory_video"),
    "incremental": ("backup", "incremental", lambda f: (
        f"nothing changed: {f['nothing_changed']['api_calls']} calls, "
        f"{f['nothing_changed']['bytes_downloaded']} bytes, {f['nothing_changed']['seconds']} s; "
        f"1% changed: {f['one_percent_changed']['api_calls']} calls, "
        f"{f['one_percent_changed']['bytes_downloaded'] / 1e6:.1f} MB"), "benchmarks/backup.py --only incremental"),
    "verify": ("verify", "hashing", lambda f: (
        f"{f['mb_per_s']['jobs_2']} MB/s against sha256sum's {f['mb_per_s']['sha256sum']} MB/s "
        f"({f['jobs_2_over_sha256sum']}×)"), "benchmarks/verify.py --only hashing"),
    "verify_remote": ("verify", "remote", lambda f: (
        f"{f['api_calls']} calls to reconcile {f['items']:,} items"), "benchmarks/verify.py --only remote"),
    "import": ("import_export", "throughput", lambda f: (
        f"{f['mb_per_s']['import']} MB/s against unzip's {f['mb_per_s']['unzip']} MB/s "
        f"({f['import_over_unzip']}×)"),
        "benchmarks/import_export.py --only throughput"),
    "import_memory": ("import_export", "memory", lambda f: (
        f"{f['zip_bytes'] / 1e9:.1f} GB zip at {f['peak_rss_mb']} MB peak RSS, {f['mb_per_s']} MB/s"), "benchmarks/import_export.py --only memory"),
    "push": ("push", "s3", lambda f: (
        f"{f['items']:,} items to S3 in {f['seconds']['exodus']} s, rclone copy "
        f"{f['seconds']['rclone_copy']} s ({f['exodus_over_rclone']}×)"), "benchmarks/push.py --only s3"),
    "chaos": ("chaos", "chaos", lambda f: (
        f"{f['kills_recovered']} of {f['kills']} kills recovered, {f['differences']} differences "
        f"({', '.join(f['stages'])})"), "benchmarks/chaos.py"),
    "scale": ("scale", "scale", lambda f: (
        f"{f['items']:,} items: status {f['status_seconds']} s, verify --fast {f['verify_fast_seconds']} s; "
        f"listing ingest {f['ingest_items_per_s']:,} items/s"), "benchmarks/scale.py"),
}


def gather() -> dict:
    files: dict[str, dict] = {}
    scenarios, dates, machine = {}, [], None
    for name, (source, scenario, _, _) in SCENARIOS.items():
        if source not in files:
            path = RESULTS / f"{source}.json"
            files[source] = json.loads(path.read_text()) if path.exists() else {}
            if files[source]:
                dates.append(files[source]["date"])
                machine = machine or files[source].get("machine")
        figures = files[source].get("scenarios", {}).get(scenario)
        if figures is not None:
            scenarios[name] = {**figures, "measured": files[source]["date"]}
    return {"date": max(dates) if dates else None, "machine": machine, "scenarios": scenarios}


def headline(name: str, figures: dict) -> str:
    try:
        return SCENARIOS[name][2](figures)
    except (KeyError, TypeError, ValueError):
        return "(figures in latest.json)"


def table(report: dict) -> str:
    lines = [f"Measured on {report['date'][:10]} ({report['machine']['cpus']} CPUs, Python "
             f"{report['machine']['python']}); rerun any row alone with its command.", "",
             "| scenario | measured | target | met | rerun |", "|---|---|---|---|---|"]
    for name, figures in report["scenarios"].items():
        met = "yes" if figures.get("met") else "**no**"
        lines.append(f"| {name} | {headline(name, figures)} | {figures.get('target', '')} | {met} | "
                     f"`{SCENARIOS[name][3]}` |")
    return "\n".join(lines) + "\n"


def main() -> None:
    report = gather()
    (RESULTS / "latest.json").write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    markdown = table(report)
    (RESULTS / "latest.md").write_text(markdown)
    text = README.read_text()
    block = re.compile(r"(<!-- bench-table -->\n).*?(<!-- /bench-table -->)", re.S)
    if block.search(text):
        README.write_text(block.sub(lambda m: m.group(1) + markdown + m.group(2), text))
    print(markdown)


if __name__ == "__main__":
    main()

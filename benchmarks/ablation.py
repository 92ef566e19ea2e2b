"""Ablation of the function-calling engine's techniques (issue 7): each technique switched off alone (and each
opt-in technique switched on alone) against the defaults, on one sample, with one `rixin bench` run per
configuration. Prints two markdown tables: accuracy per category, the three error kinds overall, median s/item
and the change in overall accuracy against the defaults measured in the same invocation; then the three error
kinds per category.

    python benchmarks/ablation.py --model qwen2.5-coder-0.5b --out runs/ablation-q05
    python benchmarks/ablation.py --model qwen2.5-coder-1.5b --out runs/ablation-q15 --only defaults,plan_calls

"defaults" are the model's own: the engine's defaults plus its registry entry's `calling_defaults` (the 1.5B's
include plan_as_calls and plan_tools, so its "+plan_as_calls" row repeats its defaults and the 0.5B's
"plan_tools" row repeats its own).

Each configuration's run lives in OUT/<name> and is resumed when present, so an interrupted ablation
continues where it stopped (`rixin bench --resume`). Run it on an otherwise idle machine: the times are
part of the table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

DEV_SUITE = "bfcl:simple_python,bfcl:multiple,bfcl:parallel,bfcl:parallel_multiple,bfcl:irrelevance,exec:all"

# name → engine options that differ from the defaults (one technique each; a few rows combine techniques that
# act together, named by all of them)
CONFIGS: dict[str, dict[str, str]] = {
    "defaults": {},
    "constrained": {"constrained": "false"},
    "decide_first": {"decide_first": "false"},
    "parallel_bias": {"parallel_bias": "0"},
    "plan_calls": {"plan_calls": "false"},
    "plan_tools": {"plan_tools": "false"},
    "plan_combinations": {"plan_combinations": "false"},
    "plan_tools_apart": {"plan_tools_apart": "false"},
    "plan_options_apart": {"plan_options_apart": "false"},
    "take_planned_calls": {"take_planned_calls": "false"},
    "ground_calls": {"ground_calls": "false"},
    "ground_optional": {"ground_optional": "false"},
    "shortlist": {"shortlist": "null"},
    "shortlist_size": {"shortlist_size": "null"},
    "shortlist=5": {"shortlist": "5", "shortlist_size": "null"},
    "shortlist=3": {"shortlist": "3", "shortlist_size": "null"},
    "+shortlist_per_clause": {"shortlist_per_clause": "1"},
    "shortlist_size=3+per_clause": {"shortlist_size": "3", "shortlist_per_clause": "1"},
    "stop_repeats": {"stop_repeats": "false"},
    "salvage_truncated": {"salvage_truncated": "false"},
    "drop_duplicates": {"drop_duplicates": "false"},
    "+plan_in_prompt": {"plan_in_prompt": "true"},
    "+plan_end_penalty": {"plan_end_penalty": "2"},
    "+plan_next": {"plan_next": "true"},
    "+plan_fallback": {"plan_fallback": "true"},
    "+plan_as_calls": {"plan_as_calls": "true"},
    "reject_call_values": {"reject_call_values": "false"},
    "+plan_as_calls+plan_tools": {"plan_as_calls": "true", "plan_tools": "true"},
    "+few_shot": {"few_shot": "2"},
    "+self_check": {"self_check": "true"},
    "+retry_other_tools": {"retry_other_tools": "true"},
    "+lookup_first": {"lookup_first": "true"},
    "+plan_as_calls+plan_tools+lookup_first": {"plan_as_calls": "true", "plan_tools": "true", "lookup_first": "true"},
    "max_repeated_items": {"max_repeated_items": "null"},
    "+remind_request": {"remind_request": "true"},
}


def rixin_command() -> list[str]:
    script = Path(sys.executable).with_name("rixin")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "rixin.cli.main"]


def run_config(name: str, changes: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:
    out = Path(args.out) / name
    command = [*rixin_command(), "bench", "--suite", args.suite, "--limit", str(args.limit), "--seed", str(args.seed)]
    command += ["--out", str(out)]
    if args.model:
        command += ["--model", args.model]
    if args.tools_per_item:
        command += ["--tools-per-item", str(args.tools_per_item)]
    for key, value in changes.items():
        command += ["--engine-option", f"{key}={value}"]
    if (out / "items.jsonl").exists():
        command.append("--resume")
    print(f"# {name}: {' '.join(command)}", file=sys.stderr, flush=True)
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return summary


def percent(value: float) -> str:
    return f"{100 * value:.1f}%"


def table(results: dict[str, dict[str, Any]]) -> str:
    first = next(iter(results.values()))
    categories = list(first["systems"]["rixin"]["categories"])
    header = ["technique off (on, for +)", *categories, "overall", "selection", "argument", "not exec.", "s/item"]
    lines = ["| " + " | ".join(header) + " | Δ overall |", "|" + "---|" + "---:|" * (len(header) - 1) + "---:|"]
    base = results.get("defaults", first)["systems"]["rixin"]["overall"]["accuracy"]
    for name, summary in results.items():
        rixin = summary["systems"]["rixin"]
        overall = rixin["overall"]
        cells = [percent(rixin["categories"][c]["accuracy"]) for c in categories]
        cells += [percent(overall[k]) for k in ("accuracy", "selection", "argument", "non_executable")]
        cells.append(f"{overall['median_latency_s']:.2f}")
        delta = 100 * (overall["accuracy"] - base)
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {delta:+.1f} |")
    return "\n".join(lines)


def kinds_table(results: dict[str, dict[str, Any]]) -> str:
    """The three error kinds per category: selection / argument / not executable, in percent of the items."""
    first = next(iter(results.values()))
    categories = list(first["systems"]["rixin"]["categories"])
    lines = ["| errors: selection / argument / not exec. | " + " | ".join(categories) + " |"]
    lines.append("|---|" + "---:|" * len(categories))
    for name, summary in results.items():
        found = summary["systems"]["rixin"]["categories"]
        cells = [
            " / ".join(f"{100 * found[c][k]:.0f}" for k in ("selection", "argument", "non_executable"))
            for c in categories
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="as for rixin bench (default: the embedded default)")
    parser.add_argument("--suite", default=DEV_SUITE)
    parser.add_argument("--limit", type=int, default=15, help="items per category (default 15)")
    parser.add_argument("--seed", type=int, default=7, help="the development seed (the reports use seed 0)")
    parser.add_argument("--tools-per-item", type=int, default=0, help="as for rixin bench (shortlisting acts above 12)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--only", default="", help="comma-separated configuration names (default: all)")
    parser.add_argument(
        "--print-only",
        action="store_true",
        help="print the tables from the rows' summary.json, running nothing (a row run under earlier defaults "
        "cannot be resumed under today's)",
    )
    args = parser.parse_args()
    wanted = [name for name in args.only.split(",") if name] or list(CONFIGS)
    unknown = [name for name in wanted if name not in CONFIGS]
    if unknown:
        parser.error(f"unknown configuration(s) {', '.join(unknown)}; valid: {', '.join(CONFIGS)}")
    if args.print_only:
        results = {name: json.loads((Path(args.out) / name / "summary.json").read_text("utf-8")) for name in wanted}
    else:
        results = {name: run_config(name, CONFIGS[name], args) for name in wanted}
    padding = f" --tools-per-item {args.tools_per_item}" if args.tools_per_item else ""
    print(f"model: {args.model or 'default'}; suite: {args.suite}; --limit {args.limit} --seed {args.seed}{padding}\n")
    print(table(results))
    print()
    print(kinds_table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

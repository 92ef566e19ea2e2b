"""Summaries of finished items: `summary.json`, `report.md` (the industry table's shape), `kinds.png`."""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rixin.bench.checker import KINDS

# The published table rixin answers to (API-call error rates of models writing API calls).
INDUSTRY = [
    ("GPT-4", 19, 0, 14, 5),
    ("LLaMA", 61, 22, 32, 7),
    ("StarCoder", 68, 22, 23, 23),
    ("CodeGen", 93, 30, 63, 0),
]


def _rates(items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    n = len(items)
    if n == 0:
        return {"n": 0}
    passed = sum(1 for i in items if i["passed"])
    out: dict[str, Any] = {
        "n": n,
        "accuracy": passed / n,
        "error_rate": 1 - passed / n,
    }
    for kind in KINDS:
        out[kind] = sum(1 for i in items if i["kind"] == kind) / n
    out["median_latency_s"] = statistics.median(i["latency_s"] for i in items)
    out["median_prompt_s"] = statistics.median(i.get("prompt_s", 0.0) for i in items)
    out["median_generation_s"] = statistics.median(i.get("generation_s", 0.0) for i in items)
    out["total_prompt_s"] = sum(i.get("prompt_s", 0.0) for i in items)
    out["total_generation_s"] = sum(i.get("generation_s", 0.0) for i in items)
    out["total_latency_s"] = sum(i["latency_s"] for i in items)
    out["median_prompt_tokens"] = statistics.median(i["prompt_tokens"] for i in items)
    codes: dict[str, int] = {}
    for item in items:
        if item["error_code"]:
            codes[item["error_code"]] = codes.get(item["error_code"], 0) + 1
    out["error_codes"] = dict(sorted(codes.items(), key=lambda kv: -kv[1]))
    return out


def summarize(items: Sequence[dict[str, Any]], categories: Sequence[str]) -> dict[str, Any]:
    return {
        "overall": _rates(items),
        "categories": {c: _rates([i for i in items if i["category"] == c]) for c in categories},
    }


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _table(summary: dict[str, Any], title: str) -> list[str]:
    lines = [
        f"### {title}",
        "",
        "| category | n | accuracy | total error | wrong API (selection) | wrong arguments | not executable "
        "| median s/item |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    rows = [*summary["categories"].items(), ("**overall**", summary["overall"])]
    for name, rates in rows:
        if not rates.get("n"):
            continue
        lines.append(
            f"| {name} | {rates['n']} | {_pct(rates['accuracy'])} | {_pct(rates['error_rate'])} "
            f"| {_pct(rates['selection'])} | {_pct(rates['argument'])} | {_pct(rates['non_executable'])} "
            f"| {rates['median_latency_s']:.2f} |"
        )
    return [*lines, ""]


def write_report(out_dir: Path, meta: dict[str, Any], systems: dict[str, dict[str, Any]]) -> None:
    """summary.json, report.md and kinds.png for one or more systems measured in the same run."""
    (out_dir / "summary.json").write_text(
        json.dumps({**meta, **systems.get("rixin", {}), "systems": systems}, indent=2, ensure_ascii=False) + "\n"
    )
    lines = [
        f"# Tool-calling benchmark — {meta.get('model', '')}",
        "",
        f"Command: `{meta.get('command', '')}`  ",
        f"Suites: {meta.get('suite', '')}; limit {meta.get('limit')} per category, seed {meta.get('seed')}; "
        f"finished {meta.get('finished', '')}.",
        "",
        "Error kinds as in the industry table: **selection** (wrong function, wrong number of calls, a call where",
        "none was wanted or none where one was), **argument** (missing/unexpected parameters, wrong types or",
        "values), **not executable** (output that does not parse into calls, or calls the API rejects).",
        "",
    ]
    for name, summary in systems.items():
        lines += _table(summary, name)
    if len(systems) > 1:
        lines += ["### Side by side (total error)", "", "| category | " + " | ".join(systems) + " |"]
        lines.append("|---|" + "---:|" * len(systems))
        first = next(iter(systems.values()))
        for category in [*first["categories"], "overall"]:
            cells = []
            for summary in systems.values():
                rates = summary["overall"] if category == "overall" else summary["categories"].get(category, {})
                cells.append(_pct(rates.get("error_rate")) if rates.get("n") else "–")
            lines.append(f"| {category} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += [
        "### The published table, for reference",
        "",
        "| model | total error | wrong API | wrong arguments | not executable |",
        "|---|---:|---:|---:|---:|",
        *[f"| {m} | {t}% | {s}% | {a}% | {n}% |" for m, t, s, a, n in INDUSTRY],
        "",
    ]
    (out_dir / "report.md").write_text("\n".join(lines))
    plot_kinds(out_dir / "kinds.png", systems)


def plot_kinds(path: Path, systems: dict[str, dict[str, Any]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    first = next(iter(systems.values()))
    categories = [c for c, r in first["categories"].items() if r.get("n")] + ["overall"]
    figure, axes = plt.subplots(
        1, len(systems), figsize=(max(6, 1.4 * len(categories)) * len(systems), 4.5), squeeze=False
    )
    colours = {"selection": "#d62728", "argument": "#ff7f0e", "non_executable": "#7f7f7f"}
    for axis, (name, summary) in zip(axes[0], systems.items(), strict=True):
        width = 0.27
        for offset, kind in enumerate(KINDS):
            values = [
                100 * (summary["overall"] if c == "overall" else summary["categories"].get(c, {})).get(kind, 0.0)
                for c in categories
            ]
            positions = [i + (offset - 1) * width for i in range(len(categories))]
            axis.bar(positions, values, width, label=kind.replace("_", "-"), color=colours[kind])
        axis.set_xticks(range(len(categories)), categories, rotation=30, ha="right")
        axis.set_ylabel("error rate (%)")
        axis.set_ylim(0, 100)
        axis.set_title(name)
        axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)

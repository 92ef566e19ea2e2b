"""The engine's own model passes, written by a teacher model, for training the 0.5B on exactly what it is asked.

An adapter trained on the chat template's plain tool-call replies (`train_adapter.py`) learns a reply the engine
never asks the 0.5B for: the engine continues its own prompts (few-shot examples, a plan prefix, a call list
under a grammar). This script runs the engine with the 0.5B's calling options (`tuned_options`) on a teacher
model, records every generation it makes (the prompt as text, the stage, the completion), and keeps an item's
passes only where the engine's final calls are the item's calls exactly (or, for an item with no calls, where it
answered in words). Items come from our own lists (`verified_calls.py`'s JSON lines) and, made from their
single-call requests, two kinds the 0.5B gets wrong most:

- several asks in one request: two or three single requests of different tools joined ("… Also, …"), the tools
  of all of them and two others offered;
- the same tool twice: two single requests of one tool with different calls joined;
- a request no tool serves: a single request offered only other items' tools (the target: words, no call);
- after tool results (`--continued`, `--lookups`): a joined request with its first calls made and answered (the
  target: the calls left), the same with every call answered (the target: words, opening "Done"), and a single
  request whose tool takes an id where the request names a thing (the target: a `find_<thing>` lookup first, then,
  after its result, the call with the id the result holds, then words).

With `--student`, the items are run on the student (the 0.5B) too and each record says whether it passed, so
that training can weight the items it fails.

A teacher's passes are noisy (§31: plan lines that list the tools, calls the engine dropped on the way to a right
result). `--oracle` writes each pass from the item itself instead, through the engine, with no model generating:
a call pass gets the item's calls as the engine's call list, a plan pass one line per call
(`name(key=value, …)`, then the end token), and a request no tool serves one of a few plain answers that say so (a
teacher asked without tools invented results). An item is kept only where the engine, given those passes, returns the
item's calls: what the engine does after the model (grounding, fan-out, counting) agrees with the data.

    RIXIN_THREADS=2 PYTHONPATH=src .venv/bin/python benchmarks/exploratory/engine_traces.py \\
        runs/singles-s19.jsonl runs/verified-combined-s19.jsonl --joined 120 --parallel 26 --unserved 40 \\
        --out runs/traces.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from pathlib import Path
from typing import Any

from rixin.calling import Engine, tuned_options
from rixin.calling.engine import _Run
from rixin.calling.enumerations import scalars
from rixin.models import Completion, LlamaModel, load_model

STUDENT = "qwen2.5-coder-0.5b"
CONNECTORS = (" Also, ", " Then ", " And ", "\n", " After that, ")


def name_of(tool: dict[str, Any]) -> str:
    return str(tool["function"]["name"])


def joined_items(singles: list[dict[str, Any]], count: int, rng: random.Random) -> list[dict[str, Any]]:
    """Requests of two or three singles with different tools, joined, with two other tools offered."""
    tools = {name_of(t): t for s in singles for t in s["tools"]}
    items: list[dict[str, Any]] = []
    while len(items) < count:
        parts = rng.sample(singles, rng.choice((2, 2, 3)))
        names = [s["calls"][0]["name"] for s in parts]
        if len(set(names)) < len(names):
            continue
        text = parts[0]["request"].rstrip()
        for part in parts[1:]:
            nxt = part["request"].strip()
            connector = rng.choice(CONNECTORS)
            if connector.strip():  # within a sentence of ours, not after a line break
                nxt = nxt[0].lower() + nxt[1:]
            text += connector + nxt
        offered = [t for s in parts for t in s["tools"]]
        others = [t for n, t in tools.items() if n not in names]
        offered += rng.sample(others, min(2, len(others)))
        rng.shuffle(offered)
        items.append({"request": text, "tools": offered, "calls": [s["calls"][0] for s in parts], "kind": "joined"})
    return items


def parallel_items(singles: list[dict[str, Any]], count: int, rng: random.Random) -> list[dict[str, Any]]:
    """Two requests of the same tool with different calls, joined, with two other tools offered."""
    by_tool: dict[str, list[dict[str, Any]]] = {}
    for single in singles:
        by_tool.setdefault(single["calls"][0]["name"], []).append(single)
    pairs = [
        (a, b)
        for group in by_tool.values()
        for i, a in enumerate(group)
        for b in group[i + 1 :]
        if a["calls"][0] != b["calls"][0]
    ]
    tools = {name_of(t): t for s in singles for t in s["tools"]}
    items = []
    for a, b in rng.sample(pairs, min(count, len(pairs))):
        first, second = (a, b) if rng.random() < 0.5 else (b, a)
        nxt = second["request"].strip()
        connector = rng.choice(CONNECTORS)
        if connector.strip():
            nxt = nxt[0].lower() + nxt[1:]
        others = [t for n, t in tools.items() if n != first["calls"][0]["name"]]
        offered = [*first["tools"], *rng.sample(others, min(2, len(others)))]
        rng.shuffle(offered)
        calls = [first["calls"][0], second["calls"][0]]
        items.append(
            {
                "request": first["request"].rstrip() + connector + nxt,
                "tools": offered,
                "calls": calls,
                "kind": "parallel",
                "parts": [first["request"].strip(), second["request"].strip()],
            }
        )
    return items


def domain(name: str) -> str:
    """A tool name's first word ("math" of "math.gcd", "track" of "trackOrder"), "calc" read as "calculate"."""
    first = re.split(r"[._]|(?<=[a-z])(?=[A-Z])", name)[0].lower()
    return "calculate" if first == "calc" else first


SAME_WORK = {"track_parcel_status": ("trackOrder",), "trackOrder": ("track_parcel_status",)}
"""Tools of one domain in our lists that can serve each other's requests (an order's status is a parcel's)."""


def unserved_items(singles: list[dict[str, Any]], count: int, rng: random.Random) -> list[dict[str, Any]]:
    """A single request offered one to three tools of its own domain (the same first word of the name: `math.lcm`
    for a `math.gcd` request), never its own: a near miss, as hard to tell apart as a real one."""
    tools = {name_of(t): t for s in singles for t in s["tools"]}
    items = []
    for single in rng.sample(singles, len(singles)):
        if len(items) >= count:
            break
        own = {name_of(t) for t in single["tools"]}
        same = SAME_WORK.get(single["calls"][0]["name"], ())
        domains = {domain(o) for o in own}
        near = [t for n, t in tools.items() if n not in own and n not in same and domain(n) in domains]
        if not near:
            continue
        offered = rng.sample(near, min(len(near), rng.choice((1, 2, 3))))
        items.append({"request": single["request"], "tools": offered, "calls": [], "kind": "unserved"})
    return items


def assistant_calls(calls: list[dict[str, Any]], first: int) -> dict[str, Any]:
    """An assistant turn that made `calls` (ids numbered from `first`), as the OpenAI messages write it."""
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": f"call_{first + i}",
                "type": "function",
                "function": {"name": c["name"], "arguments": json.dumps(c["arguments"], ensure_ascii=False)},
            }
            for i, c in enumerate(calls)
        ],
    }


def tool_results(calls: list[dict[str, Any]], first: int, results: list[Any] | None = None) -> list[dict[str, Any]]:
    """The tool messages answering `calls` (ids numbered from `first`); `results` default to `{"status": "done"}`."""
    results = results if results is not None else [{"status": "done"}] * len(calls)
    return [
        {"role": "tool", "tool_call_id": f"call_{first + i}", "name": c["name"], "content": json.dumps(r)}
        for i, (c, r) in enumerate(zip(calls, results, strict=True))
    ]


def continued_items(joined: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A request of several asks after the first ones were called and answered: what is left is the next call (the
    0.5B stops after a first result, §26)."""
    items = []
    for item in joined:
        calls = item["calls"]
        for done in range(1, len(calls)):
            messages = [
                {"role": "user", "content": item["request"]},
                assistant_calls(calls[:done], 0),
                *tool_results(calls[:done], 0),
            ]
            items.append({**item, "messages": messages, "calls": calls[done:], "kind": "continued"})
        items.append(finished(item, [{"role": "user", "content": item["request"]}], calls))
    return items


def finished(item: dict[str, Any], messages: list[dict[str, Any]], calls: list[dict[str, Any]]) -> dict[str, Any]:
    """The conversation after the last of `calls` was answered: nothing is left to call, the answer is in words."""
    first = sum(len(m.get("tool_calls") or []) for m in messages)
    done = [*messages, assistant_calls(calls, first), *tool_results(calls, first)]
    names = ", ".join(c["name"] for c in calls)
    return {
        **item,
        "messages": done,
        "calls": [],
        "kind": "finished",
        "answer": f"{DONE_OPENING}: {names} went through.",
        "opening": DONE_OPENING,
    }


def lookup_items(singles: list[dict[str, Any]], rng: random.Random) -> list[dict[str, Any]]:
    """A single request whose tool takes an id where the request names a thing: the id is looked up first (a
    `find_<thing>` tool that says it only reads), then the tool is called with the id the result holds. Two items
    per request: before the lookup (the call is the lookup) and after its result (the call uses the result's id)."""
    tools = {name_of(t): t for s in singles for t in s["tools"]}
    items = []
    for single in singles:
        call = single["calls"][0]
        tool = next(t for t in single["tools"] if name_of(t) == call["name"])
        properties = tool["function"]["parameters"]["properties"]
        named = [
            key
            for key, value in call["arguments"].items()
            if isinstance(value, str)
            and len(value) > 2
            and value.lower() in single["request"].lower()
            and "enum" not in properties.get(key, {})
            and re.fullmatch(r"[a-z]+", key)
            and key not in ("name", "query")
        ]
        if not named:
            continue
        key = rng.choice(named)
        value = call["arguments"][key]
        prefix = key[:2].upper()
        found_id = f"{prefix}-{rng.randint(1000, 9999)}"
        id_key = f"{key}_id"
        parameters = json.loads(json.dumps(tool["function"]["parameters"]))
        parameters["properties"] = {
            (id_key if k == key else k): (
                {"type": "string", "description": f'The id of the {key}, as find_{key} gives it, e.g. "{prefix}-1001".'}
                if k == key
                else v
            )
            for k, v in parameters["properties"].items()
        }
        parameters["required"] = [id_key if k == key else k for k in parameters.get("required", [])]
        acting = {"type": "function", "function": {**tool["function"], "parameters": parameters}}
        finder = {
            "type": "function",
            "function": {
                "name": f"find_{key}",
                "description": f"Look up a {key} by what the user calls it; returns its id.",
                "parameters": {
                    "type": "object",
                    "properties": {"query": {"type": "string", "description": f"The {key} as the user names it."}},
                    "required": ["query"],
                },
            },
            "annotations": {"readOnlyHint": True},
        }
        others = [t for n, t in tools.items() if n != call["name"]]
        offered = [acting, finder, *rng.sample(others, min(1, len(others)))]
        rng.shuffle(offered)
        lookup = {"name": f"find_{key}", "arguments": {"query": value}}
        acted = {
            "name": call["name"],
            "arguments": {
                (id_key if k == key else k): (found_id if k == key else v) for k, v in call["arguments"].items()
            },
        }
        base = {"request": single["request"], "tools": offered, "kind": "lookup"}
        items.append({**base, "calls": [lookup]})
        messages = [
            {"role": "user", "content": single["request"]},
            assistant_calls([lookup], 0),
            *tool_results([lookup], 0, [{"id": found_id, key: value}]),
        ]
        items.append({**base, "messages": messages, "calls": [acted], "kind": "looked_up"})
        items.append(finished(base, messages, [acted]))
    return items


def merged_parallel_items(items: list[dict[str, Any]], writer: Engine) -> list[dict[str, Any]]:
    """Parallel items asked as one sentence that names the values together (as users ask: "… for A and B"), written
    by `writer` from the two requests; kept only where every value of the two requests is still said."""
    merged = []
    for item in items:
        first, second = item["parts"]
        ask = (
            "Write these two requests as one short request that asks for both at once, naming the values together "
            '(for example "… for X and for Y"). Keep every value exactly as written. Reply with the request only.\n'
            f"1. {first}\n2. {second}"
        )
        text = (writer.chat([{"role": "user", "content": ask}]).message.content or "").strip().strip('"')
        values = [str(v) for c in item["calls"] for v in scalars(c["arguments"]) if not isinstance(v, bool)]
        said = [v for v in values if v.lower() in (first + second).lower()]
        if "\n" in text or not text or any(v.lower() not in text.lower() for v in said):
            continue
        merged.append({**item, "request": text, "kind": "parallel_one"})
    return merged


def same_calls(made: list[dict[str, Any]], wanted: list[dict[str, Any]]) -> bool:
    key = lambda c: json.dumps(c, sort_keys=True)  # noqa: E731
    return sorted(map(key, made)) == sorted(map(key, wanted))


def call_block(calls: list[dict[str, Any]]) -> str:
    """Calls as the engine's call list for the Qwen family (what the constrained call pass writes)."""
    return f"<tool_call>\n{json.dumps(calls, ensure_ascii=False)}\n</tool_call>\n"


def plan_text(calls: list[dict[str, Any]]) -> str:
    """One numbered line per call, continuing the plan prefix's "1."."""
    lines = [
        f"{c['name']}({', '.join(f'{k}={json.dumps(v, ensure_ascii=False)}' for k, v in c['arguments'].items())})"
        for c in calls
    ]
    return " " + "\n".join(line if i == 0 else f"{i + 1}. {line}" for i, line in enumerate(lines))


def oracle_text(item: dict[str, Any], stage: str) -> str | None:
    """What a pass of this stage should say for this item (None: the oracle has no answer for it)."""
    if not item["calls"]:
        return item.get("answer") if stage in ("decide", "answer") else None
    if stage == "decide":
        return DECIDE_CALL
    if stage in ("call", "fallback", "repair"):
        return call_block(item["calls"])
    if stage == "plan":
        return plan_text(item["calls"])
    return None


class NoOracle(Exception):
    """The engine asked for a pass the oracle cannot write."""


def traced(engine: Engine, item: dict[str, Any], oracle: bool = False) -> tuple[bool, list[dict[str, Any]], float]:
    """Whether the engine's result is the item's, the passes it made, and its seconds (`oracle`: the passes are
    written from the item, not generated)."""
    passes: list[dict[str, Any]] = []
    model = engine.model
    assert isinstance(model, LlamaModel)
    original = _Run.generate

    def written(run: _Run, llm: LlamaModel, prompt: str | list[int], stage: str, **kwargs: Any) -> Any:
        text = oracle_text(item, stage)
        if text is None:
            raise NoOracle(stage)
        finish = "constraint" if text.startswith("<tool_call>") else "stop"
        # The probe only decides: learnt are the words up to its decision (a no-tool answer's opening).
        cut = stage == "decide"
        learnt = item.get("opening", NO_TOOL_OPENING) if cut and not item["calls"] else text
        completion = Completion(
            text=text,
            tokens=llm.tokenize(text),
            finish_reason=finish,
            prompt_tokens=0,
            cached_tokens=0,
            prompt_seconds=0.0,
            generation_seconds=0.0,
        )
        run.record(stage, completion)
        shown = prompt if isinstance(prompt, str) else llm.detokenize(prompt)
        passes.append({"stage": stage, "prompt": shown, "completion": learnt, "finish": finish, "cut": cut})
        return completion

    def recording(run: _Run, llm: LlamaModel, prompt: str | list[int], stage: str, **kwargs: Any) -> Any:
        cut = []  # whether the engine's `stop_when` ended the generation (not the model's end token)
        if (stop_when := kwargs.get("stop_when")) is not None:

            def noted(text: str) -> bool:
                cut.append(stop_when(text))
                return cut[-1]

            kwargs["stop_when"] = noted
        completion = original(run, llm, prompt, stage, **kwargs)
        text = prompt if isinstance(prompt, str) else llm.detokenize(prompt)
        passes.append(
            {
                "stage": stage,
                "prompt": text,
                "completion": completion.text,
                "finish": completion.finish_reason,
                "cut": bool(cut and cut[-1]),
            }
        )
        return completion

    _Run.generate = written if oracle else recording  # type: ignore[method-assign]
    began = time.perf_counter()
    try:
        messages = item.get("messages") or [{"role": "user", "content": item["request"]}]
        result = engine.chat(messages, tools=item["tools"])
    except NoOracle as stage:
        passes.append({"stage": str(stage), "no_oracle": True})
        return False, passes, time.perf_counter() - began
    finally:
        _Run.generate = original  # type: ignore[method-assign]
    seconds = time.perf_counter() - began
    calls = [
        {"name": c.function.name, "arguments": json.loads(c.function.arguments)}
        for c in result.message.tool_calls or []
    ]
    ok = same_calls(calls, item["calls"]) if item["calls"] else (not calls and bool(result.message.content))
    return ok, passes, seconds


DECIDE_CALL = "```json\n{"
"""How the 0.5B opens a call when free to choose (the probe decides "call" there)."""
NO_TOOL_OPENING = "None of the tools I have"
"""The opening learnt for a request no tool serves: the probe decides "text" there, the rest is the model's own."""


DONE_OPENING = "Done"
"""The opening learnt where every call asked for has its result: the probe decides "text" there."""


def no_tool_answer(item: dict[str, Any]) -> str:
    names = ", ".join(name_of(t) for t in item["tools"])
    return f"{NO_TOOL_OPENING} ({names}) does what you ask, so I can't do it with them."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="+", type=Path)
    parser.add_argument("--teacher", default="qwen2.5-coder-1.5b")
    parser.add_argument("--student", action="store_true", help="run each item on the 0.5B too")
    parser.add_argument("--joined", type=int, default=0)
    parser.add_argument("--parallel", type=int, default=0)
    parser.add_argument("--unserved", type=int, default=0)
    parser.add_argument("--continued", action="store_true", help="the joined items again, after their first results")
    parser.add_argument("--lookups", action="store_true", help="singles whose tool takes an id looked up first")
    parser.add_argument(
        "--merge-parallel", action="store_true", help="also each parallel item as one sentence (the teacher writes it)"
    )
    parser.add_argument("--oracle", action="store_true", help="passes written from the items, not generated")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    items = [json.loads(line) for path in args.data for line in path.read_text().splitlines() if line.strip()]
    singles = [i for i in items if len(i["calls"]) == 1]
    parallel = parallel_items(singles, args.parallel, rng)
    if args.merge_parallel:
        parallel += merged_parallel_items(parallel, Engine(load_model(args.teacher)))
        print(f"{sum(i['kind'] == 'parallel_one' for i in parallel)} parallel items as one sentence", flush=True)
    joined = joined_items(singles, args.joined, rng)
    items += joined + parallel + (continued_items(joined) if args.continued else [])
    items += lookup_items(singles, rng) if args.lookups else []
    items += unserved_items(singles, args.unserved, rng)
    rng.shuffle(items)
    for item in items:
        if not item["calls"] and "answer" not in item:
            item["answer"] = no_tool_answer(item)
    # The oracle's engine needs a model only for its chat template and tokens: the student's own.
    teacher = Engine(load_model(STUDENT if args.oracle else args.teacher), tuned_options(STUDENT))
    student = Engine(load_model(STUDENT), tuned_options(STUDENT)) if args.student else None
    kept = 0
    with args.out.open("w") as out:
        for number, item in enumerate(items, 1):
            ok, passes, seconds = traced(teacher, item, oracle=args.oracle)
            record: dict[str, Any] = {**item, "teacher_ok": ok, "teacher_s": round(seconds, 2), "passes": passes}
            if student is not None:
                record["student_ok"], _, record["student_s"] = traced(student, item)
            kept += ok
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            out.flush()
            print(
                f"{number}/{len(items)} {item.get('kind', 'listed')}: teacher {'ok' if ok else 'no'} {seconds:.1f} s"
                + (f", student {'ok' if record['student_ok'] else 'no'}" if student is not None else "")
                + f"; kept {kept}",
                flush=True,
            )


if __name__ == "__main__":
    main()

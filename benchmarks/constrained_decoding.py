"""What schema-constrained decoding and KV-prefix reuse cost and save, measured in one run (see README.md).

1. Generation speed of one long tool call: unconstrained, under our llguidance constraint, and under
   llama.cpp's own GBNF grammar sampler (the baseline the issue cites), on the same model and prompt.
2. Seconds per `Engine.chat` tool-call request with and without reuse of the KV cache for a shared prefix.

Methods are interleaved (A, B, A, B, …) and medians reported, so that background load hits all of them alike.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import datetime
from importlib.metadata import version
from typing import Any, TypeVar

from llama_cpp.llama_grammar import LlamaGrammar

from rixin.calling import CallingOptions, Engine, open_model, with_options
from rixin.calling.constrain import GrammarConstraint, call_schema, json_grammar
from rixin.calling.prompt import render_prompt
from rixin.cli.demo_tools import convert_currency, get_weather
from rixin.models.llama import LlamaModel, Logits
from rixin.tools import tool
from rixin.types import ChatResult, GenerationOptions, Message

T = TypeVar("T")
Row = dict[str, float]


@tool
def save_note(title: str, lines: list[str]) -> str:
    """Save a note.

    Args:
        title: A short title.
        lines: The note's lines, one sentence each.
    """
    return f"saved {title!r} ({len(lines)} lines)"


# Greedy decoding answers this with about 136 tokens of tool call: a long list of strings.
LONG_REQUEST = "Save a note titled 'Python tips' with twenty short tips for writing good Python code, one tip per line."
QUESTIONS = [
    "What's the weather in Paris right now?",
    "How much is 250 US dollars in Chinese yuan?",
    "Is it colder in Beijing or in Tokyo today? Answer in fahrenheit.",
    "Convert 99.5 euros to Japanese yen, please.",
]


class TimedConstraint:
    """A greedy GrammarConstraint, as the engine builds one, that adds up the seconds spent inside it."""

    def __init__(self, tokenizer: Any, lark: str, n_vocab: int) -> None:
        self.inner, self.seconds = GrammarConstraint(tokenizer, lark, n_vocab, greedy=True), 0.0

    def _timed(self, fn: Callable[..., T], *args: Any) -> T:
        start = time.perf_counter()
        result = fn(*args)
        self.seconds += time.perf_counter() - start
        return result

    def forced_tokens(self) -> list[int]:
        return self._timed(self.inner.forced_tokens)

    def mask(self, logits: Logits) -> None:
        self._timed(self.inner.mask, logits)

    def accept(self, token: int) -> bool:
        return self._timed(self.inner.accept, token)

    def is_finished(self) -> bool:
        return self._timed(self.inner.is_finished)


def median(rows: list[Row], key: str) -> float:
    return statistics.median(row[key] for row in rows)


def paired(a: list[Row], b: list[Row], key: str, base: str, *, diff: bool = False) -> float:
    """Median over rounds of a[key] / b[base] (or a[key] - b[base]): a round's runs saw the same background load."""
    return statistics.median(x[key] - y[base] if diff else x[key] / y[base] for x, y in zip(a, b, strict=True))


def generation_speed(model: LlamaModel, engine: Engine, repeats: int, n_tokens: int) -> dict[str, Any]:
    """Every method continues the same prompt (a chat with tools, up to `<tool_call>\\n`) for `n_tokens` tokens
    of one long call to `save_note`; both grammars come from the same JSON Schema. Each run evaluates the last
    prompt token again (the rest is cached) and is timed from there."""
    info, tools = model.info, [get_weather, convert_currency, save_note]
    messages = [Message(role="user", content=LONG_REQUEST)]
    text = render_prompt(info.chat_template, engine.family, messages, tools, bos_token=info.bos_token)
    prompt = model.tokenize(text + engine.family.call_open + "\n")
    schema = call_schema([save_note])
    gbnf_schema = json.dumps({k: v for k, v in schema.items() if k != "x-guidance"})
    gbnf = LlamaGrammar.from_json_schema(gbnf_schema, verbose=False)
    options = GenerationOptions(max_tokens=n_tokens, temperature=0.0)
    lark, tokenizer = json_grammar(schema), model.constraint_tokenizer()  # the tokenizer is built once, here

    def ours(constrained: bool) -> Row:
        constraint = TimedConstraint(tokenizer, lark, info.n_vocab) if constrained else None
        done = model.generate(prompt, options, constraint=constraint)
        n, inside = len(done.tokens), constraint.seconds if constraint else 0.0
        return {"tokens": n, "sampled": n - done.forced_tokens, "seconds": done.generation_seconds, "in": inside}

    def llama_cpp(grammar: LlamaGrammar | None) -> Row:
        # llama-cpp-python's own loop. A 1-token call (last prompt token, sampler and grammar set-up, one sample)
        # is subtracted from an n-token one, leaving n-1 tokens of generation.
        seconds, tokens = [], []
        for limit in (1, n_tokens):
            model._llm.n_tokens = len(prompt) - 1  # like ours: only the last prompt token is evaluated again
            start = time.perf_counter()
            out: Any = model._llm.create_completion(prompt, max_tokens=limit, temperature=0.0, grammar=grammar)
            seconds.append(time.perf_counter() - start)
            tokens.append(int(out["usage"]["completion_tokens"]))
        n = tokens[1] - tokens[0]
        return {"tokens": n, "sampled": n, "seconds": seconds[1] - seconds[0], "in": 0.0}

    methods: dict[str, Callable[[], Row]] = {
        "rixin, unconstrained": lambda: ours(False),
        "rixin, llguidance constraint": lambda: ours(True),
        "llama-cpp-python, no grammar": lambda: llama_cpp(None),
        "llama-cpp-python, GBNF (cited)": lambda: llama_cpp(gbnf),
    }
    names = list(methods)
    runs: dict[str, list[Row]] = {name: [] for name in names}
    for name in names:  # warm-up, not recorded
        methods[name]()
    for r in range(repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:  # interleaved, in a rotating order
            runs[name].append(methods[name]())
    model.forget_cache()  # llama-cpp-python changed the KV cache behind the model's back

    medians: dict[str, Row] = {}
    for name, rows in runs.items():
        for row in rows:
            row["tok/s all"] = row["tokens"] / row["seconds"]
            row["tok/s sampled"] = row["sampled"] / row["seconds"]
            row["ms/sampled"] = 1000 * row["seconds"] / row["sampled"]
            row["constraint ms"] = 1000 * row["in"] / row["sampled"]  # per sampled token, inside the constraint
        medians[name] = {key: median(rows, key) for key in rows[0]}
    plain, ours_c, lcpp, gbnf_m = (runs[name] for name in names)
    ratios = {  # medians of per-round ratios
        "speed constrained/unconstrained (sampled)": paired(ours_c, plain, "tok/s sampled", "tok/s all"),
        "speed constrained/unconstrained (all tokens)": paired(ours_c, plain, "tok/s all", "tok/s all"),
        "constraint overhead, ms per sampled token": paired(ours_c, plain, "ms/sampled", "ms/sampled", diff=True),
        "speed GBNF/rixin unconstrained": paired(gbnf_m, plain, "tok/s all", "tok/s all"),
        "speed GBNF/llama-cpp-python no grammar": paired(gbnf_m, lcpp, "tok/s all", "tok/s all"),
    }
    return {"prompt_tokens": len(prompt), "medians": medians, "ratios": ratios, "runs": runs}


def prefix_reuse(engine: Engine, model: LlamaModel, repeats: int) -> dict[str, Any]:
    """Tool-call requests over the demo tools, alternating `reuse_prefix` on and off (off also empties the KV
    cache first). Each request follows one about another question, so a reused prefix ends at the question."""
    engines = {f"reuse_prefix={on}": with_options(engine, reuse_prefix=on) for on in (True, False)}
    runs: dict[str, list[Row]] = {name: [] for name in engines}
    outputs: dict[str, list[str]] = {name: [] for name in engines}

    def ask(chosen: Engine, question: str, choice: str) -> ChatResult:
        tools = [get_weather, convert_currency]
        return chosen.chat([{"role": "user", "content": question}], tools=tools, tool_choice=choice)

    model.forget_cache()
    ask(engines["reuse_prefix=True"], "What's the weather in London?", "required")  # warm-up: fills the cache
    for r in range(repeats):
        for q, question in enumerate(QUESTIONS):
            choice = ("required", "auto")[(q + r) % 2]  # each question meets both choices over the repeats
            for name, chosen in engines.items():
                if not chosen.options.reuse_prefix:
                    model.forget_cache()
                result = ask(chosen, question, choice)
                valid = result.error is None and bool(result.message.tool_calls)
                runs[name].append({**result.timings, "required": float(choice == "required"), "valid": valid})
                outputs[name].append(result.raw_output)
    medians: dict[str, Row] = {}
    for name, rows in runs.items():
        medians[name] = {key: median(rows, key) for key in ("prompt_s", "generation_s", "total_s")}
        for choice, flag in (("required", 1.0), ("auto", 0.0)):
            medians[name][f"{choice} total"] = median([row for row in rows if row["required"] == flag], "total_s")
        medians[name]["valid calls"] = sum(row["valid"] for row in rows)
    on, off = runs.values()
    same = sum(a == b for a, b in zip(*outputs.values(), strict=True))
    ratios = {  # medians of per-request ratios
        "time per call reuse/no reuse": paired(on, off, "total_s", "total_s"),
        "prompt time reuse/no reuse": paired(on, off, "prompt_s", "prompt_s"),
        f"identical outputs (of {len(QUESTIONS) * repeats})": same,
    }
    return {"calls": len(QUESTIONS) * repeats, "medians": medians, "ratios": ratios, "runs": runs}


def show(title: str, medians: dict[str, Row], ratios: dict[str, float], columns: list[str]) -> None:
    print(f"\n{title}\n  {'method':31}" + "".join(f"{column:>15}" for column in columns))
    for name, row in medians.items():
        print(f"  {name:31}" + "".join(f"{row[column]:>15.3f}" for column in columns))
    for name, value in ratios.items():
        print(f"  {name:45} {value:8.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=96, help="tokens generated per run in benchmark 1")
    parser.add_argument("--json-out", help="also write the numbers (and every run) as JSON to this path")
    args = parser.parse_args()

    started = time.perf_counter()
    engine = open_model(args.model, CallingOptions())
    model = engine.model
    assert isinstance(model, LlamaModel), "these benchmarks need an embedded model"
    machine = {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpus": f"{os.cpu_count()} x {platform.machine()}",
        "python": platform.python_version(),
        "llama-cpp-python": version("llama-cpp-python"),
        "llguidance": version("llguidance"),
        "model": f"{model.name} ({model.info.path.name})",
    }
    print("  ".join(f"{k}: {v}" for k, v in machine.items()))

    speed = generation_speed(model, engine, args.repeats, args.tokens)
    section = time.perf_counter()
    title = f"1. Generating {args.tokens} tokens of a tool call after a {speed['prompt_tokens']}-token prompt"
    columns = ["tokens", "sampled", "tok/s all", "tok/s sampled", "ms/sampled", "constraint ms"]
    show(f"{title} (medians of {args.repeats})", speed["medians"], speed["ratios"], columns)
    print("  target: the constraint costs <= 15% of generation speed, i.e. constrained/unconstrained >= 0.85")
    print(f"  (loading the model and benchmark 1 took {section - started:.0f} s)")

    reuse = prefix_reuse(engine, model, args.repeats)
    title = f"2. Engine.chat tool-call requests, seconds per call (medians of {reuse['calls']})"
    columns = ["prompt_s", "generation_s", "total_s", "required total", "auto total", "valid calls"]
    show(title, reuse["medians"], reuse["ratios"], columns)
    print(f"  (benchmark 2 took {time.perf_counter() - section:.0f} s)")

    if args.json_out:
        report = {"machine": machine, "args": vars(args), "generation_speed": speed, "prefix_reuse": reuse}
        with open(args.json_out, "w", encoding="utf-8") as out:
            json.dump(report, out, indent=2)


if __name__ == "__main__":
    main()

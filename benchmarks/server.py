"""What `rixin serve` costs over calling the model in-process, and how it holds 32 concurrent streaming clients
(see README.md).

1. Overhead: the same request (one prompt, greedy, `--max-tokens`) made `--repeat` times each way, interleaved:
   `Engine.chat` in this process (the baseline), `POST /v1/chat/completions` non-streamed, and streamed (to
   `[DONE]`), on the same loaded model. Medians, and the median of per-round ratios and differences.
2. Load: `--clients` streaming clients (in a child process, so their parsing does not share this process's GIL)
   send `--requests` requests in all to the server (queue as long as the client count). Every request must end
   with its finish chunk and `[DONE]` and the baseline's text; latency percentiles and throughput are reported,
   with ratios against the baseline measured in part 1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
import uvicorn

PROMPT = "Name three primary colors, separated by commas."
MESSAGES = [{"role": "user", "content": PROMPT}]


@dataclass
class Sample:
    seconds: float
    text: str
    first_token_s: float | None = None
    status: int = 200
    complete: bool = True


# -- the server, in a thread of this process -----------------------------------------------------------------
class ServerThread:
    def __init__(self, engine: Any, db: str, queue_size: int) -> None:
        from rixin.server import ServerSettings, create_app
        from rixin.store import open_store

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.store = open_store(db)
        settings = ServerSettings(no_auth=True, port=self.port, queue_size=queue_size)
        app = create_app(settings, model=engine, store=self.store)
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if time.monotonic() > deadline:
                raise SystemExit("the server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.store.close()


def body(model: str, max_tokens: int, stream: bool) -> dict[str, Any]:
    return {"model": model, "messages": MESSAGES, "max_tokens": max_tokens, "temperature": 0, "stream": stream}


# -- part 1: one request at a time -----------------------------------------------------------------------------
def direct(engine: Any, max_tokens: int) -> Sample:
    from rixin.types import GenerationOptions

    started = time.perf_counter()
    result = engine.chat(MESSAGES, options=GenerationOptions(max_tokens=max_tokens, temperature=0.0))
    return Sample(time.perf_counter() - started, result.message.content or "")


def served(http: httpx.Client, url: str, model: str, max_tokens: int) -> Sample:
    started = time.perf_counter()
    response = http.post(url + "/chat/completions", json=body(model, max_tokens, False))
    seconds = time.perf_counter() - started
    response.raise_for_status()
    return Sample(seconds, response.json()["choices"][0]["message"]["content"] or "")


def read_stream(lines: list[str]) -> tuple[str, bool]:
    """The text of a chat stream's chunks, and whether it ended properly (a finish_reason, then `[DONE]`)."""
    text, finished = "", False
    for line in lines:
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        for choice in json.loads(line[6:])["choices"]:
            text += choice["delta"].get("content") or ""
            finished = finished or choice.get("finish_reason") is not None
    return text, finished and bool(lines) and lines[-1] == "data: [DONE]"


def served_stream(http: httpx.Client, url: str, model: str, max_tokens: int) -> Sample:
    started = time.perf_counter()
    first: float | None = None
    lines: list[str] = []
    with http.stream("POST", url + "/chat/completions", json=body(model, max_tokens, True)) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if first is None and '"content": "' in line and '"content": ""' not in line:
                first = time.perf_counter() - started
            if line:
                lines.append(line)
    text, complete = read_stream(lines)
    return Sample(time.perf_counter() - started, text, first, complete=complete)


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def record_run(store: Any) -> None:
    """What the server writes for each chat completion: a run started, then finished (each a durable commit)."""
    run_id = "bench_" + os.urandom(8).hex()
    store.start_run("bench", "chat.completion", run_id=run_id, data={"model": "bench"})
    store.finish_run(run_id, "completed", data={"finish_reason": "stop"})


# -- part 2: many streaming clients, in a child process ----------------------------------------------------------
async def one_request(client: httpx.AsyncClient, url: str, payload: dict[str, Any]) -> Sample:
    started = time.perf_counter()
    first: float | None = None
    lines: list[str] = []
    async with client.stream("POST", url + "/chat/completions", json=payload) as response:
        if response.status_code != 200:
            await response.aread()
            return Sample(time.perf_counter() - started, "", None, response.status_code, False)
        async for line in response.aiter_lines():
            if first is None and '"content": "' in line and '"content": ""' not in line:
                first = time.perf_counter() - started
            if line:
                lines.append(line)
    text, complete = read_stream(lines)
    return Sample(time.perf_counter() - started, text, first, 200, complete)


async def many_clients(url: str, payload: dict[str, Any], clients: int, requests: int) -> tuple[float, list[Sample]]:
    todo: asyncio.Queue[int] = asyncio.Queue()
    for number in range(requests):
        todo.put_nowait(number)
    samples: list[Sample] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async with httpx.AsyncClient(timeout=httpx.Timeout(600), limits=limits) as client:

        async def worker() -> None:
            while not todo.empty():
                todo.get_nowait()
                try:
                    samples.append(await one_request(client, url, payload))
                except httpx.HTTPError as error:
                    samples.append(Sample(0.0, f"{type(error).__name__}: {error}", None, 0, False))

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        return time.perf_counter() - started, samples


def client_process(url: str, payload: dict[str, Any], clients: int, requests: int, conn: Connection) -> None:
    wall, samples = asyncio.run(many_clients(url, payload, clients, requests))
    conn.send((wall, [asdict(sample) for sample in samples]))
    conn.close()


def load_test(url: str, payload: dict[str, Any], clients: int, requests: int) -> tuple[float, list[Sample]]:
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=client_process, args=(url, payload, clients, requests, sender))
    child.start()
    wall, raw = receiver.recv()
    child.join()
    return wall, [Sample(**sample) for sample in raw]


# -- reporting ------------------------------------------------------------------------------------------------
def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="smollm2-135m", help="embedded model (default smollm2-135m)")
    parser.add_argument("--threads", type=int, default=1, help="llama.cpp threads (default 1)")
    parser.add_argument("--max-tokens", type=int, default=16, help="tokens per answer (default 16)")
    parser.add_argument("--repeat", type=int, default=20, help="requests per method in part 1 (default 20)")
    parser.add_argument("--clients", type=int, default=32, help="concurrent streaming clients (default 32)")
    parser.add_argument("--requests", type=int, default=64, help="requests in part 2 (default 64)")
    parser.add_argument("--json-out", type=Path, help="write every sample and the summary as JSON")
    args = parser.parse_args()

    from rixin.calling import open_model

    engine = open_model(args.model, None, n_threads=args.threads)
    model = engine.name
    print(
        f"date: {datetime.now().isoformat(timespec='seconds')}  cpus: {os.cpu_count()}  "
        f"python: {platform.python_version()}  model: {model}  threads: {args.threads}  "
        f"max_tokens: {args.max_tokens}  load: {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    with (
        tempfile.TemporaryDirectory(prefix="rixin-bench-") as folder,
        ServerThread(engine, f"sqlite:///{folder}/bench.db", queue_size=max(args.clients, 16)) as server,
        httpx.Client(timeout=600) as http,
    ):
        methods: dict[str, Callable[[], Sample]] = {
            "in-process Engine.chat": lambda: direct(engine, args.max_tokens),
            "server, non-streamed": lambda: served(http, server.url, model, args.max_tokens),
            "server, streamed": lambda: served_stream(http, server.url, model, args.max_tokens),
        }
        floors: dict[str, Callable[[], float]] = {
            "HTTP round trip, GET /v1/models": lambda: timed(
                lambda: http.get(server.url + "/models").raise_for_status()
            ),
            "store: a run's start and finish (2 commits)": lambda: timed(lambda: record_run(server.store)),
        }
        floor_samples: dict[str, list[float]] = {name: [] for name in floors}
        for run in methods.values():  # warm-up: the prompt's prefix in the KV cache, connections open
            run()
        samples: dict[str, list[Sample]] = {name: [] for name in methods}
        for number in range(args.repeat):
            names = list(methods)
            names = names[number % len(names) :] + names[: number % len(names)]  # rotate the order each round
            for name in names:
                samples[name].append(methods[name]())
            for name, measure in floors.items():
                floor_samples[name].append(measure())
            if sys.stdout.isatty():
                print(f"\r1. one at a time: {number + 1}/{args.repeat}", end="", flush=True)
        print()
        baseline = samples["in-process Engine.chat"]
        base_s = statistics.median(s.seconds for s in baseline)
        reference = baseline[0].text

        print(f"\n1. One request at a time ({args.repeat} interleaved rounds, medians)\n")
        print("| method | median ms | ratio to in-process | overhead ms | same text |")
        print("|---|---:|---:|---:|---:|")
        summary: dict[str, Any] = {"in_process_median_ms": base_s * 1000}
        for name, values in samples.items():
            median = statistics.median(s.seconds for s in values)
            ratio = statistics.median(v.seconds / b.seconds for v, b in zip(values, baseline, strict=True))
            extra = statistics.median(v.seconds - b.seconds for v, b in zip(values, baseline, strict=True))
            same = sum(v.text == reference and v.complete for v in values)
            print(f"| {name} | {ms(median)} | {ratio:.3f}× | {ms(extra)} | {same}/{len(values)} |")
            summary[name] = {"median_ms": median * 1000, "ratio": ratio, "overhead_ms": extra * 1000}
        print("\nwhere the overhead goes (medians of the same rounds):")
        for name, times in floor_samples.items():
            print(f"  {name}: {ms(statistics.median(times))} ms")
            summary[name] = {"median_ms": statistics.median(times) * 1000}
        firsts = [s.first_token_s for s in samples["server, streamed"] if s.first_token_s is not None]
        if firsts:
            print(f"\nstreamed: first text after {ms(statistics.median(firsts))} ms (median)")

        print(f"\n2. {args.clients} concurrent streaming clients, {args.requests} requests", flush=True)
        wall, results = load_test(server.url, body(model, args.max_tokens, True), args.clients, args.requests)
    served_ok = [r for r in results if r.status == 200 and r.complete]
    identical = sum(r.text == reference for r in served_ok)
    statuses: dict[int, int] = {}
    for r in results:
        statuses[r.status] = statuses.get(r.status, 0) + 1
    lost = args.requests - len(served_ok)
    latencies = [r.seconds for r in served_ok]
    firsts2 = [r.first_token_s for r in served_ok if r.first_token_s is not None]
    throughput = len(served_ok) / wall
    per_request = wall / max(1, len(served_ok))
    print(f"\nserved {len(served_ok)}/{args.requests}, lost {lost}, statuses {statuses}, same text {identical}")
    print(f"wall {wall:.2f} s, throughput {throughput:.2f} requests/s (in-process, one at a time: {1 / base_s:.2f})")
    print("\n| | p50 ms | p90 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|")
    for label, column in (("latency (to [DONE])", latencies), ("first text", firsts2)):
        if column:
            cells = [ms(percentile(column, q)) for q in (50, 90, 99)] + [ms(max(column))]
            print(f"| {label} | " + " | ".join(cells) + " |")
    print(
        f"\nservice time per request {ms(per_request)} ms = {per_request / base_s:.3f}× in-process; "
        f"throughput {throughput * base_s:.3f}× in-process"
    )
    summary["load"] = {
        "clients": args.clients,
        "requests": args.requests,
        "served": len(served_ok),
        "lost": lost,
        "statuses": statuses,
        "same_text": identical,
        "wall_s": wall,
        "throughput_rps": throughput,
        "throughput_ratio": throughput * base_s,
        "service_ms_per_request": per_request * 1000,
        "latency_ms": {str(q): percentile(latencies, q) * 1000 for q in (50, 90, 99)} if latencies else {},
    }
    if args.json_out:
        everything = {
            "summary": summary,
            "one_at_a_time": {name: [asdict(s) for s in values] for name, values in samples.items()},
            "load": [asdict(r) for r in results],
        }
        args.json_out.write_text(json.dumps(everything, indent=1))
    if lost:
        raise SystemExit(f"{lost} request(s) were not served")


if __name__ == "__main__":
    main()

"""The flagship task: from the national population table and a map of China, draw every province's population.

An agent on the embedded model gets the code interpreter and two shipped files in its sandbox: the 2020
census population table and an offline province map. It writes the analysis code itself; errors in that
code go back to it until the chart is saved (or its turns run out). Success is checked, not assumed: the
PNG must exist in the session's work folder, be a real image, and have been written by the model's code.
"""

from __future__ import annotations

import dataclasses
import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from rixin.agents import Agent, Step, run_agent
from rixin.models import ChatModel
from rixin.sandbox import Sandbox
from rixin.tools.code_interpreter import CodeInterpreter
from rixin.types import Message

TASK = "通过全国人口数据表格和中国地图，画出全国各省市的人口分布图。"
OUTPUT_NAME = "population_map.png"
MIN_COLOURED_SHARE = 0.05
"""Measured: the model's choropleths (viridis, default figure) colour 11.7% of their pixels; an empty figure
with only a title and axes, which the 1.5B also saved, colours none."""
DATA_FILES = ("population_2020.csv", "china_provinces.geojson")

INSTRUCTIONS = f"""You are a data analyst. You run Python with the code_interpreter tool; the working folder is \
/mnt/data. Write code, run it, read its output, and fix the code when it fails.

Files in /mnt/data:
- population_2020.csv: the 2020 census population of every provincial-level division of China. Columns: \
province (full Chinese name, e.g. 北京市, 广东省), name_en, adcode (integer), population (integer, persons).
- china_provinces.geojson: a map of China's provincial-level divisions. Each feature has the properties \
name (the same full Chinese name as the csv's province column), name_en and adcode.
- Join key: the map's name column equals the csv's province column, so join them with \
map.merge(table, left_on='name', right_on='province').

Installed: pandas, geopandas, matplotlib (a Chinese font is already configured). There is no network.

To draw a population map: read the csv with pandas and the map with geopandas.read_file; join the table to \
the map by name with the GeoDataFrame's merge method (the map's name column matches the csv's province column; \
this is an attribute join, not a spatial join); plot the merged GeoDataFrame coloured by population with a \
legend; write each province's Chinese name at a representative point of its shape with ax.annotate (a \
shape has no columns: loop over rows, `for _, row in merged.iterrows(): p = row.geometry.representative_point(); \
ax.annotate(row['name'], (p.x, p.y), ha='center', fontsize=6)`); add a title; save the figure with \
plt.savefig('/mnt/data/{OUTPUT_NAME}', dpi=150). When the file is saved, answer in one short sentence."""


@dataclass
class FlagshipOutcome:
    image: Path | None
    """The chart copied out of the sandbox, or None when the model never produced it."""
    steps: list[Step] = field(default_factory=list)
    seconds: float = 0.0
    code_runs: int = 0
    code_errors: int = 0
    reviews: int = 0
    """Times the review sent the model back to finish the chart."""
    labelled: bool = False
    """Whether the code that made the chart wrote text on it (the province names)."""

    @property
    def ok(self) -> bool:
        return self.image is not None


def data_path(name: str) -> Path:
    return Path(str(resources.files("rixin.demo").joinpath("data", name)))


def flagship_agent(interpreter: CodeInterpreter, max_turns: int = 6) -> Agent:
    return Agent(
        name="population-map",
        instructions=INSTRUCTIONS,
        tools=[interpreter.tool],
        max_turns=max_turns,
        max_tokens=1024,
        parallel_tool_calls=False,  # one cell at a time: a second cell cannot use what the first one prints
    )


def run_flagship(
    model: ChatModel,
    open_session: Callable[[], Sandbox],
    out_dir: Path,
    *,
    max_turns: int = 6,
    max_reviews: int = 2,
    on_step: Callable[[Step], None] | None = None,
) -> FlagshipOutcome:
    """Run the task once in a fresh sandbox session; copy the chart to `out_dir` when it was made.

    When the model says it is done, its work is reviewed the way a user would: is the file there, are the
    provinces named on it? What is missing goes back to the model as the next request (at most
    `max_reviews` times)."""
    started = time.perf_counter()
    interpreter = CodeInterpreter(open_session)
    outcome = FlagshipOutcome(image=None)
    try:
        for name in DATA_FILES:
            interpreter.upload(data_path(name))
        agent = flagship_agent(interpreter, max_turns)
        history: list[Message] = []
        request = TASK
        for round_ in range(1 + max_reviews):
            for step in run_agent(agent, model, request, history=history):
                outcome.steps.append(step)
                if on_step is not None:
                    on_step(step)
            if outcome.steps[-1].kind != "answer" or round_ == max_reviews:
                break
            request = review(interpreter)
            if not request:
                break
            # Greedy decoding answers a review by repeating its last code; sample so that it can change it. Left
            # free to answer in words, the 1.5B answered every review by claiming the change was made (10 of 10
            # runs); a review asks for a change, so its first turn must run code.
            agent = dataclasses.replace(agent, temperature=agent.retry_temperature, first_tool_choice="required")
            outcome.reviews += 1
            if on_step is not None:
                on_step(Step("review", outcome.steps[-1].turn, request))
        outcome.code_runs = len(interpreter.runs)
        outcome.code_errors = sum(1 for run in interpreter.runs if not run.ok)
        makers = _chart_code(interpreter)
        png = _saved_chart(interpreter, makers)
        if png is not None and png.startswith(b"\x89PNG\r\n\x1a\n") and coloured_share(png) >= MIN_COLOURED_SHARE:
            out_dir.mkdir(parents=True, exist_ok=True)
            target = out_dir / OUTPUT_NAME
            target.write_bytes(png)
            outcome.image = target
            outcome.labelled = _writes_labels(makers)
    finally:
        interpreter.close()
        outcome.seconds = time.perf_counter() - started
    return outcome


def _chart_code(interpreter: CodeInterpreter) -> list[str]:
    """The code of the runs that wrote the chart."""
    runs = zip(interpreter.codes, interpreter.runs, strict=True)
    return [code for code, run in runs if OUTPUT_NAME in run.files]


def _saved_chart(interpreter: CodeInterpreter, makers: list[str]) -> bytes | None:
    """The bytes of the chart file the model's code saved, if it is still there."""
    if not makers or OUTPUT_NAME not in interpreter.session.list_files():
        return None
    return interpreter.session.download(OUTPUT_NAME)


def _writes_labels(makers: list[str]) -> bool:
    return any(".annotate(" in code or ".text(" in code for code in makers)


def review(interpreter: CodeInterpreter) -> str:
    """What is still missing from the model's work, as a request to it ('' when nothing is)."""
    makers = _chart_code(interpreter)
    png = _saved_chart(interpreter, makers)
    if png is None:
        return (
            f"The chart was not saved: /mnt/data/{OUTPUT_NAME} does not exist. Run the code that draws the map "
            f"and saves it with plt.savefig('/mnt/data/{OUTPUT_NAME}', dpi=150)."
        )
    if coloured_share(png) < MIN_COLOURED_SHARE:
        return (
            "The saved chart is empty: no coloured map is drawn on it. Plot the merged GeoDataFrame with its plot "
            "method, coloured by the population column, on the axes you save, then save it again."
        )
    if not _writes_labels(makers):
        return (
            "The map has no province names on it. Draw it again, write each province's Chinese name at "
            "a representative point of its shape with ax.annotate, and save it to the same file."
        )
    return ""


def coloured_share(png: bytes) -> float:
    """The share of pixels with a clearly coloured (not white, grey or black) value: whether a map was drawn."""
    import matplotlib.image

    try:
        pixels = matplotlib.image.imread(io.BytesIO(png), format="png")
    except (ValueError, OSError, SyntaxError):
        return 0.0
    rgb = np.asarray(pixels, dtype=float)[..., :3]
    if rgb.ndim != 3 or rgb.size == 0:
        return 0.0
    saturation = rgb.max(axis=2) - rgb.min(axis=2)
    return float((saturation > 0.15).mean())

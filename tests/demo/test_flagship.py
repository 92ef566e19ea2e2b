"""The flagship's mechanics on the real sandbox and the shipped data: a hand-written solution draws the map
(the environment can do the task), and the agent/review path works with a scripted model. The real model's
success rate is measured by `rixin demo --runs 10` (docs/results.md), not asserted here."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rixin.demo.flagship import DATA_FILES, MIN_COLOURED_SHARE, OUTPUT_NAME, coloured_share, data_path, run_flagship
from rixin.sandbox import Limits, Sandbox, open_sandbox
from rixin.types import ChatResult, Message, ToolCall

SOLUTION = """
import pandas as pd, geopandas as gpd, matplotlib.pyplot as plt
table = pd.read_csv('/mnt/data/population_2020.csv')
shapes = gpd.read_file('/mnt/data/china_provinces.geojson')
merged = shapes.merge(table, left_on='name', right_on='province')
ax = merged.plot(column='population', legend=True, cmap='OrRd', figsize=(10, 8))
for _, row in merged.iterrows():
    point = row.geometry.representative_point()
    ax.annotate(row['province'], (point.x, point.y), fontsize=6, ha='center')
ax.set_title('2020年全国各省人口分布')
plt.savefig('/mnt/data/population_map.png', dpi=80)
print(len(merged))
"""


def open_session() -> Sandbox:
    return open_sandbox("local", limits=Limits(timeout_s=60))


class Scripted:
    name = "scripted"

    def __init__(self, turns: list[ChatResult]) -> None:
        self.turns = turns
        self.requests: list[str] = []
        self.tool_choices: list[object] = []

    def chat(self, messages: Sequence[Message | dict[str, Any]], **kwargs: Any) -> ChatResult:
        self.tool_choices.append(kwargs.get("tool_choice"))
        last = messages[-1]
        if isinstance(last, Message) and last.role == "user":
            self.requests.append(last.content or "")
        return self.turns.pop(0)


def code_turn(code: str) -> ChatResult:
    return ChatResult(message=Message(role="assistant", tool_calls=[ToolCall.make("code_interpreter", {"code": code})]))


def answer(text: str) -> ChatResult:
    return ChatResult(message=Message(role="assistant", content=text))


def test_the_shipped_data_and_the_sandbox_can_draw_the_labelled_map(tmp_path: Path) -> None:
    with open_session() as session:
        for name in DATA_FILES:
            session.upload_file(data_path(name))
        result = session.run(SOLUTION)
        assert result.error is None, result.error
        assert result.stdout.strip() == "34"  # every province joined to its shape
        png = session.download(OUTPUT_NAME)
    assert png.startswith(b"\x89PNG") and len(png) > 20_000
    assert coloured_share(png) > MIN_COLOURED_SHARE


def test_an_error_is_fed_back_and_an_unlabelled_chart_is_sent_back_for_names(tmp_path: Path) -> None:
    unlabelled = SOLUTION.replace("ax.annotate(row['province'], (point.x, point.y), fontsize=6, ha='center')", "pass")
    assert unlabelled != SOLUTION
    model = Scripted(
        [
            code_turn("import pandas as pd\npd.read_csv('/mnt/data/population_2020.csv')['name']"),
            code_turn(unlabelled),
            answer("Saved."),
            code_turn(SOLUTION),
            answer("Saved with names."),
        ]
    )
    outcome = run_flagship(model, open_session, tmp_path)
    assert outcome.ok and outcome.image == tmp_path / OUTPUT_NAME and outcome.image.read_bytes()[:4] == b"\x89PNG"
    assert outcome.code_runs == 3 and outcome.code_errors == 1 and outcome.reviews == 1 and outcome.labelled
    assert "no province names" in model.requests[-1]
    # after the failed cell the next turn must run code (self-correction); the review asks for a change, so its
    # first turn must run code rather than claim the change was made
    assert model.tool_choices == ["auto", "required", "auto", "required", "auto"]
    kinds = [step.kind for step in outcome.steps]
    assert kinds == ["call", "result", "call", "result", "answer", "call", "result", "answer"]


def test_no_chart_means_failure_even_when_the_model_claims_success(tmp_path: Path) -> None:
    model = Scripted([answer("Done, the map is saved."), answer("Really done."), answer("Done!")])
    outcome = run_flagship(model, open_session, tmp_path, max_reviews=2)
    assert not outcome.ok and outcome.image is None and outcome.reviews == 2
    assert not (tmp_path / OUTPUT_NAME).exists()


def test_an_empty_figure_is_not_a_map(tmp_path: Path) -> None:
    empty = "import matplotlib.pyplot as plt\nplt.title('人口')\nplt.savefig('/mnt/data/population_map.png')"
    model = Scripted([code_turn(empty), answer("Saved."), code_turn(SOLUTION), answer("Now with a map.")])
    outcome = run_flagship(model, open_session, tmp_path)
    assert "empty" in model.requests[-1] and outcome.reviews == 1
    assert outcome.ok and outcome.labelled
    assert coloured_share(b"not a png") == 0.0

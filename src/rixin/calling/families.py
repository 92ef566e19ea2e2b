"""Everything that differs between model families lives here, and nowhere else.

A family says how tool calls are written (the tags around a call), whether the model's own chat template
can render tools, and what to tell a model whose template cannot. Families are recognised from the chat
template in the GGUF metadata, never from a model's name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from rixin.calling.fewshot import Example
from rixin.tools import Tool
from rixin.types import Message


@dataclass(frozen=True)
class Family:
    name: str
    call_open: str
    call_close: str
    native_tools: bool
    """The chat template renders `tools` and tool messages itself."""
    parallel_as_list: bool = True
    """Parallel calls are generated as one JSON list inside one tag block: small models decide the number of
    calls far better with `[…, …]` than by opening another tag (measured on Qwen2.5-Coder-0.5B)."""

    answer_request: str = "\nNow answer the user's question in plain words."
    plan_prefix: str = "The function calls this request needs, one per line:\n1."
    """Continues the assistant's turn to make the model list the calls it will make (`plan_calls`)."""
    next_plan_prefix: str = "The function calls still needed to finish the request, one per line:\n1."
    """Continues the assistant's turn after tool results, to list the calls still to make (`plan_next`)."""

    def tools_system_prompt(self, tools: list[Tool]) -> str:
        """Instructions for templates without tool support (the Hermes format, which many models know)."""
        listing = "\n".join(json.dumps(tool.to_openai(), ensure_ascii=False) for tool in tools)
        return (
            "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
            f"You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n{listing}\n"
            "</tools>\n\nFor each function call, return a json object with function name and arguments within "
            f"{self.call_open}{self.call_close} XML tags:\n{self.call_open}\n"
            f'{{"name": <function-name>, "arguments": <args-json-object>}}\n{self.call_close}\n'
            "If no function fits the request, answer in plain text."
        )

    def render_call_history(self, calls: list[dict[str, Any]]) -> str:
        """An earlier assistant turn's calls as text, for templates that cannot render `tool_calls`."""
        blocks = [
            f"{self.call_open}\n{json.dumps({'name': c['name'], 'arguments': c['arguments']}, ensure_ascii=False)}"
            f"\n{self.call_close}"
            for c in calls
        ]
        return "\n".join(blocks)

    def ask_for_answer(self, conversation: list[Message]) -> list[Message]:
        """The conversation with its latest tool results labelled and a firm request to answer in words.

        Small models (Qwen2.5-Coder-0.5B) otherwise repeat the call they just made; softer wording
        ("answer if this is enough") did not stop them, this did (measured on the demo's tasks)."""
        out = list(conversation)
        last = len(out)
        while last > 0 and out[last - 1].role == "tool":
            last -= 1
        for index in range(last, len(out)):
            message = out[index]
            label = f"Result of {message.name}: " if message.name else "Result: "
            out[index] = message.model_copy(update={"content": label + (message.content or "")})
        if last < len(out):
            final = out[-1]
            out[-1] = final.model_copy(update={"content": (final.content or "") + self.answer_request})
        return out

    def ask_without_call(
        self, conversation: list[Message], missing: list[str], unrelated: list[str] | None = None
    ) -> list[Message]:
        """The conversation with a note that the call the model had in mind rests on values nobody gave, or (the
        `unrelated` tools) does something other than what the request asks."""
        if missing:
            why = f"{'; '.join(missing)} would use values that this conversation does not give"
            otherwise = "a question for the value that is missing"
        else:
            why = f"{', '.join(unrelated or [])} does not do what this request asks"
            otherwise = "what you cannot do"
        note = (
            f"\n\n(Do not call a function now: {why}. Reply to the user in one or two plain sentences: the answer "
            f"if you know it, or {otherwise}.)"
        )
        out = list(conversation)
        last = out[-1]
        out[-1] = last.model_copy(update={"content": (last.content or "") + note})
        return out

    def examples_prompt(self, examples: list[Example]) -> str:
        """Few-shot examples, each answer written exactly as this family's calls are generated."""
        blocks = []
        for example in examples:
            if example.calls:
                calls = [{"name": c["name"], "arguments": c["arguments"]} for c in example.calls]
                if self.parallel_as_list:
                    answer = f"{self.call_open}\n{json.dumps(calls, ensure_ascii=False)}\n{self.call_close}"
                else:
                    answer = self.render_call_history(calls)
            else:
                answer = example.answer or "(an answer in plain words, no call)"
            blocks.append(f"User: {example.request}\nTools:\n{example.signature()}\nAssistant: {answer}")
        return (
            "Examples of good answers (with other tools than this conversation's; copy values exactly from the "
            "request, make one call per thing asked, and answer in words when no tool fits or a required value "
            "is missing):\n\n" + "\n\n".join(blocks)
        )

    def with_examples(self, conversation: list[Message], examples: list[Example]) -> list[Message]:
        if not examples:
            return conversation
        text = self.examples_prompt(examples)
        if conversation and conversation[0].role == "system":
            first = conversation[0]
            return [first.model_copy(update={"content": f"{first.content or ''}\n\n{text}"}), *conversation[1:]]
        return [Message(role="system", content=text), *conversation]

    def check_against_request(self, raw: str, missing: list[str]) -> list[Message]:
        """The model's own call and a request to check it against what the user asked (`self_check`)."""
        return [
            Message(role="assistant", content=raw),
            Message(
                role="user",
                content=f"Check that call against my request: {'; '.join(missing)} — I did not say that. If a "
                "function fits my request, call it with values from my request; if another function can look up "
                "a value that is missing, call that one first. If none fits, answer in plain words instead.",
            ),
        ]

    def remind_request(self, conversation: list[Message]) -> list[Message]:
        """After tool results, the user's request restated under the latest result: small models otherwise
        describe the first result and stop ("the cheapest flight is FL201") where the request also said
        "book it"."""
        if not conversation or conversation[-1].role != "tool":
            return conversation
        request = next((m.content for m in reversed(conversation) if m.role == "user" and m.content), None)
        if not request:
            return conversation
        note = (
            f"\n\n(My request was: {request}\nIf it needs another function call, make that call now, using "
            "these results. If everything it asks is done, answer in plain words.)"
        )
        last = conversation[-1]
        return [*conversation[:-1], last.model_copy(update={"content": (last.content or "") + note})]

    result_open: str = "<tool_response>"

    def render_tool_result(self, content: str) -> str:
        return f"{self.result_open}\n{content}\n</tool_response>"

    def echoes_result(self, text: str) -> bool:
        """The model wrote a tool result itself instead of an answer."""
        return text.lstrip().startswith(self.result_open)


HERMES = Family(name="hermes", call_open="<tool_call>", call_close="</tool_call>", native_tools=True)
"""Qwen2.5/Qwen3, Hermes and other templates that render tools and `<tool_call>` tags themselves."""

GENERIC = Family(name="generic", call_open="<tool_call>", call_close="</tool_call>", native_tools=False)
"""Any other template (SmolLM2, Llama-2 style …): tools are described in the system prompt."""


def family_for_template(template: str | None) -> Family:
    if template and "tools" in template and "<tool_call>" in template:
        return HERMES
    return GENERIC

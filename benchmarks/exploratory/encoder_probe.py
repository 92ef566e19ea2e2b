"""Cosines the sentence encoder gives requests against a tool, and how long each took (development probe)

    python benchmarks/exploratory/encoder_probe.py TOOL_NAME "TOOL DESCRIPTION" "REQUEST" ["REQUEST" ...]

The tool is written as `ground_tools` writes it (rixin.calling.relevance.tool_text). The first line is the
encoder's load time; then one line per request: cosine, seconds, request.
"""

from __future__ import annotations

import sys
import time

from rixin.calling.relevance import tool_text
from rixin.models.embedding import sentence_encoder


def main(name: str, description: str, requests: list[str]) -> None:
    started = time.perf_counter()
    encoder = sentence_encoder()
    print(f"load {time.perf_counter() - started:.3f} s")
    tool = tool_text(name, description)
    for request in requests:
        started = time.perf_counter()
        cosine = encoder.similarity(request, tool)
        print(f"{cosine:6.3f}  {time.perf_counter() - started:.3f} s  {request}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])

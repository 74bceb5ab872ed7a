"""The meta-test: every hook has a section and a tested example in docs/plugins.md, and a test.

Adding a hook to melodynet/hookspecs.py makes these fail until both exist.
"""

import re
from pathlib import Path

import pytest

from melodynet import hookspecs

from .conftest import ROOT
from .test_plugins import DOC, doc_blocks

THIS = Path(__file__).resolve()


def hook_names() -> list[str]:
    return sorted(
        name
        for name, value in vars(hookspecs).items()
        if callable(value) and hasattr(value, "melodynet_spec")
    )


def test_hooks_are_found():
    assert {"register_models", "register_writers", "register_commands"} <= set(hook_names())


@pytest.mark.parametrize("hook", hook_names())
def test_every_hook_has_a_doc_section(hook):
    text = DOC.read_text(encoding="utf-8")
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert any(re.search(rf"\b{hook}\(", heading) for heading in headings), (
        f"docs/plugins.md has no section for hook {hook}: add a '### `{hook}(...)`' heading "
        "with its signature and an example"
    )
    assert any(hook in code for _, code in doc_blocks("example")), (
        f"docs/plugins.md has no tested example implementing {hook}"
    )


@pytest.mark.parametrize("hook", hook_names())
def test_every_hook_is_tested(hook):
    test_files = [*(ROOT / "tests").rglob("test_*.py"), *ROOT.glob("plugins/*/tests/test_*.py")]
    users = [
        path.relative_to(ROOT)
        for path in test_files
        if path.resolve() != THIS and hook in path.read_text(encoding="utf-8")
    ]
    assert users, f"no test under tests/ or plugins/*/tests mentions hook {hook}"

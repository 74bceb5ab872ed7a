"""The meta-test: every hook has a section and a tested example in docs/plugins.md, and a
test named after it.

Adding a hook to melodynet/hookspecs.py makes these fail until both exist.
"""

import re

import pytest

from melodynet import hookspecs
from tests.conftest import ROOT
from tests.test_plugins import DOC, doc_blocks


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


def _test_names() -> set[str]:
    """Every test function defined under tests/ and plugins/*/tests."""
    import ast

    files = [*(ROOT / "tests").rglob("test_*.py"), *ROOT.glob("plugins/*/tests/test_*.py")]
    return {
        node.name
        for path in files
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test_")
    }


@pytest.mark.parametrize("hook", hook_names())
def test_every_hook_is_tested(hook):
    """As datasette does: a hook is tested by a test named after it, ``test_hook_<hook>``."""
    assert f"test_hook_{hook}" in _test_names(), (
        f"no test named test_hook_{hook} under tests/ or plugins/*/tests: add one that "
        f"registers a plugin implementing {hook} and checks what melodynet does with it"
    )

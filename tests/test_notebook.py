"""docs/butterfly.ipynb runs top to bottom, so the notebook in the docs never rots."""

import os
import shutil

import pytest

from tests.conftest import ROOT

NOTEBOOK = ROOT / "docs" / "butterfly.ipynb"


@pytest.mark.slow
def test_the_butterfly_notebook_runs(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copytree(ROOT / "songs", tmp_path / "songs")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    client = nbclient.NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(docs)}}
    )
    client.execute()
    outputs = {
        i: "".join(
            o.get("text", "") + str(o.get("data", {}).get("text/plain", "")) for o in c.outputs
        )
        for i, c in enumerate(notebook.cells)
        if c.cell_type == "code"
    }
    text = "\n".join(outputs.values())
    assert "50 of 50 notes match the song" in text
    assert "'butterfly.mid', 'butterfly.musicxml'" in text
    assert "OptionError primer - primer 60: the primer must be 1 to 54 notes" in text
    html = [
        o
        for c in notebook.cells
        if c.cell_type == "code"
        for o in c.outputs
        if "text/html" in o.get("data", {})
    ]
    assert html and all("<svg" in o["data"]["text/html"] for o in html)
    assert (docs / "butterfly.mid").is_file()
    assert (docs / "models" / "butterfly" / "model.keras").is_file()

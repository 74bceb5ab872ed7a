"""Pretrained melodynet bundles, registered by name through the ``register_bundles`` hook:
``melodynet generate --model-dir german-folk --key G --bars 16 --out tune.mid``.

Each bundle is a directory under ``bundles/`` holding what ``melodynet train`` writes
(``melodynet.json``, ``model.keras``, ``network.npz``) and ``pretrained.json``: the exact
command, corpus, song counts, melodynet version, held-out bits per note and training time.
``scripts/pretrain.py`` in melodynet's repository rebuilds them from scratch.
"""

from __future__ import annotations

from pathlib import Path

from melodynet import BundleSpec, hookimpl

BUNDLES = Path(__file__).parent / "bundles"

ESSEN_LICENCE = (
    "Essen Folksong Collection (EsAC), ABC by Seymour Shlien, as distributed with music21: "
    "non-commercial distribution and use"
)

SPECS = (
    BundleSpec(
        "german-folk",
        BUNDLES / "german-folk",
        description="German folk songs: Kinderlieder, Erk, Böhme, Fink (Essen collection)",
        corpus="corpus:essenFolksong/kinder0, erk10, erk20, boehme10, fink0",
        licence=ESSEN_LICENCE,
    ),
    BundleSpec(
        "irish-dance",
        BUNDLES / "irish-dance",
        description="Irish and Scottish dance tunes: reels, jigs, hornpipes (O'Neill, Ryan)",
        corpus="corpus:oneills1850 (dance tunes, numbers 759-1780) and corpus:ryansMammoth "
        "(Scottish dances)",
        licence="O'Neill's Music of Ireland (1903) and Ryan's Mammoth Collection (1883): "
        "public domain; ABC transcriptions as distributed with music21",
    ),
    BundleSpec(
        "bach-chorales",
        BUNDLES / "bach-chorales",
        description="soprano lines of Bach's four-part chorales BWV 253-438",
        corpus="corpus:bach/bwv253.mxl ... bwv438.mxl, part 1 (music21)",
        licence="J. S. Bach: public domain; MusicXML encodings as distributed with music21",
    ),
)


def bundle_names() -> list[str]:
    return [spec.name for spec in SPECS]


@hookimpl
def register_bundles(register):
    for spec in SPECS:
        register(spec)

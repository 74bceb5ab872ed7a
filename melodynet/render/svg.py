"""Engraved sheet music as one SVG, through verovio (from PyPI; no external program).

The song goes to verovio as MusicXML (see ``notation``); its title and key
are set as the MEI title and subtitle, so verovio prints them as the page
header, above the clef, key signature, time signature and metronome mark.

Long songs: verovio is asked for one page as tall as the music (the page
height is adjusted to the content, up to verovio's limit of 60000 units,
about 200 systems at the default size). Beyond that verovio breaks into
pages, and they are stacked one below the other in the same SVG. Either
way a song gives one SVG file, however long.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from html import escape

from melodynet.errors import MelodynetError
from melodynet.render import notation
from melodynet.songs.song import Song

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
MEI_NS = "http://www.music-encoding.org/ns/mei"
PAGE_WIDTH = 2100  # verovio units: A4 width in tenths of a millimetre
MAX_PAGE_HEIGHT = 60000  # verovio's largest page
SCALE = 40  # percent: a 2100-unit page is 840 px wide

# Per note in the SVG (besides its id): data-pname, data-oct and the accidentals,
# so the notes can be read back from the SVG.
_NOTE_ATTRIBUTES = ["note@pname", "note@oct", "accid@accid", "accid@accid.ges"]


def render_svg(
    song: Song,
    tempo: float | None = None,
    colors: Mapping[int, str] | None = None,
    id_prefix: str = "n",
    page_height: int = MAX_PAGE_HEIGHT,
) -> str:
    """The song engraved as one SVG document (a string)."""
    from importlib import resources

    import verovio

    # verovio finds its fonts through a path set in the first thread that used it: set it
    # each time, so engraving works in any thread (a server's workers) and after that one ends
    verovio.setDefaultResourcePath(str(resources.files("verovio") / "data"))
    verovio.enableLog(verovio.LOG_OFF)
    toolkit = verovio.toolkit()
    toolkit.setOptions(
        {
            "pageWidth": PAGE_WIDTH,
            "pageHeight": page_height,
            "adjustPageHeight": True,
            "scale": SCALE,
            "footer": "none",
            "header": "auto",
            "breaks": "auto",
            "svgViewBox": True,
            "xmlIdChecksum": True,
            "svgAdditionalAttribute": _NOTE_ATTRIBUTES,
        }
    )
    where = song.path or song.name
    if not toolkit.loadData(notation.musicxml(song, tempo, colors, id_prefix)):
        raise MelodynetError(f"{where}: verovio could not read the engraving")
    mei = _with_titles(toolkit.getMEI(), song.title or song.name, notation.key_name(song))
    if not toolkit.loadData(mei):
        raise MelodynetError(f"{where}: verovio could not read the engraving")
    pages = [toolkit.renderToSVG(n) for n in range(1, toolkit.getPageCount() + 1)]
    if not pages:
        raise MelodynetError(f"{where}: verovio engraved nothing")
    return stack_pages(pages)


def _with_titles(mei: str, title: str, subtitle: str) -> str:
    """The MEI with ``title`` as its title and ``subtitle`` below it (verovio's page header)."""
    titles = f"<title>{escape(title)}</title>"
    if subtitle:
        titles += f'<title type="subordinate">{escape(subtitle)}</title>'
    statement = re.compile(r"(<titleStmt\b[^>]*>)(.*?)(</titleStmt>)", re.DOTALL)
    inner = re.compile(r"<title\b[^>]*>.*?</title>|<title\b[^>]*/>", re.DOTALL)
    return statement.sub(
        lambda m: m.group(1) + titles + inner.sub("", m.group(2)) + m.group(3), mei, count=1
    )


def _size(page: ET.Element) -> tuple[float, float]:
    _, _, width, height = (float(v) for v in page.attrib["viewBox"].split())
    return width, height


def stack_pages(pages: list[str]) -> str:
    """One SVG: the pages one below the other, with pixel width and height on the root.

    Glyph definitions (``<defs>``) and styles are kept once.
    """
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    roots = [ET.fromstring(p) for p in pages]
    if len(roots) == 1:
        root = roots[0]
        width, height = _size(root)
        root.set("width", f"{width:g}")
        root.set("height", f"{height:g}")
        return ET.tostring(root, encoding="unicode")

    width = max(_size(r)[0] for r in roots)
    total = sum(_size(r)[1] for r in roots)
    out = ET.Element(
        f"{{{SVG_NS}}}svg",
        {
            # verovio scopes its CSS to the page's id, the same on every page
            "id": roots[0].get("id", "score"),
            "viewBox": f"0 0 {width:g} {total:g}",
            "width": f"{width:g}",
            "height": f"{total:g}",
        },
    )
    defs = ET.SubElement(out, f"{{{SVG_NS}}}defs")
    defined: set[str] = set()
    styles: set[str] = set()
    offset = 0.0
    for root in roots:
        page_width, page_height = _size(root)
        page = ET.SubElement(
            out,
            f"{{{SVG_NS}}}svg",
            {
                "x": "0",
                "y": f"{offset:g}",
                "width": f"{page_width:g}",
                "height": f"{page_height:g}",
                "viewBox": root.attrib["viewBox"],
                "overflow": "visible",
            },
        )
        for child in root:
            if child.tag == f"{{{SVG_NS}}}defs":
                for glyph in child:
                    if glyph.get("id") not in defined:
                        defined.add(glyph.get("id", ""))
                        defs.append(glyph)
            elif child.tag == f"{{{SVG_NS}}}style":
                if (child.text or "") not in styles:
                    styles.add(child.text or "")
                    out.append(child)
            else:
                page.append(child)
        offset += page_height
    return ET.tostring(out, encoding="unicode")

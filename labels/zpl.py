"""ZPL II output: one ``^XA ... ^XZ`` format per label, 203 dpi, UTF-8 (``^CI28``).

Every variable field goes through :func:`escape` and is sent with ``^FH`` (hex escapes introduced by ``_``), so data
from customers can never inject a ZPL command: ``^`` and ``~`` start commands, ``_`` is the escape character itself
and ``\\`` starts the ``\\&`` line break inside ``^FB`` blocks.
"""

from __future__ import annotations

import re

from labels.layout import Bars, Element, Label, Qr, Rule, Text

# ^ and ~ start commands, _ is the ^FH escape character, \ starts the ^FB line break "\&"; plus C0/C1 controls.
_NEEDS_ESCAPE = re.compile(r"[\^~_\\\x00-\x1f\x7f-\x9f]")
LINE_BREAK = "\\&"  # ^FB line break; our own, never from data (data backslashes are escaped)


def _hex(match: re.Match[str]) -> str:
    return "".join(f"_{b:02X}" for b in match.group().encode("utf-8"))


def escape(value: str) -> str:
    """``value`` safe inside ``^FH^FD...^FS``: ``^ ~ _ \\`` and control characters become ``_xx`` UTF-8 hex."""
    return _NEEDS_ESCAPE.sub(_hex, value)


def _text(el: Text) -> str:
    data = LINE_BREAK.join(escape(line) for line in el.lines)
    # ^FB keeps the text inside its box even if our width estimate is off for a string of wide letters.
    return f"^FO{el.x},{el.y}^A0N,{el.size},{el.size}^FB{el.w},{el.max_lines},{el.gap},{el.align},0^FH^FD{data}^FS"


def _bars(el: Bars) -> str:
    command = el.symbol.zpl_command.format(h=el.height)
    return f"^FO{el.x},{el.y}^BY{el.module}{command}^FH^FD{escape(el.symbol.zpl_data)}^FS"


def _qr(el: Qr) -> str:
    # ^BQ model 2; "HA," = error correction H (as in the PDF) and automatic data mode.
    return f"^FO{el.x},{el.y}^BQN,2,{el.module}^FH^FDHA,{escape(el.value)}^FS"


def _rule(el: Rule) -> str:
    return f"^FO{el.x},{el.y}^GB{el.w},{el.h},{min(el.w, el.h)}^FS"


def _element(el: Element) -> str:
    if isinstance(el, Text):
        return _text(el)
    if isinstance(el, Bars):
        return _bars(el)
    if isinstance(el, Qr):
        return _qr(el)
    return _rule(el)


def render(label: Label) -> bytes:
    """The ZPL format for ``label`` as UTF-8 bytes."""
    body = "\n".join(_element(el) for el in label.elements)
    return (f"^XA\n^CI28\n^PW{label.width}\n^LL{label.height}\n^LH0,0\n{body}\n^PQ{label.copies}\n^XZ\n").encode()

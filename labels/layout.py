"""Label layouts in printer dots (203 dpi), drawn by both renderers.

A layout is a list of positioned elements (text boxes, barcodes, QR codes, rules). The ZPL renderer turns them into
``^FO`` fields; the PDF renderer into absolutely positioned boxes of the same size (1 dot = 1/203 in), so the PDF
is also a faithful preview of the thermal label. Text is wrapped and truncated here, once, from an estimate of
the printer font's width, so both outputs cut long text at the same place and it never runs off the label.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from labels.barcodes import Linear, fit_module, qr_matrix

DPI = 203
MARGIN = 24  # 3 mm: thermal printers cannot print right up to the edge and labels drift by a millimetre or two
# Average advance of ZPL font 0 (bold condensed) as a fraction of its height; a bit generous so that capitals and
# digits fit too. The ^FB block in ZPL and overflow clipping in the PDF are the guard when it is not enough.
CHAR_W = 0.56
ELLIPSIS = "..."  # three dots, not "…": printer-resident fonts may lack U+2026


@dataclass(frozen=True)
class Text:
    """Text in a box ``w`` dots wide, at most ``max_lines`` lines of ``size`` dots, ``gap`` dots between lines."""

    x: int
    y: int
    w: int
    size: int
    lines: tuple[str, ...]
    max_lines: int = 1
    align: str = "L"  # L, C or R (the ZPL ^FB justification letters)
    gap: int = 0

    @property
    def h(self) -> int:
        return self.max_lines * self.size + (self.max_lines - 1) * self.gap


@dataclass(frozen=True)
class Bars:
    """A 1D barcode whose first bar is at ``x``; its quiet zones lie left and right of that, inside the box."""

    x: int
    y: int
    module: int
    height: int
    symbol: Linear

    @property
    def quiet(self) -> int:
        return self.symbol.quiet * self.module

    @property
    def box(self) -> tuple[int, int, int, int]:
        return (self.x - self.quiet, self.y, (self.symbol.modules * self.module) + 2 * self.quiet, self.height)


@dataclass(frozen=True)
class Qr:
    """A QR code whose first module is at ``x``, ``y``; the 4-module quiet zone lies around it, inside the box."""

    x: int
    y: int
    module: int
    value: str
    matrix: list[bytearray] = field(compare=False, repr=False)

    @property
    def size(self) -> int:
        return len(self.matrix) * self.module

    @property
    def box(self) -> tuple[int, int, int, int]:
        border = 4 * self.module
        return (self.x - border, self.y - border, self.size + 2 * border, self.size + 2 * border)


@dataclass(frozen=True)
class Rule:
    """A filled black rectangle (separator lines)."""

    x: int
    y: int
    w: int
    h: int


Element = Text | Bars | Qr | Rule


@dataclass
class Label:
    """A finished layout: page size in dots and its elements."""

    kind: str
    width: int
    height: int
    elements: list[Element]
    copies: int = 1


def box(element: Element) -> tuple[int, int, int, int]:
    """(x, y, w, h) in dots that ``element`` may draw into, quiet zones included."""
    if isinstance(element, Text):
        return (element.x, element.y, element.w, element.h)
    if isinstance(element, Bars | Qr):
        return element.box
    return (element.x, element.y, element.w, element.h)


def wrap(value: str, chars: int, max_lines: int) -> tuple[str, ...]:
    """Greedy word wrap of ``value`` into at most ``max_lines`` lines of ``chars`` characters; the last line ends
    with "..." when text had to be dropped. Words longer than a line (SKUs, e-mail addresses) are cut."""
    chars = max(chars, len(ELLIPSIS) + 1)
    out: list[str] = []
    current = ""
    for word in value.split():
        while word:
            if not current:
                current, word = word[:chars], word[chars:]
                if word:  # the word went on: this line is full
                    out.append(current)
                    current = ""
            elif len(current) + 1 + len(word) <= chars:
                current, word = f"{current} {word}", ""
            else:
                out.append(current)
                current = ""
    if current:
        out.append(current)
    if len(out) > max_lines:
        # Fill the last line with as much as fits, even mid-word: more of the name is more useful than a tidy cut.
        rest = " ".join(out[max_lines - 1 :])
        out = [*out[: max_lines - 1], rest[: chars - len(ELLIPSIS)].rstrip() + ELLIPSIS]
    return tuple(out) or ("",)


def chars_per_line(w: int, size: int) -> int:
    """How many characters of font ``size`` dots we let into ``w`` dots."""
    return max(1, int(w / (size * CHAR_W)))


def text(x: int, y: int, w: int, size: int, value: str, max_lines: int = 1, align: str = "L") -> Text:
    """A text box; ``value`` is wrapped/truncated to at most ``max_lines`` lines and the box is as tall as the
    lines it got (so what follows can move up: see :func:`stack`)."""
    lines = wrap(value, chars_per_line(w, size), max_lines)
    gap = max(2, size // 8) if len(lines) > 1 else 0
    return Text(x, y, w, size, lines, len(lines), align, gap)


def stack(x: int, y: int, w: int, rows: list[tuple[int, str, int]], gap: int = 8) -> tuple[list[Element], int]:
    """Text boxes (size, value, max_lines) one under the other from ``y``; returns them and the next free y."""
    out: list[Element] = []
    for size, value, max_lines in rows:
        el = text(x, y, w, size, value, max_lines)
        out.append(el)
        y += el.h + gap
    return out, y


CODE_CHAR_W = 0.66  # codes are capitals, digits and symbols: wider than average text


def fit_size(value: str, w: int, largest: int, smallest: int) -> int:
    """The largest font size (dots) between ``smallest`` and ``largest`` at which the code ``value`` fits on one
    line (below ``smallest`` it is cut with "..." instead)."""
    return max(smallest, min(largest, int(w / (max(len(value), 1) * CODE_CHAR_W))))


def bars(symbol: Linear, x: int, y: int, w: int, height: int, max_module: int) -> Bars:
    """A barcode centred in the ``w`` dots from ``x``, with the widest module up to ``max_module`` that fits."""
    module = fit_module(symbol, w, max_module)
    width = symbol.modules * module
    return Bars(x + (w - width) // 2, y, module, height, symbol)


def qr(value: str, x: int, y: int, side: int, max_module: int = 10) -> Qr:
    """A QR code with its quiet zone inside the ``side`` x ``side`` square at ``x``, ``y``."""
    matrix = qr_matrix(value)
    span = len(matrix) + 8
    module = min(max_module, side // span)
    if module < 3:
        raise ValueError(f"{value!r} is too long for a scannable QR code on this label")
    offset = (side - span * module) // 2 + 4 * module
    return Qr(x + offset, y + offset, module, value, matrix)


def code_with_text(
    symbol: Linear, x: int, y: int, w: int, height: int, max_module: int, size: int, gap: int = 8
) -> list[Element]:
    """A barcode and its human-readable text centred under it."""
    size = fit_size(symbol.text, w, size, 20)
    return [bars(symbol, x, y, w, height, max_module), text(x, y + height + gap, w, size, symbol.text, align="C")]

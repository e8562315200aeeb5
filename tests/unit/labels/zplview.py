"""A small ZPL II interpreter for tests: draws the subset of ZPL that ``labels`` emits into a 1-bit image.

It reads the ZPL *text* (not our layout objects), so it checks what a printer would get: that no field data
contains a raw ``^``/``~``, that ``^FH`` escapes decode back to the data, that ``^BC`` mode-N invocation codes
give the intended Code 128 symbol (zxing-cpp then reads the drawn bars), and that every field stays inside
``^PW``/``^LL``. Text is drawn with DejaVu Sans Condensed Bold, a little wider than Zebra font 0, so a text
that fits here fits on the printer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import segno
from barcode import EAN8, EAN13, UPCA
from barcode.charsets import code128 as c128
from PIL import Image, ImageDraw, ImageFont

FONT_FILES = [
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf"),
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
]
_HEX = re.compile(r"_([0-9A-Fa-f]{2})")
_INVOKE = {ch: 95 + i for i, ch in enumerate("123456789:;")}


def unescape(data: str) -> str:
    """Decode ``^FH`` ``_xx`` escapes (bytes of UTF-8, as with ``^CI28``)."""
    out = bytearray()
    i = 0
    while i < len(data):
        m = _HEX.match(data, i)
        if m:
            out.append(int(m.group(1), 16))
            i = m.end()
        else:
            out += data[i].encode()
            i += 1
    return out.decode("utf-8")


def code128_values(data: str) -> list[int]:
    """Code 128 symbol values (without check) for ``^BC`` mode-N field data, per the ZPL II invocation table."""
    values: list[int] = []
    i = 0
    if data[:2] in (">9", ">:", ">;"):
        values.append(_INVOKE[data[1]])
        i = 2
    else:
        values.append(104)  # no start code: the printer starts in code set B
    subset = {103: "A", 104: "B", 105: "C"}[values[0]]
    while i < len(data):
        if data[i] == ">":
            ch = data[i + 1]
            i += 2
            if ch in "0<=":
                if subset != "B":
                    raise AssertionError(f">{ch} outside code set B in {data!r}")
                values.append({"0": 30, "<": 62, "=": 94}[ch])
                continue
            value = _INVOKE[ch]
            if value >= 103:
                raise AssertionError(f"start code in the middle of {data!r}")
            values.append(value)
            if value == 99:
                subset = "C"
            elif value == 100 and subset != "B":
                subset = "B"
            elif value == 101 and subset != "A":
                subset = "A"
        elif subset == "C":
            pair = data[i : i + 2]
            if len(pair) != 2 or not pair.isdigit():
                raise AssertionError(f"odd digit in code set C in {data!r}")
            values.append(int(pair))
            i += 2
        elif subset == "B":
            if not " " <= data[i] <= "~" or data[i] in "^~":
                raise AssertionError(f"{data[i]!r} not allowed raw in code set B")
            values.append(ord(data[i]) - 32)
            i += 1
        else:
            raise AssertionError("code set A is never emitted")
    return values


def code128_pattern(values: list[int]) -> str:
    """Bars for symbol values: the printer adds the mod-103 check symbol and the stop pattern."""
    check = (values[0] + sum(i * v for i, v in enumerate(values[1:], 1))) % 103
    return "".join(c128.CODES[v] for v in [*values, check]) + c128.STOP + "11"


@dataclass
class Field:
    """One drawn field: what it is, its box in dots and, for text, the decoded lines."""

    kind: str
    box: tuple[int, int, int, int]
    text: list[str] = field(default_factory=list)
    overflow: bool = False


@dataclass
class Preview:
    """The drawn label and what was found on the way."""

    width: int
    height: int
    image: Image.Image
    fields: list[Field]
    copies: int
    exact_font: bool

    def save(self, path: Path) -> None:
        self.image.save(path)


def _font(size: int) -> tuple[ImageFont.FreeTypeFont, bool]:
    for i, path in enumerate(FONT_FILES):
        if path.exists():
            return ImageFont.truetype(str(path), size), i == 0
    raise FileNotFoundError("no DejaVu Sans Bold font found")


def render(zpl: bytes) -> Preview:
    """Interpret one ``^XA...^XZ`` format."""
    text = zpl.decode("utf-8")
    assert text.lstrip().startswith("^XA") and text.rstrip().endswith("^XZ"), "not one ZPL format"
    assert "~" not in text, "a raw ~ in a format would start a control command"
    commands = [c.strip("\n") for c in text.split("^") if c.strip()]
    width = height = 0
    image: Image.Image | None = None
    draw: ImageDraw.ImageDraw | None = None
    fields: list[Field] = []
    copies = 1
    exact = True
    origin = (0, 0)
    font_size = 30
    block: tuple[int, int, int, str] | None = None  # ^FB width, lines, gap, justification
    hex_escapes = False
    module = 2
    barcode: tuple[str, list[str]] | None = None
    data: str | None = None
    graphic: tuple[int, int] | None = None
    for cmd in commands:
        name, args = cmd[:2], cmd[2:]
        params = args.split(",")
        if name in ("XA", "XZ", "LH", "CI"):
            continue
        if name == "PW":
            width = int(args)
        elif name == "LL":
            height = int(args)
            image = Image.new("1", (width, height), 1)
            draw = ImageDraw.Draw(image)
        elif name == "PQ":
            copies = int(params[0])
        elif name == "FO":
            origin = (int(params[0]), int(params[1]))
        elif name == "A0":
            font_size = int(params[1])  # "N,30,30": orientation, height, width
        elif name == "FB":
            block = (int(params[0]), int(params[1]), int(params[2]), params[3])
        elif name == "FH":
            hex_escapes = True
        elif name == "BY":
            module = int(params[0])
        elif name in ("BC", "BE", "BU", "B8", "BQ"):
            barcode = (name, params)
        elif name == "GB":
            graphic = (int(params[0]), int(params[1]))
        elif name == "FD":
            data = args
        elif name == "FS":
            assert image is not None and draw is not None, "^LL must come before fields"
            x, y = origin
            if graphic:
                w, h = graphic
                draw.rectangle([x, y, x + w - 1, y + h - 1], fill=0)
                fields.append(Field("rule", (x, y, w, h)))
            elif barcode:
                assert data is not None
                fields.append(_draw_barcode(draw, x, y, module, barcode, unescape(data) if hex_escapes else data))
            else:
                assert data is not None and block is not None, "every text field is in a ^FB block"
                f, exact = _draw_text(draw, x, y, font_size, block, data, hex_escapes)
                fields.append(f)
            block, hex_escapes, barcode, data, graphic = None, False, None, None, None
        else:
            raise AssertionError(f"unexpected ZPL command ^{name}")
    assert image is not None
    return Preview(width, height, image, fields, copies, exact)


def _draw_barcode(
    draw: ImageDraw.ImageDraw, x: int, y: int, module: int, barcode: tuple[str, list[str]], data: str
) -> Field:
    name, params = barcode
    if name == "BQ":
        magnification = int(params[2])
        assert data[:3] == "HA,", data
        matrix = segno.make_qr(data[3:], error="h", boost_error=False).matrix
        for r, row in enumerate(matrix):
            for c, dark in enumerate(row):
                if dark:
                    px, py = x + c * magnification, y + r * magnification
                    draw.rectangle([px, py, px + magnification - 1, py + magnification - 1], fill=0)
        side = len(matrix) * magnification
        return Field("qr", (x, y, side, side), [data[3:]])
    height = int(params[1])
    if name == "BC":
        assert params[2:6] == ["N", "N", "N", "N"], params  # no printer text, mode N
        pattern = code128_pattern(code128_values(data))
    else:
        cls, digits = {"BE": (EAN13, 12), "BU": (UPCA, 11), "B8": (EAN8, 7)}[name]
        assert len(data) == digits and data.isdigit(), f"^{name} needs exactly {digits} digits, got {data!r}"
        pattern = cls(data).build()[0]
    for i, bit in enumerate(pattern):
        if bit == "1":
            draw.rectangle([x + i * module, y, x + (i + 1) * module - 1, y + height - 1], fill=0)
    return Field("bars", (x, y, len(pattern) * module, height), [data])


def _draw_text(
    draw: ImageDraw.ImageDraw, x: int, y: int, size: int, block: tuple[int, int, int, str], raw: str, hex_: bool
) -> tuple[Field, bool]:
    width, max_lines, gap, justify = block
    lines = [unescape(part) if hex_ else part for part in raw.split("\\&")]
    font, exact = _font(round(size * 0.9))
    overflow = len(lines) > max_lines
    for i, line in enumerate(lines[:max_lines]):
        advance = font.getlength(line)
        overflow |= advance > width
        dx = {"L": 0, "C": (width - advance) / 2, "R": width - advance, "J": 0}[justify]
        draw.text((x + max(dx, 0), y + i * (size + gap)), line, font=font, fill=0)
    h = max_lines * size + (max_lines - 1) * gap
    return Field("text", (x, y, width, h), lines, overflow), exact

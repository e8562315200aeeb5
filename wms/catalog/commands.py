"""``wms import-products FILE.csv``: upsert products from a CSV file with a progress bar."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from pathlib import Path

import click
from flask.cli import with_appcontext

from wms.catalog.service import import_products

REQUIRED_COLUMNS = ("sku", "name")
KNOWN_COLUMNS = ("sku", "name", "barcodes", "track_lots")


def _rows(path: Path) -> Iterator[dict[str, str]]:
    # utf-8-sig: spreadsheets save UTF-8 CSV with a byte-order mark, which would otherwise stick to "sku".
    with path.open(newline="", encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            # Headers like "sku, name" are common: strip the names; surplus cells (key None) are dropped.
            yield {key.strip(): value or "" for key, value in row.items() if isinstance(key, str)}


def _header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return [name.strip() for name in next(csv.reader(handle), [])]


@click.command("import-products")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--batch-size", type=click.IntRange(1, 10_000), default=500, show_default=True, hidden=True)
@with_appcontext
def import_products_command(file: Path, batch_size: int) -> None:
    """Upsert products from a CSV file with the columns sku,name,barcodes,track_lots.

    Several barcodes go in one cell separated by | or spaces; track_lots is yes/no (or true/false, 1/0).
    Exits 1 when any row failed (the others are imported).
    """
    try:
        header = _header(file)
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        total = sum(1 for _ in _rows(file))
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{file} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise click.ClickException(f"{file} is not a readable CSV file: {exc}") from None
    if missing:
        raise click.ClickException(
            f"{file} has no {' and no '.join(missing)} column: the first line must be {','.join(KNOWN_COLUMNS)}"
        )
    with click.progressbar(length=total, label=f"importing {total} products", file=sys.stderr) as bar:
        result = import_products(_rows(file), batch_size=batch_size, progress=bar.update, actor="cli")
        bar.update(total - bar.pos)  # rows refused before their batch (empty sku) are not reported by batches
    click.echo(f"created {result['created']}, updated {result['updated']}, failed {result['failed']}")
    for line, message in result["errors"]:
        click.echo(f"line {line}: {message}", err=True)
    if result["failed"]:
        raise SystemExit(1)


COMMANDS = [import_products_command]

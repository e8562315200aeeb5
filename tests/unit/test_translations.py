"""The committed translations: every compiled ``messages.mo`` says what its ``messages.po`` says (nobody forgot
``pybabel compile``), and the Polish catalog has nothing untranslated or broken."""

from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

import wms

TRANSLATIONS = Path(wms.__file__).parent / "translations"
CATALOGS = sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))


def entries(catalog) -> dict:
    """msgid -> translation (plural forms as a tuple), without the header."""

    def plain(value):
        return tuple(value) if isinstance(value, (list, tuple)) else value

    return {plain(message.id): plain(message.string) for message in catalog if message.id}


def test_there_is_a_polish_catalog():
    assert TRANSLATIONS / "pl" / "LC_MESSAGES" / "messages.po" in CATALOGS


@pytest.mark.parametrize("po_path", CATALOGS, ids=lambda p: p.parent.parent.name)
def test_the_committed_mo_is_compiled_from_the_po(po_path):
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    mo_path = po_path.with_suffix(".mo")
    assert mo_path.exists(), f"run: pybabel compile -d wms/translations ({mo_path} is missing)"
    with mo_path.open("rb") as mo_file:
        committed = read_mo(mo_file)
    assert entries(committed) == entries(read_mo(compiled)), "run: pybabel compile -d wms/translations"


@pytest.mark.parametrize("po_path", CATALOGS, ids=lambda p: p.parent.parent.name)
def test_every_message_is_translated_and_keeps_its_placeholders(po_path):
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file)
    untranslated = [m.id for m in catalog if m.id and not (all(m.string) if m.pluralizable else m.string)]
    assert untranslated == []
    # Babel's own checks: the same %(name)s placeholders as the English, the right number of plural forms.
    problems = {message.id: errors for message, errors in catalog.check()}
    assert problems == {}


def test_every_marked_message_has_a_polish_translation(tmp_path):
    """What the code marks for translation (``_``, ``N_``, ``_l``, as the README's extraction reads it) is in the
    Polish catalog, translated: a page never shows English to a Polish picker by omission."""
    import subprocess
    import sys

    root = Path(wms.__file__).parent.parent
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "N_", "-k", "_l"]
        + ["--no-location", "-o", str(pot), "."],
        cwd=root,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as handle:
        marked = [m.id for m in read_po(handle) if m.id]
    with (TRANSLATIONS / "pl" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        polish = entries(read_po(handle))
    missing = [m for m in marked if not polish.get(m if isinstance(m, str) else tuple(m))]
    assert len(marked) > 500
    assert missing == [], f"untranslated in pl (see README, Translations): {missing[:10]}"

"""Which page languages a user may have."""

import pytest

from wms.auth.models import LANGUAGES
from wms.auth.rules import language_problems


def test_the_languages_are_polish_and_english():
    assert set(LANGUAGES) == {"pl", "en"}


@pytest.mark.parametrize("language", [None, "pl", "en"])
def test_a_known_language_or_none_is_fine(language):
    assert language_problems(language) == []


@pytest.mark.parametrize("language", ["", "de", "PL", "pl-PL", "polski"])
def test_anything_else_is_refused_by_field(language):
    assert language_problems(language) == [{"field": "language", "message": "must be one of pl, en"}]

"""The buffer arithmetic every availability figure and the order router share."""

import pytest

from wms.channels.rules import sellable


@pytest.mark.parametrize(
    ("free", "buffer", "expected"),
    [
        ([10, 2], 3, 9),
        ([10, 2], 0, 12),
        ([2], 5, 0),  # never below zero
        ([], 0, 0),
        ([], 4, 0),
        ([7, -3], 0, 7),  # a level reserved beyond its on hand counts as nothing, not against the others
        ([4, 4], 8, 0),
    ],
)
def test_sellable_is_free_stock_less_the_buffer_never_below_zero(free, buffer, expected):
    assert sellable(free, buffer) == expected

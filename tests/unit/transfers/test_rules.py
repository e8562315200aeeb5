"""What a transfer shows as its status, and the variance a manager reads after its receiving."""

from __future__ import annotations

import pytest

from wms.transfers.rules import Arrival, shown_status, variance


@pytest.mark.parametrize(
    ("stored", "order_status", "shown"),
    [
        ("requested", "reserved", "requested"),
        ("requested", "picking", "picking"),
        ("requested", "packed", "packed"),
        ("requested", "cancelled", "cancelled"),
        ("in_transit", "in_transit", "in_transit"),
        ("in_transit", "cancelled", "in_transit"),  # the order was cancelled on the way: the units still travel
        ("received", "reserved", "received"),
    ],
)
def test_a_transfer_shows_where_its_order_is_until_it_leaves(stored, order_status, shown):
    assert shown_status(stored, order_status) == shown


def test_variance_names_short_over_and_damaged_units_per_sku():
    assert variance([Arrival("A", 3, 3, 0), Arrival("B", 2, 2, 0)]) is None
    assert variance([Arrival("A", 3, 1, 1), Arrival("B", 2, 3, 0)]) == "short 1 x A; over 1 x B; damaged 1 x A"
    assert Arrival("A", 2, 0, 0).short == 2 and Arrival("A", 2, 0, 0).over == 0

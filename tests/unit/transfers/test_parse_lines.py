"""A manager types a transfer's products one per row."""

from wms.transfers.rules import parse_lines


def test_rows_of_sku_and_quantity_a_sku_alone_is_one():
    assert parse_lines("A 3\n\n  B\nC-1   12 \n") == (
        [{"sku": "A", "qty": 3}, {"sku": "B", "qty": 1}, {"sku": "C-1", "qty": 12}],
        [],
    )


def test_bad_rows_are_named():
    lines, problems = parse_lines("A x\nB 0\nC 1 2\nD 2")
    assert lines == [{"sku": "D", "qty": 2}]
    assert [p.split(":")[0] for p in problems] == ["row 1", "row 2", "row 3"]

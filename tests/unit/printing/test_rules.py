"""Pure rules of the print queue: printer URLs, states, backoff, give-up, keys."""

from datetime import UTC, datetime, timedelta

import pytest

from devices.printers import PrinterState, PrinterStatus
from wms.errors import ValidationError
from wms.printing import rules

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("url", "fmt"),
    [
        ("zpl+tcp://10.0.0.5:9100", "zpl"),
        ("zpl+tcp://printer.local", "zpl"),
        ("zpl+tcp://127.0.0.1:9100?timeout=2", "zpl"),
        ("zpl+serial:///dev/ttyUSB0?baud=9600", "zpl"),
        ("zpl+file:///dev/usb/lp0", "zpl"),
        ("cups://Zebra_GK420d", "zpl"),
        ("pdf+cups://Office_A4", "pdf"),
        ("pdf+dir:///var/spool/labels", "pdf"),
    ],
)
def test_printer_urls_and_their_format(url, fmt):
    assert rules.printer_format(url) == fmt


@pytest.mark.parametrize(
    "url",
    [
        "",
        "   ",
        None,
        "10.0.0.5:9100",
        "http://10.0.0.5:9100",
        "tcp://10.0.0.5:9100",
        "zpl+tcp://:9100",
        "zpl+tcp://host:99999",
        "zpl+serial:///dev/ttyUSB0?baud=fast",
        "zpl+file://relative/path",
        "pdf+dir:///",
        "cups://",
        "pdf+cups://bad queue",
        "zpl+tcp://host:9100?timeout=0",
    ],
)
def test_anything_else_is_a_validation_error_naming_url(url):
    with pytest.raises(ValidationError) as info:
        rules.printer_format(url)
    assert info.value.code == "validation_error" and info.value.status == 422
    assert [d["field"] for d in info.value.details] == ["url"]
    assert info.value.details[0]["message"]


def test_unknown_scheme_message_lists_the_forms():
    with pytest.raises(ValidationError) as info:
        rules.printer_format("ipp://printer")
    assert "zpl+tcp://HOST:9100" in info.value.message and "pdf+dir:///path" in info.value.message


def test_state_text():
    assert rules.state_text(PrinterStatus(PrinterState.READY, "ready")) == "ready"
    assert rules.state_text(PrinterStatus(PrinterState.PAPER_OUT, "paper out")) == "paper out"
    assert rules.state_text(PrinterStatus(PrinterState.NO_ANSWER, "no answer (waited 5 s)")).startswith(
        "unreachable: no answer"
    )
    assert rules.state_text(PrinterStatus(PrinterState.UNREACHABLE, "unreachable: connection refused")) == (
        "unreachable: connection refused"
    )


@pytest.mark.parametrize(
    ("state", "waiting"),
    [
        ("paper out", True),
        ("head open, paper out", True),
        ("Paused", True),
        ("ribbon out", True),
        ("paused (CUPS queue disabled)", True),
        ("unreachable: connection refused", False),
        ("unreachable: no answer (waited 5 s)", False),
        ("", False),
        (None, False),
    ],
)
def test_waiting_states(state, waiting):
    assert rules.is_waiting_state(state) is waiting


def test_retry_delay_doubles_and_is_capped():
    delays = [rules.retry_delay(n, 30, 1, jitter=False) for n in range(1, 9)]
    assert delays == [1, 2, 4, 8, 16, 30, 30, 30]
    assert rules.retry_delay(0, 30, 1, jitter=False) == 1
    assert rules.retry_delay(10_000, 30, 1, jitter=False) == 30
    for _ in range(50):
        assert 0.8 * 8 <= rules.retry_delay(4, 30, 1) <= 8


def test_give_up_clock_runs_only_while_unreachable():
    assert rules.unreachable_since("unreachable: connection refused", None, NOW) == NOW
    earlier = NOW - timedelta(seconds=100)
    assert rules.unreachable_since("unreachable: timed out", earlier, NOW) == earlier
    assert rules.unreachable_since("paper out", earlier, NOW) is None


def test_give_up():
    since = NOW - timedelta(seconds=601)
    assert rules.should_give_up("unreachable: connection refused", since, NOW, 600)
    assert not rules.should_give_up("unreachable: connection refused", NOW - timedelta(seconds=599), NOW, 600)
    assert not rules.should_give_up("paper out", since, NOW, 600)  # paper out never fails a job
    assert not rules.should_give_up("unreachable: x", None, NOW, 600)
    assert not rules.should_give_up("unreachable: x", since, NOW, 0)  # 0: never give up


def test_lease_covers_status_and_send_of_every_job():
    one = rules.lease_seconds(1, 5, 5)
    assert one >= 2 * 5 + 5
    assert rules.lease_seconds(4, 5, 5) > 4 * 2 * 5


def test_idempotency_keys():
    assert rules.idempotency_key("pickup", 12, "ready") == "pickup:12:ready"
    long = rules.idempotency_key("x" * 500)
    assert len(long) <= rules.MAX_KEY_LENGTH and long == rules.idempotency_key("x" * 500)
    assert rules.idempotency_key("x" * 500) != rules.idempotency_key("x" * 499 + "y")
    with pytest.raises(ValueError):
        rules.idempotency_key()
    a = rules.content_key(1, "bin", {"code": "A", "location": "WH1"}, 1)
    assert a == rules.content_key(1, "bin", {"location": "WH1", "code": "A"}, 1)
    assert a != rules.content_key(1, "bin", {"code": "A", "location": "WH1"}, 2)


@pytest.mark.parametrize("copies", [0, -1, 1000, 1.5, "2", True, None])
def test_bad_copies(copies):
    with pytest.raises(ValidationError) as info:
        rules.check_copies(copies)
    assert info.value.details[0]["field"] == "copies"


def test_kinds():
    kinds = {"bin": ("zpl", "pdf"), "picklist": ("pdf",)}
    rules.check_kind("bin", "zpl", kinds)
    rules.check_kind("picklist", "pdf", kinds)
    rules.check_kind("test", "zpl", kinds)
    with pytest.raises(ValidationError, match="pdf only"):
        rules.check_kind("picklist", "zpl", kinds)
    with pytest.raises(ValidationError, match="unknown label kind"):
        rules.check_kind("poster", "zpl", kinds)


def test_test_label_is_a_renderable_product_label():
    import labels

    kind, data = rules.test_label("ZEBRA-1", "2026-01-01T12:00:00Z")
    assert b"ZEBRA-1" in labels.render(kind, data, "zpl")

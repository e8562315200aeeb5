"""Where printer URLs may point (``rules.check_printer_url``): device files, hot folders under a root, no ``..``,
no link-local or cloud metadata hosts. Pure: no app, no database, no I/O."""

from __future__ import annotations

import pytest

from wms.errors import ValidationError
from wms.printing import rules

ROOT = "/srv/wms/instance/printouts"
POLICY = rules.PrinterUrlPolicy(dir_root=ROOT)


@pytest.mark.parametrize(
    ("url", "fmt"),
    [
        ("zpl+tcp://192.168.1.50:9100", "zpl"),
        ("zpl+tcp://10.0.0.7", "zpl"),
        ("zpl+tcp://zebra-1.shop.lan:9100?timeout=2", "zpl"),
        ("zpl+tcp://127.0.0.1:9100", "zpl"),  # a local relay, the fake printer
        ("zpl+tcp://[::1]:9100", "zpl"),
        ("zpl+tcp://localhost:9100", "zpl"),
        ("zpl+file:///dev/usb/lp0", "zpl"),
        ("zpl+file:///dev/lp0", "zpl"),
        (f"zpl+file://{ROOT}/WH1-zebra.zpl", "zpl"),  # the demo's ZPL "printer": a file in the printouts folder
        ("zpl+serial:///dev/ttyUSB0?baud=9600", "zpl"),
        ("zpl+serial:///dev/serial/by-id/usb-Zebra_ZD421-if00?baud=9600", "zpl"),
        ("zpl+serial:///?url=socket://192.168.1.60:4001", "zpl"),
        ("zpl+serial:///?url=rfc2217://127.0.0.1:7000", "zpl"),
        ("zpl+serial:///?url=loop://", "zpl"),
        ("cups://Zebra_ZD421", "zpl"),
        ("pdf+cups://Office_A4", "pdf"),
        (f"pdf+dir://{ROOT}", "pdf"),
        (f"pdf+dir://{ROOT}/WH1", "pdf"),
        (f"pdf+dir://{ROOT}/WH1/", "pdf"),
    ],
)
def test_printer_urls_that_may_be_stored(url, fmt):
    assert rules.check_printer_url(url, POLICY) == fmt


@pytest.mark.parametrize(
    ("url", "why"),
    [
        # files that are not printers
        ("zpl+file:///etc/passwd", "neither a printer device"),
        ("zpl+file:///home/wms/.bashrc", "neither a printer device"),
        ("zpl+file:///dev/shm/x", "neither a printer device"),
        ("zpl+file:///dev/sda", "neither a printer device"),
        ("zpl+file:///srv/wms/instance/printouts-other/x.zpl", "neither a printer device"),
        ("zpl+serial:///etc/passwd", "not a serial device"),
        ("zpl+serial:///?url=/etc/shadow", "not a serial device"),
        ("zpl+serial:///dev/ttyUSB0?url=spy:///dev/ttyUSB0%3Ffile%3D/tmp/log", "use a device path"),
        ("zpl+serial:///?url=hwgrep://.*", "use a device path"),
        # hot folders outside the root
        ("pdf+dir:///etc", "hot folders must be under"),
        ("pdf+dir:///srv/wms/instance", "hot folders must be under"),
        ("pdf+dir:///tmp", "hot folders must be under"),
        # .. anywhere, also escaped
        (f"pdf+dir://{ROOT}/../../etc", "'..'"),
        (f"zpl+file://{ROOT}/%2e%2e/%2E%2E/etc/passwd", "'..'"),
        ("zpl+file:///dev/usb/../../etc/passwd", "'..'"),
        ("zpl+serial:///dev/tty../../etc/passwd", "'..'"),
        # control characters
        (f"pdf+dir://{ROOT}/a%00b", "control characters"),
        # link-local and metadata
        ("zpl+tcp://169.254.1.20:9100", "link-local"),
        ("zpl+tcp://[fe80::1]:9100", "link-local"),
        ("zpl+tcp://[fe80::1%25eth0]:9100", "link-local"),
        ("zpl+tcp://169.254.169.254:80", "metadata"),
        ("zpl+tcp://[fd00:ec2::254]:80", "metadata"),
        ("zpl+tcp://metadata.google.internal:80", "metadata"),
        ("zpl+tcp://METADATA.GOOGLE.INTERNAL.:80", "metadata"),
        ("zpl+tcp://100.100.100.200", "metadata"),
        # the same addresses in other spellings
        ("zpl+tcp://2852039166:80", "metadata"),  # 169.254.169.254 as one number
        ("zpl+tcp://0xa9.0xfe.0xa9.0xfe:80", "metadata"),
        ("zpl+tcp://[::ffff:169.254.169.254]:80", "metadata"),
        ("zpl+tcp://[64:ff9b::a9fe:a9fe]:80", "metadata"),  # NAT64
        ("zpl+tcp://[2002:a9fe:a9fe::1]:80", "metadata"),  # 6to4
        ("zpl+serial:///?url=socket://169.254.169.254:80", "metadata"),
        ("zpl+serial:///?url=socket://[fe80::2]:4001", "link-local"),
    ],
)
def test_printer_urls_that_are_refused(url, why):
    with pytest.raises(ValidationError) as info:
        rules.check_printer_url(url, POLICY)
    assert [d["field"] for d in info.value.details] == ["url"]
    assert why in info.value.details[0]["message"]


def test_malformed_urls_are_refused_as_before():
    for url in ("http://printer/", "zpl+tcp://:9100", "zpl+file://relative/path", ""):
        with pytest.raises(ValidationError):
            rules.check_printer_url(url, POLICY)


def test_link_local_printers_when_the_setting_allows_them_but_never_metadata():
    policy = rules.PrinterUrlPolicy(dir_root=ROOT, allow_link_local=True)
    assert rules.check_printer_url("zpl+tcp://169.254.1.20:9100", policy) == "zpl"
    assert rules.check_printer_url("zpl+tcp://[fe80::1]:9100", policy) == "zpl"
    with pytest.raises(ValidationError, match="metadata"):
        rules.check_printer_url("zpl+tcp://169.254.169.254:9100", policy)


def test_device_paths_setting_replaces_the_default_list():
    policy = rules.PrinterUrlPolicy(dir_root=ROOT, device_paths=rules.device_patterns("/srv/zpl/*, /dev/usb/lp*"))
    assert policy.device_paths == ("/srv/zpl/*", "/dev/usb/lp*")
    assert rules.check_printer_url("zpl+file:///srv/zpl/out.zpl", policy) == "zpl"
    with pytest.raises(ValidationError):
        rules.check_printer_url("zpl+serial:///dev/ttyUSB0", policy)
    assert rules.device_patterns(None) == rules.DEFAULT_DEVICE_PATHS
    assert rules.device_patterns("") == rules.DEFAULT_DEVICE_PATHS
    assert rules.device_patterns(["/dev/lp0"]) == ("/dev/lp0",)


def test_hosts_a_url_connects_to_and_what_they_resolve_to():
    assert rules.tcp_hosts("zpl+tcp://zebra.lan:9100") == ["zebra.lan"]
    assert rules.tcp_hosts("zpl+serial:///?url=socket://conv.lan:4001") == ["conv.lan"]
    assert rules.tcp_hosts("zpl+file:///dev/usb/lp0") == []
    assert rules.forbidden_resolution(["192.168.1.5", "fe80::5"]).startswith("fe80::5 is a link-local")
    assert rules.forbidden_resolution(["10.1.2.3"]) == ""
    assert "metadata" in rules.forbidden_resolution(["169.254.169.254"], allow_link_local=True)

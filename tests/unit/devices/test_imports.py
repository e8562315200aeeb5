"""devices must stay importable without Flask and without the wms package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_devices_imports_neither_flask_nor_wms() -> None:
    code = (
        "import sys\n"
        "import devices, devices.scan, devices.printers, devices.serial_scanner, devices.simulators, devices.__main__\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'wms', 'sqlalchemy', 'werkzeug'))\n"
        "print(','.join(bad))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""

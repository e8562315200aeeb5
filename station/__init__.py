"""The station agent: the program on a counter or pack-station PC that forwards a serial scanner's scans to the
WMS and prints the station's jobs on printers only that PC reaches.

Like ``devices``, it imports nothing of ``wms`` and needs neither Flask, nor WeasyPrint, nor a database driver:
only ``devices`` (pyserial, biip) and click. Run it as ``wms station``, ``wms-station`` or ``python -m station``.

- :mod:`station.agent`: :class:`StationClient` (the station API over HTTP(S)), :class:`Spool`, :class:`StationAgent`.
- :mod:`station.printers`: :class:`LocalPrinters`, the printers of this PC by the names the WMS gives them.
- :mod:`station.cli`: the command.
"""

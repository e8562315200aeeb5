"""Printing: stations, label printers and the print queue (``docs/printing.md``).

``models`` (Station, Printer, PrintJob, StationScan), ``rules`` (pure: printer URLs, retry backoff, give-up),
``service`` (units of work: add printers, queue, reprint, cancel, claim and record outcomes), ``worker`` (the
``print_due`` stage of ``wms worker``) and ``commands`` (``wms printer add|test``).
"""

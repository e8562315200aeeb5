"""Errors of scan resolution."""

from __future__ import annotations

from wms.errors import WMSError


class UnknownCode(WMSError):
    """A scan that names nothing the WMS knows here (or does not parse). ``message`` is for the picker;
    ``details`` is ``{"scanned", "expected", "reason", "detail"}`` (``reason``: ``not_found``, ``other_location``,
    or the parse error's code such as ``bad_check_digit``; ``detail``: what exactly was wrong, for logs)."""

    code, status = "unknown_code", 422

"""What a scan names: a parsed scan (``devices.parse_scan``) turned into the product, bin, order, pickup code, tote...
it names at a location, or a picker-readable ``unknown_code`` error.

``rules`` decides what to look up and in which order (pure); ``service.resolve_scan`` does the lookups.
"""

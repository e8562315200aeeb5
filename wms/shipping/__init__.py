"""Shipping: carriers as plug-ins (``carriers``); no Flask, no database here."""

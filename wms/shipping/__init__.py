"""Shipping: carriers as plug-ins (``carriers``: no Flask, no database) and the shipping of packed orders
(``service``)."""

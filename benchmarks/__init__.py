"""Load and speed runs of the WMS: each prints its figure next to a ceiling measured in the same run.

Run them with ``python benchmarks/run.py`` (see ``benchmarks/README.md``). Nothing here is imported by the app or
the tests; timed assertions live here and never in ``tests/``.
"""

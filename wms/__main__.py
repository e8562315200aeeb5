"""``python -m wms``: the same as the ``wms`` console script, for machines where pip's scripts folder is not on PATH."""

from wms.cli import main

main(prog_name="wms")

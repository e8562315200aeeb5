"""``python -m station``: the station agent, for PCs where pip's scripts folder is not on PATH."""

from station.cli import station

station(prog_name="python -m station")

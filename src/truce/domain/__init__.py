"""The pure core: no database, network, web or CLI imports; the clock is passed in."""

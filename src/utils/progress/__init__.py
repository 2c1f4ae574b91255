"""Progress display for long work (Lightning fits, sweeps)."""

"""utils: logging, notebook display, plot themes, progress. Never imports ex_color."""

"""mini: generic infrastructure (keyframed schedules, remote runs). Never imports ex_color."""

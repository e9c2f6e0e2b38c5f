"""The governance code location: the mesh scorecard and the sensors that watch every location."""

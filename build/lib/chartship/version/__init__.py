"""Versions: semver, the version file, tag templates, and keeping Chart.yaml in step."""

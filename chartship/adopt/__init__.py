"""``chartship init``: adopt an existing repository's charts without touching a chart file.

:mod:`discover` finds the charts, environments, test values and versions; :mod:`render` turns
that into the files chartship needs; :mod:`write` writes those that are missing (never an
existing file unless forced) and reports the rest with their difference.
"""

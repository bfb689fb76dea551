"""chartship: Helm charts from git to an OCI registry and into a cluster, safely."""

__version__ = "0.1.0"

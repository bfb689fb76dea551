"""Clusters: helm releases (install, upgrade, rollback, status, history), providers (kind, kwok, existing), the cluster test."""

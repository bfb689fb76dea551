"""Validation of rendered manifests: render, Kubernetes and CRD schemas, security rules, allowlist."""

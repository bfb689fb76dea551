"""Talking to OCI registries: the client, the retry policy, ECR, credentials and login sessions."""

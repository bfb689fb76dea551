"""Build: the temporary workspace (patches, dependencies), lint, reproducible packages, the build cache."""

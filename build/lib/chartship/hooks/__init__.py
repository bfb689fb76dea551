"""pre-commit hooks, one module each with ``main(argv) -> int``.

Console scripts ``chartship-<hook-id>`` run them; ``.pre-commit-config.yaml`` (this
repository) and ``.pre-commit-hooks.yaml`` (other repositories) declare them. Each
hook works in the current directory: the repository root that holds ``version``
and ``invoke.yaml``.
"""

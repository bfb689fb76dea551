"""The tool layer: the only code that starts processes (helm, git, kubectl, kwokctl, kind, yamllint,
pre-commit, the local registry server, go, pip), each program from one module, through :mod:`chartship.proc`."""

"""pytest plugins of this suite, loaded by tests/conftest.py (``pytest_plugins``): every fixture
shared between test files lives here, so no test file imports a fixture."""

"""The browser tests reuse the optimizer tests' small catalog mart and in-thread server.

Loaded from tests/optimizer/conftest.py by path: with --import-mode=importlib a conftest cannot be
imported as a module, and the fixtures should have one definition.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "optimizer_test_fixtures", Path(__file__).resolve().parents[1] / "optimizer" / "conftest.py"
)
_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixtures)

mini_catalog = _fixtures.mini_catalog
serve_app = _fixtures.serve_app

"""Event files in these tests are written whole before they are ingested: no settle wait."""

import pytest


@pytest.fixture(autouse=True)
def _no_settle_wait(monkeypatch):
    monkeypatch.setenv("SMARTCART_DROP_SETTLE_SECONDS", "0")

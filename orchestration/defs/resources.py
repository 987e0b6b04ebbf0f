"""Resources shared by every domain: where the warehouse is and how to reach it."""

from __future__ import annotations

import os

import dagster as dg
import psycopg

from warehouse.platform.config import Settings


class WarehouseResource(dg.ConfigurableResource):
    """Connections to the SmartCart databases as a given role (embedded cluster or SMARTCART_*_URL)."""

    smartcart_home: str | None = None

    def settings(self) -> Settings:
        env = dict(os.environ)
        if self.smartcart_home:
            env["SMARTCART_HOME"] = self.smartcart_home
        return Settings.from_env(env)

    def url(self, database: str, role: str | None = None) -> str:
        return self.settings().database_url(database, role)

    def connect(self, database: str, role: str | None = None, **kwargs) -> psycopg.Connection:
        return psycopg.connect(self.url(database, role), **kwargs)

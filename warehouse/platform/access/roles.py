"""The database roles, by name, for code: `Role.SCRAPER` instead of the string retyped.

warehouse/platform/access/roles.yml declares what each role may do; tests/warehouse/test_access.py
checks that this enum and that file name the same roles. `Role` is a `str`, so it goes
wherever a role name did (URLs, `sql.Identifier`, comparisons with strings).
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "smartcart_admin"  # the cluster's superuser: bootstrap only (initdb), never pipelines
    SCRAPER = "smartcart_scraper"
    INGEST = "smartcart_ingest"
    TRANSFORM = "smartcart_transform"
    AUTH = "smartcart_auth"
    CATALOG_BUYER = "smartcart_catalog_buyer"
    TRENDS_BUYER = "smartcart_trends_buyer"
    ANALYST = "smartcart_analyst"
    BACKUP = "smartcart_backup"
    DAGSTER = "smartcart_dagster"
    APP_API = "smartcart_app_api"

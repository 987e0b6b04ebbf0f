"""Quality reports per run: the Data Docs of the GX suites, and the trends privacy scan.

Checks write their Data Docs to SMARTCART_HOME/quality/<run_id>/<product>/docs. Their
verdicts live in Dagster's event log as asset-check results, which the delivery gate reads
(orchestration/defs/quality/gate.py); nothing here keeps a verdict of its own.
"""

from __future__ import annotations

from pathlib import Path

from warehouse.platform.access.roles import Role
from warehouse.platform.config import Settings
from warehouse.publishing.quality.runner import SuiteOutcome, run_suites
from warehouse.publishing.quality.suites import TableSuite

# The role each product's checks read with: what the product's own pipeline may read.
CHECK_ROLES = {
    "raw": Role.TRANSFORM,
    "catalog": Role.TRANSFORM,
    "trends": Role.TRANSFORM,
}


def quality_dir(settings: Settings, run_id: str, product: str) -> Path:
    return settings.home / "quality" / run_id / product


def sqlalchemy_url(url: str) -> str:
    # GX's SQL datasource goes through SQLAlchemy; name the driver we install (psycopg2).
    scheme, rest = url.split("://", 1)
    return f"postgresql+psycopg2://{rest}" if scheme in ("postgres", "postgresql") else url


def run_product_checks(
    settings: Settings, product: str, run_id: str, suites: list[TableSuite]
) -> list[SuiteOutcome]:
    """Run the product's suites (built with settings.k_threshold) and write their Data Docs for this run."""
    urls = {
        db: sqlalchemy_url(settings.database_url(db, CHECK_ROLES[product]))
        for db in {s.database for s in suites}
    }
    folder = quality_dir(settings, run_id, product)
    outcomes = run_suites(urls, suites, docs_dir=folder / "docs")
    return outcomes


def privacy_problems(settings: Settings) -> list[str]:
    """Why trends may not ship: a value anywhere in the trends schema that equals a vault
    identifier (email, username, app user id), or a row counting fewer than k shoppers
    (settings.k_threshold: the value dbt and the GX suites get too)."""
    from warehouse.vault.leaks import find_identifier_leaks, find_trends_rows_under_k

    problems = [f"identifier leak in {leak}" for leak in find_identifier_leaks(settings, schemas=("trends",))]
    return problems + [str(p) for p in find_trends_rows_under_k(settings, k=settings.k_threshold)]


def data_docs(settings: Settings, product: str, run_id: str) -> Path | None:
    """The Data Docs the checks of `run_id` wrote for `product`, if this machine holds them."""
    docs = quality_dir(settings, run_id, product) / "docs"
    return docs if (docs / "index.html").exists() else None

"""Quality reports per run and the gate in front of every delivery.

Checks write their Data Docs and a verdict (`outcomes.json`) to
SMARTCART_HOME/quality/<run_id>/<product>/. A delivery ships only with a passing verdict
from its own run; when the checks did not run in that run (a delivery launched alone),
the gate runs them first. Either way: nothing ships past a failed blocking check.
"""

from __future__ import annotations

import json
from pathlib import Path

from warehouse.platform.config import Settings
from warehouse.publishing.quality.runner import SuiteOutcome, run_suites
from warehouse.publishing.quality.suites import SUITES_BY_PRODUCT

# The role each product's checks read with: what the product's own pipeline may read.
CHECK_ROLES = {
    "raw": "smartcart_transform",
    "catalog": "smartcart_transform",
    "trends": "smartcart_transform",
}
VERDICT = "outcomes.json"


class QualityGateFailed(RuntimeError):
    pass


def quality_dir(settings: Settings, run_id: str, product: str) -> Path:
    return settings.home / "quality" / run_id / product


def sqlalchemy_url(url: str) -> str:
    # GX's SQL datasource goes through SQLAlchemy; name the driver we install (psycopg2).
    scheme, rest = url.split("://", 1)
    return f"postgresql+psycopg2://{rest}" if scheme in ("postgres", "postgresql") else url


def run_product_checks(settings: Settings, product: str, run_id: str) -> list[SuiteOutcome]:
    """Run the product's suites, write Data Docs and the verdict for this run."""
    suites = SUITES_BY_PRODUCT[product]
    urls = {
        db: sqlalchemy_url(settings.database_url(db, CHECK_ROLES[product]))
        for db in {s.database for s in suites}
    }
    folder = quality_dir(settings, run_id, product)
    outcomes = run_suites(urls, suites, docs_dir=folder / "docs")
    verdict = {
        "product": product,
        "run_id": run_id,
        "passed": all(o.passed for o in outcomes),
        "suites": [{"suite": o.suite.name, "passed": o.passed, "summary": o.summary()} for o in outcomes],
    }
    (folder / VERDICT).write_text(json.dumps(verdict, indent=2) + "\n")
    return outcomes


def _with_privacy_scan(settings: Settings, verdict: dict) -> dict:
    """Trends ship only if no value anywhere in the trends schema equals a vault identifier
    (email, username, app user id) and no row counts fewer than k shoppers."""
    from warehouse.publishing.quality.suites import K_THRESHOLD
    from warehouse.vault.leaks import find_identifier_leaks, find_trends_rows_under_k

    problems = [f"identifier leak in {leak}" for leak in find_identifier_leaks(settings, schemas=("trends",))]
    problems += find_trends_rows_under_k(settings, k=K_THRESHOLD)
    if problems:
        verdict = {**verdict, "passed": False}
        verdict["suites"] = [
            *verdict["suites"],
            {"suite": "privacy scan", "passed": False, "summary": "; ".join(map(str, problems))},
        ]
    return verdict


def latest_quality_report(settings: Settings, product: str, run_id: str) -> Path:
    """The Data Docs folder this run's delivery may ship with; runs the checks if this run has none.

    Raises QualityGateFailed naming every failed blocking expectation.
    """
    folder = quality_dir(settings, run_id, product)
    if not (folder / VERDICT).exists():
        run_product_checks(settings, product, run_id)
    verdict = json.loads((folder / VERDICT).read_text())
    if product == "trends":
        verdict = _with_privacy_scan(settings, verdict)
    if not verdict["passed"]:
        failed = [s["summary"] for s in verdict["suites"] if not s["passed"]]
        raise QualityGateFailed(
            f"{product} delivery blocked by failed quality checks (report: {folder / 'docs' / 'index.html'}): "
            + " | ".join(failed)
        )
    return folder / "docs"

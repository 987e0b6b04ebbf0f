"""Who answers for each domain's assets (shown as owners in the Dagster UI)."""

from __future__ import annotations

DOMAIN_OWNERS: dict[str, list[str]] = {
    "scraping": ["team:scraping"],
    "dbt": ["team:analytics-engineering"],
    "optimizer": ["team:optimizer"],
    "ops": ["team:data-platform"],
}


def owners_of(domain: str) -> list[str]:
    """The owners of ``domain``'s assets; unknown domains belong to the data platform team."""
    return list(DOMAIN_OWNERS.get(domain, DOMAIN_OWNERS["ops"]))

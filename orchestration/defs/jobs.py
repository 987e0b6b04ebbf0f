"""Jobs that span domains."""

import dagster as dg

from orchestration.defs.dbt.assets import catalog_dbt_models
from orchestration.defs.deliveries.assets import catalog_delivery
from orchestration.defs.optimizer.assets import sample_basket_split
from orchestration.defs.scraping.assets import crawl_assets, raw_landing

# The whole catalog pipeline, spider to delivery: what `smartcart demo` runs and ops launch from the UI.
# Named assets, not groups: a group can grow (the trends delivery lives in "deliveries" too).
# Every day-partitioned asset here has BackfillPolicy.single_run: a backfill of N days is ONE run
# (crawl steps per retailer in parallel, one dbt build over the window, one delivery).
catalog_pipeline = dg.define_asset_job(
    "catalog_pipeline",
    selection=dg.AssetSelection.assets(
        *crawl_assets, raw_landing, catalog_dbt_models, sample_basket_split, catalog_delivery
    ),
    description="Crawl each retailer -> raw (COPY) -> dbt build (catalog) -> quality checks -> sample basket "
    "split -> delivery.",
    tags={"smartcart/pipeline": "catalog"},
)


def catalog_pipeline_selection(retailers: list[str] | None = None) -> list[dg.AssetKey]:
    """The catalog_pipeline's assets with only ``retailers``' crawls (None: every retailer).

    Raises ValueError naming the configured retailers when one is unknown.
    """
    from scrapers.retailers import RETAILERS

    chosen = set(RETAILERS if retailers is None else retailers)
    unknown = sorted(chosen - set(RETAILERS))
    if unknown:
        raise ValueError(f"unknown retailers {unknown}; configured: {', '.join(RETAILERS)}")
    skipped = {
        crawl.key for crawl, retailer in zip(crawl_assets, RETAILERS, strict=True) if retailer not in chosen
    }
    keys = [
        key
        for asset in (*crawl_assets, raw_landing, catalog_dbt_models, sample_basket_split, catalog_delivery)
        for key in asset.keys
    ]
    return [key for key in keys if key not in skipped]


def crawl_sites_run_config(market_url: str) -> dict:
    """Run config pointing every retailer's crawl at the market rooted at ``market_url``."""
    return {"resources": {"crawl_sites": {"config": {"base_url": market_url}}}}

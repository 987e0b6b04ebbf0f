"""Great Expectations suites, declared as data so the code location loads without importing GX.

Each `TableSuite` validates one Postgres table through GX's SQL datasource (GX cannot read
Polars frames; validating in the database also avoids moving rows). An expectation is
`blocking` (a failure stops the delivery behind it) or a warning (shown in the UI only).
SQL checks use `{batch}` for the table under test, as GX's UnexpectedRowsExpectation does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

BLOCKING, WARNING = "blocking", "warning"
# Expectations whose description starts with this judge crawl health; a failed gate names them first.
CRAWL_HEALTH = "crawl health"


@dataclass(frozen=True)
class Expect:
    """One expectation: a GX expectation class name and its keyword arguments."""

    kind: str
    severity: str = BLOCKING
    kwargs: dict = field(default_factory=dict)

    def __init__(self, kind: str, severity: str = BLOCKING, **kwargs):
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "severity", severity)
        object.__setattr__(self, "kwargs", kwargs)


def not_null(*columns: str, severity: str = BLOCKING) -> list[Expect]:
    return [Expect("ExpectColumnValuesToNotBeNull", severity, column=c) for c in columns]


def unexpected_rows(description: str, query: str, severity: str = BLOCKING) -> Expect:
    return Expect("UnexpectedRowsExpectation", severity, unexpected_rows_query=query, description=description)


@dataclass(frozen=True)
class TableSuite:
    name: str  # e.g. "catalog_mart.fct_prices_daily"
    database: str  # vault | catalog | behavior
    schema: str
    table: str
    asset_key: tuple[str, ...]
    expectations: tuple[Expect, ...]

    @property
    def qualified_table(self) -> str:
        return f"{self.schema}.{self.table}"


def _suite(name, database, schema, table, asset_key, *groups) -> TableSuite:
    flat: list[Expect] = []
    for group in groups:
        flat.extend(group if isinstance(group, list) else [group])
    return TableSuite(name, database, schema, table, tuple(asset_key), tuple(flat))


# --- raw landings ---------------------------------------------------------------------------
# GX turns {batch} into a subquery, which PostgreSQL needs aliased (without one the check errored and
# showed as a warning with `unexpected None`). A first day has no previous day: the join finds nothing.
RAW_PRICE_DRIFT = """
with daily as (
    select retailer, store_id, scrape_date, count(*) as observed_rows, avg(price) as mean_price
    from {batch} as batch_rows group by retailer, store_id, scrape_date
),
latest as (select max(scrape_date) as scrape_date from {batch} as batch_rows)
select today.retailer, today.store_id, today.observed_rows, before.observed_rows as previous_rows,
       today.mean_price, before.mean_price as previous_mean_price
from daily as today
join latest on today.scrape_date = latest.scrape_date
join daily as before
  on before.retailer = today.retailer and before.store_id = today.store_id
 and before.scrape_date = today.scrape_date - 1
where today.observed_rows not between 0.7 * before.observed_rows and 1.3 * before.observed_rows
   or today.mean_price not between 0.8 * before.mean_price and 1.2 * before.mean_price
"""

RAW_SUITES = [
    _suite(
        "raw.price_observations",
        "catalog",
        "raw",
        "price_observations",
        ["catalog_raw", "price_observations"],
        not_null(
            "retailer", "store_id", "retailer_product_id", "product_name", "price", "currency", "scrape_date"
        ),
        Expect("ExpectColumnValuesToBeBetween", column="price", min_value=0, max_value=10_000),
        Expect("ExpectColumnValuesToBeBetween", WARNING, column="unit_price", min_value=0, max_value=100_000),
        Expect("ExpectColumnValuesToBeInSet", column="package_unit", value_set=["kg", "l", "each"]),
        Expect("ExpectColumnValueLengthsToEqual", column="gtin", value=13),
        Expect(
            "ExpectCompoundColumnsToBeUnique",
            column_list=["retailer", "scrape_date", "store_id", "retailer_product_id"],
        ),
        unexpected_rows(
            "stale: the newest scrape is more than 2 days old",
            "select max(scrape_date) as newest from {batch} having max(scrape_date) < current_date - 2",
            WARNING,
        ),
        unexpected_rows(
            "day-over-day drift: rows per retailer and branch within 30%, mean price within 20%",
            RAW_PRICE_DRIFT,
            WARNING,
        ),
    ),
    _suite(
        "raw.stores",
        "catalog",
        "raw",
        "stores",
        ["catalog_raw", "stores"],
        not_null("retailer", "store_id", "store_name"),
        Expect("ExpectColumnValuesToBeBetween", column="latitude", min_value=-90, max_value=90),
        Expect("ExpectColumnValuesToBeBetween", column="longitude", min_value=-180, max_value=180),
        Expect("ExpectCompoundColumnsToBeUnique", column_list=["retailer", "scrape_date", "store_id"]),
    ),
]

# --- crawl health on the catalog mart (warehouse/landing/crawl_health.py) ------------------
# GX puts {batch} in as an unaliased subquery: PostgreSQL < 16 needs the "as mart" alias.
# The latest loaded run of each retailer-day; a degraded one inside the mart's days blocks the
# delivery whether or not its rows reached the mart.
CURRENT_DEGRADED_CRAWLS = """
with current_runs as (
    select distinct on (retailer, scrape_date) retailer, scrape_date, status, health -> 'breaches' as breaches
    from raw.scrape_runs
    where status in ('succeeded', 'degraded')
    order by retailer, scrape_date, finished_at desc
),
mart_days as (select min(price_date) as first_day, max(price_date) as last_day from {batch} as mart)
select current_runs.retailer, current_runs.scrape_date,
       (select string_agg(breach, '; ') from jsonb_array_elements_text(current_runs.breaches) as b (breach))
           as breaches
from current_runs cross join mart_days
where current_runs.status = 'degraded'
  and current_runs.scrape_date between mart_days.first_day and mart_days.last_day
"""


def retailer_day_drop_query() -> str:
    """Each retailer-day of the mart against the retailer's day before (the calendar day, as the
    raw drift check does: a gap in the history is not a drop): rows below the retailer's
    ``min_rows_vs_previous`` (crawl health thresholds) times the day before's are unexpected."""
    from warehouse.landing.crawl_health import configured_retailers, crawl_health_thresholds

    default = crawl_health_thresholds("default").min_rows_vs_previous
    limits = ", ".join(
        f"('{name}', {crawl_health_thresholds(name).min_rows_vs_previous})"
        for name in configured_retailers()
        if name.replace("-", "").replace("_", "").isalnum()  # names only, never SQL
    )
    limit_rows = (
        f"select * from (values {limits}) as v (retailer, min_ratio)"
        if limits
        else ("select null::text as retailer, null::numeric as min_ratio where false")
    )
    return f"""
with daily as (
    select retailer, price_date, count(*) as price_rows from {{batch}} as mart group by retailer, price_date
),
compared as (
    select today.retailer, today.price_date, today.price_rows,
           before.price_date as previous_date, before.price_rows as previous_rows
    from daily as today
    join daily as before on before.retailer = today.retailer and before.price_date = today.price_date - 1
),
limits as ({limit_rows})
select compared.retailer, compared.price_date, compared.price_rows, compared.previous_date,
       compared.previous_rows, round(compared.price_rows::numeric / compared.previous_rows - 1, 4) as change
from compared left join limits on limits.retailer = compared.retailer
where compared.previous_rows is not null
  and compared.price_rows < coalesce(limits.min_ratio, {default}) * compared.previous_rows
"""


CRAWL_HEALTH_EXPECTATIONS = [
    unexpected_rows(
        f"{CRAWL_HEALTH}: no degraded crawl (latest run of a retailer-day) within the mart's days",
        CURRENT_DEGRADED_CRAWLS,
    ),
    unexpected_rows(
        f"{CRAWL_HEALTH}: rows per retailer-day not below the retailer's threshold vs its previous day",
        retailer_day_drop_query(),
    ),
]

# --- catalog mart --------------------------------------------------------------------------
CATALOG_SUITES = [
    _suite(
        "catalog_mart.fct_prices_daily",
        "catalog",
        "catalog",
        "fct_prices_daily",
        ["catalog", "fct_prices_daily"],
        not_null("price_id", "price_date", "store_key", "product_key", "price"),
        Expect("ExpectColumnValuesToBeUnique", column="price_id"),
        Expect("ExpectColumnValuesToBeBetween", column="price", min_value=0, max_value=10_000),
        Expect("ExpectColumnValuesToBeBetween", WARNING, column="unit_price", min_value=0, max_value=100_000),
        unexpected_rows(
            "referential integrity: every price has its store and product",
            "select f.price_id from {batch} as f"
            " left join catalog.dim_store as s on s.store_key = f.store_key"
            " left join catalog.dim_product as p on p.product_key = f.product_key"
            " where s.store_key is null or p.product_key is null",
        ),
        unexpected_rows(
            "stale: the newest price is more than 2 days old",
            "select max(price_date) as newest from {batch} having max(price_date) < current_date - 2",
            WARNING,
        ),
        CRAWL_HEALTH_EXPECTATIONS,
    ),
    _suite(
        "catalog_mart.dim_store",
        "catalog",
        "catalog",
        "dim_store",
        ["catalog", "dim_store"],
        not_null("store_key", "retailer", "store_id", "store_name"),
        Expect("ExpectColumnValuesToBeUnique", column="store_key"),
        Expect("ExpectColumnValuesToBeBetween", column="latitude", min_value=-90, max_value=90),
        Expect("ExpectColumnValuesToBeBetween", column="longitude", min_value=-180, max_value=180),
    ),
    _suite(
        "catalog_mart.dim_product",
        "catalog",
        "catalog",
        "dim_product",
        ["catalog", "dim_product"],
        not_null("product_key", "product_name"),
        Expect("ExpectColumnValuesToBeUnique", column="product_key"),
    ),
]

SUITES_BY_PRODUCT: dict[str, list[TableSuite]] = {"raw": RAW_SUITES, "catalog": CATALOG_SUITES}

# --- trends mart ---------------------------------------------------------------------------
# Privacy is structural and checked twice: dbt tests at build, these suites before delivery.
# The suites are built per call from k (Settings.k_threshold) and the trends tables (the dbt
# manifest's `meta.delivery.product: trends` models), so neither is fixed when this module loads.
IDENTIFYING_COLUMNS = r"'(anonymous|user_id|username|email|device|ip_address|postcode)'"


def trends_suite(table: str, k_threshold: int) -> TableSuite:
    """The suite of one sellable trends table: every cell counts at least `k_threshold` shoppers."""
    return _suite(
        f"trends_mart.{table}",
        "behavior",
        "trends",
        table,
        ["trends", table],
        not_null("shoppers"),
        Expect("ExpectColumnValuesToBeBetween", column="shoppers", min_value=k_threshold),
        unexpected_rows(
            "no identifying column (anonymous id, user id, email, ...) in a sellable aggregate",
            # The comment names {batch} only to satisfy GX, which prints a warning for queries without it.
            "select column_name /* about {batch} */ from information_schema.columns where table_schema = 'trends'"
            f" and table_name = '{table}' and column_name ~* {IDENTIFYING_COLUMNS}",
        ),
    )


def product_suites(product: str, k_threshold: int, trends_tables: Sequence[str] = ()) -> list[TableSuite]:
    """The suites of a data product; trends needs its tables (from the dbt manifest) and k."""
    if product == "trends":
        return [trends_suite(table, k_threshold) for table in trends_tables]
    if product not in SUITES_BY_PRODUCT:
        known = ", ".join([*SUITES_BY_PRODUCT, "trends"])
        raise KeyError(f"no quality suites for product {product!r}; known products: {known}")
    return SUITES_BY_PRODUCT[product]

"""Great Expectations suites, declared as data so the code location loads without importing GX.

Each `TableSuite` validates one Postgres table through GX's SQL datasource (GX cannot read
Polars frames; validating in the database also avoids moving rows). An expectation is
`blocking` (a failure stops the delivery behind it) or a warning (shown in the UI only).
SQL checks use `{batch}` for the table under test, as GX's UnexpectedRowsExpectation does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

BLOCKING, WARNING = "blocking", "warning"


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
RAW_PRICE_DRIFT = """
with daily as (
    select retailer, store_id, scrape_date, count(*) as observed_rows, avg(price) as mean_price
    from {batch} group by retailer, store_id, scrape_date
),
latest as (select max(scrape_date) as scrape_date from {batch})
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
K_THRESHOLD = int(os.environ.get("SMARTCART_K_THRESHOLD", "10"))
TRENDS_TABLES = (
    "trends_category_demand_weekly",
    "trends_substitution_flows",
    "trends_basket_spend_bands",
    "trends_basket_composition",
    "trends_store_choice",
    "trends_split_savings",
)
IDENTIFYING_COLUMNS = r"'(anonymous|user_id|username|email|device|ip_address|postcode)'"


def _trends_suite(table: str) -> TableSuite:
    return _suite(
        f"trends_mart.{table}",
        "behavior",
        "trends",
        table,
        ["trends", table],
        not_null("shoppers"),
        Expect("ExpectColumnValuesToBeBetween", column="shoppers", min_value=K_THRESHOLD),
        unexpected_rows(
            "no identifying column (anonymous id, user id, email, ...) in a sellable aggregate",
            # The comment names {batch} only to satisfy GX, which prints a warning for queries without it.
            "select column_name /* about {batch} */ from information_schema.columns where table_schema = 'trends'"
            f" and table_name = '{table}' and column_name ~* {IDENTIFYING_COLUMNS}",
        ),
    )


TRENDS_SUITES = [_trends_suite(t) for t in TRENDS_TABLES]
SUITES_BY_PRODUCT["trends"] = TRENDS_SUITES

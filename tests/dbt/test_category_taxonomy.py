"""The canonical category taxonomy and pack_count, on a real dbt build against the embedded cluster.

The market is the matching market of tests/dbt/conftest.py (the demo market's catalogue listed by four
retailers), landed in raw with each retailer spelling its category paths its own way, the way real shops
do: freshmart "Dairy > Milk", valueway "Dairy / Milk", cornerstore "DAIRY | MILK", europa German names
with "»". One planted category no mapping knows must make the warning test name it with its share.
pack_count is landed as the scraper's parser reads it, so a multipack's count must reach the mart.
"""

from __future__ import annotations

import json
from decimal import Decimal

import psycopg
import pytest

from warehouse.domain.units import parse_pack_size

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# How europa writes each department and leaf (German), joined by "»".
GERMAN = {
    "Dairy": "Molkereiprodukte",
    "Milk": "Milch",
    "Yoghurt": "Joghurt",
    "Cheese": "Käse",
    "Bakery": "Backwaren",
    "Bread": "Brot",
    "Fruit & Veg": "Obst & Gemüse",
    "Fruit": "Obst",
    "Vegetables": "Gemüse",
    "Pantry": "Vorrat",
    "Pasta": "Nudeln",
    "Breakfast": "Frühstück",
    "Eggs": "Eier",
    "Drinks": "Getränke",
    "Soft Drinks": "Erfrischungsgetränke",
    "Juice": "Säfte",
    "Household": "Haushalt",
    "Cleaning": "Reinigung",
    "Paper": "Papierwaren",
    "Meat & Seafood": "Fleisch & Fisch",
    "Beef": "Rindfleisch",
}
PLANTED = "Pet Care > Dog Food"
MULTIPACK_SIZE = "2 x 6 x 330ml"  # the parser reads 12 units; the size text's leading "N x" says 2


def _spelled(retailer: str, path: str) -> str:
    parts = [part.strip() for part in path.split(">")]
    if retailer == "valueway":
        return " / ".join(parts)
    if retailer == "cornerstore":
        return " | ".join(parts).upper()
    if retailer == "europa":
        return " » ".join(GERMAN[part] for part in parts)
    return path


def _rows(settings, sql: str, *params) -> list[tuple]:
    with psycopg.connect(settings.database_url("catalog")) as conn:
        return conn.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def built(warehouse_settings, tmp_path_factory, catalog_tools):
    market = catalog_tools.build_matching_market(products=90, days=1)
    work = tmp_path_factory.mktemp("dbt_taxonomy")
    with psycopg.connect(warehouse_settings.database_url("catalog")) as conn:
        catalog_tools.load_matching_market(conn, market)
        # Each retailer's own spelling of the catalogue's paths.
        paths = [
            path for (path,) in conn.execute("select distinct category_path from raw.price_observations")
        ]
        for retailer in ("valueway", "cornerstore", "europa"):
            for path in paths:
                conn.execute(
                    "update raw.price_observations set category_path = %s where retailer = %s and category_path = %s",
                    (_spelled(retailer, path), retailer, path),
                )
        # pack_count as the pack-size parser lands it.
        for (size,) in conn.execute(
            "select distinct package_size_text from raw.price_observations"
        ).fetchall():
            parsed = parse_pack_size(size)
            conn.execute(
                "update raw.price_observations set pack_count = %s where package_size_text = %s",
                (parsed.pack_count if parsed else None, size),
            )
        # One cornerstore product under a category nobody mapped; one freshmart cola as "2 x 6 x 330ml"
        # (parser: 12 cans), and one freshmart yoghurt multipack landed before raw had pack_count (null).
        planted_id = conn.execute(
            "select min(retailer_product_id) from raw.price_observations where retailer = 'cornerstore'"
        ).fetchone()[0]
        conn.execute(
            "update raw.price_observations set category_path = %s"
            " where retailer = 'cornerstore' and retailer_product_id = %s",
            (PLANTED, planted_id),
        )
        multipack_id = conn.execute(
            "select min(retailer_product_id) from raw.price_observations"
            " where retailer = 'freshmart' and category_path = 'Drinks > Soft Drinks'"
        ).fetchone()[0]
        conn.execute(
            # No barcode: a GTIN would (rightly) join it to the other retailers' 6-packs of that cola.
            "update raw.price_observations set package_size_text = %s, pack_count = %s, package_quantity = 3.96,"
            " gtin = null"
            " where retailer = 'freshmart' and retailer_product_id = %s",
            (MULTIPACK_SIZE, parse_pack_size(MULTIPACK_SIZE).pack_count, multipack_id),
        )
        legacy_id = conn.execute(
            "select min(retailer_product_id) from raw.price_observations"
            " where retailer = 'freshmart' and package_size_text = '4 x 125g'"
        ).fetchone()[0]
        conn.execute(
            "update raw.price_observations set pack_count = null where retailer = 'freshmart' and retailer_product_id = %s",
            (legacy_id,),
        )
        conn.commit()
    result = catalog_tools.run_dbt(
        warehouse_settings,
        ["build", "--select", "+dim_category", "+dim_retailer_product", "--indirect-selection", "cautious"],
        work,
    )
    assert result.returncode == 0, f"dbt build failed:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}"
    run_results = json.loads((work / "target" / "run_results.json").read_text())
    return {
        "settings": warehouse_settings,
        "stdout": result.stdout,
        "run_results": {r["unique_id"].split(".")[-1]: r for r in run_results["results"]},
        "planted_id": planted_id,
        "multipack_id": multipack_id,
        "legacy_id": legacy_id,
    }


def test_every_spelling_of_one_category_lands_in_one_canonical_category(built):
    settings = built["settings"]
    rows = _rows(
        settings,
        "select rp.retailer, rp.category_path, c.category_id from catalog.dim_retailer_product as rp"
        " inner join catalog.dim_category as c on rp.category_key = c.category_key"
        " where rp.category_path in ('Dairy > Milk', 'Dairy / Milk', 'DAIRY | MILK', 'Molkereiprodukte » Milch')",
    )
    spellings = {path for _, path, _ in rows}
    assert spellings == {"Dairy > Milk", "Dairy / Milk", "DAIRY | MILK", "Molkereiprodukte » Milch"}, (
        spellings
    )
    assert {category_id for _, _, category_id in rows} == {"en:milks"}
    # Every retailer's spelling of every catalogue path maps to the same category as freshmart's.
    per_path = _rows(
        settings,
        "select retailer, category_path, category_key from catalog.dim_retailer_product"
        " where category_path <> %s group by 1, 2, 3",
        PLANTED,
    )
    canonical = {path: key for retailer, path, key in per_path if retailer == "freshmart"}
    assert len(canonical) >= 10
    for retailer, path, key in per_path:
        source = next(p for p in canonical if _spelled(retailer, p) == path)
        assert key == canonical[source], (retailer, path)
    # Distinct retailer paths collapse: one canonical category per catalogue path, none Uncategorised.
    names = dict(_rows(settings, "select category_key, category_id from catalog.dim_category"))
    assert "smartcart:uncategorised" not in {names[key] for key in canonical.values()}
    assert len(set(canonical.values())) == len(canonical)


def test_dim_category_is_a_tree_and_products_carry_canonical_paths(built):
    settings = built["settings"]
    nodes = {
        key: (category_id, parent, level, path)
        for key, category_id, parent, level, path in _rows(
            settings,
            "select category_key, category_id, parent_category_key, category_level, category_path"
            " from catalog.dim_category",
        )
    }
    for category_id, parent, level, path in nodes.values():
        if parent is None:
            assert level == 1 and " > " not in path, category_id
        else:
            parent_level, parent_path = nodes[parent][2], nodes[parent][3]
            assert level == parent_level + 1 and path.startswith(parent_path + " > "), category_id
    assert {"en:milks", "en:dairies", "en:fruit-juices"} <= {n[0] for n in nodes.values()}
    # Products: category_key and category_path are the canonical node's.
    mismatched = _rows(
        settings,
        "select p.product_key from catalog.dim_product as p inner join catalog.dim_category as c"
        " on p.category_key = c.category_key where p.category_path is distinct from c.category_path",
    )
    assert mismatched == []
    counted = _rows(
        settings,
        "select (select sum(product_count) from catalog.dim_category), (select count(*) from catalog.dim_product)",
    )[0]
    assert counted[0] == counted[1]


def test_an_unmapped_category_warns_with_its_share(built):
    settings = built["settings"]
    result = built["run_results"]["assert_retailer_categories_mapped"]
    assert result["status"] == "warn" and result["failures"] == 1, result
    listed = _rows(
        settings,
        "select retailer_category_path, retailer_product_count, retailer_product_share"
        " from intermediate.assert_retailer_categories_mapped",
    )
    total = _rows(settings, "select count(*) from catalog.dim_retailer_product")[0][0]
    planted = _rows(
        settings, "select count(*) from catalog.dim_retailer_product where category_path = %s", PLANTED
    )[0][0]
    assert planted == 1
    assert listed == [(PLANTED, 1, round(Decimal(planted) / Decimal(total), 5))]
    uncategorised = _rows(
        settings,
        "select c.category_id from catalog.dim_retailer_product as rp inner join catalog.dim_category as c"
        " on rp.category_key = c.category_key where rp.retailer = 'cornerstore' and rp.retailer_product_id = %s",
        built["planted_id"],
    )
    assert uncategorised == [("smartcart:uncategorised",)]


def test_pack_count_from_the_parser_reaches_the_mart(built):
    settings = built["settings"]
    multipack = _rows(
        settings,
        "select rp.pack_count, p.pack_count from catalog.dim_retailer_product as rp"
        " inner join catalog.dim_product as p on rp.product_key = p.product_key"
        " where rp.retailer = 'freshmart' and rp.retailer_product_id = %s",
        built["multipack_id"],
    )
    assert multipack == [(12, 12)]  # the parser's 12 cans, not the size text's leading "2 x"
    legacy = _rows(
        settings,
        "select pack_count from catalog.dim_retailer_product where retailer = 'freshmart' and retailer_product_id = %s",
        built["legacy_id"],
    )
    assert legacy == [(4,)]  # landed before the column: read from "4 x 125g"
    # Every other listing carries what the parser landed.
    landed = dict(
        _rows(
            settings,
            "select distinct package_size_text, pack_count from raw.price_observations where pack_count is not null",
        )
    )
    in_mart = _rows(settings, "select package_size_text, pack_count from catalog.dim_retailer_product")
    assert in_mart and all(count == landed.get(size, count) for size, count in in_mart)
    assert any(count > 1 for _, count in in_mart)

"""Shopper simulator: users in the vault and app event files in the drop folder.

For the demo, tests and benchmarks. Shoppers live in regions (the catalog's store regions),
each region has its own category habits, baskets are drawn from the catalog's products
(popular products more often), some items are removed or substituted within their
category, and every list ends with an optimizer request from the shopper's postcode.
A consent mix applies (some decline trend sharing) and a few users ask to be erased.
Some events carry fields an app should not send (an email, a device IP): ingestion must
drop them, and the leak checks prove it did.

Simulated users share one argon2id hash of a random throwaway password: they never log in,
and hashing at 64 MiB per user would make a 20,000-user simulation take most of an hour.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import secrets
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from warehouse.domain.regions import REGION_POSTCODES
from warehouse.landing.ingestion import app_events_dropzone
from warehouse.platform.config import Settings
from warehouse.vault.api import NewUser, Vault
from warehouse.vault.passwords import hash_password

CATALOG_READER_ROLE = "smartcart_analyst"
# A postcode per state, used when the catalog has no store in a region (Australian demo market).
STATE_POSTCODES = {region: [postcode] for region, postcode in REGION_POSTCODES["AU"].items()}
PREFERENCES = [("organic", [True, False]), ("brand", ["home_brand", "any"]), ("max_stores", [1, 2, 3])]


@dataclass(frozen=True)
class SimCatalog:
    products: list[tuple[str, str]]  # (product_key, category)
    regions: dict[str, list[str]]  # region -> postcodes of its stores


@dataclass(frozen=True)
class SimulationConfig:
    users: int = 200
    weeks: int = 4
    seed: int = 42
    end_date: dt.date | None = None
    lists_per_user: tuple[int, int] = (1, 4)
    items_per_list: tuple[int, int] = (4, 14)
    trend_sharing_rate: float = 0.75
    marketing_rate: float = 0.3
    erasure_rate: float = 0.03
    pii_field_rate: float = 0.05  # share of events carrying a field the app should not send
    events_per_file: int = 50_000


@dataclass
class SimulationResult:
    users: int = 0
    events: int = 0
    files: list[Path] = field(default_factory=list)
    declined_trend_sharing: int = 0
    erased_app_user_ids: list[str] = field(default_factory=list)
    app_user_ids: list[str] = field(default_factory=list)


def load_catalog(settings: Settings) -> SimCatalog:
    """Products (key, category) and store regions from the catalog mart."""
    with psycopg.connect(settings.database_url("catalog", CATALOG_READER_ROLE)) as conn:
        columns = {
            r[0]
            for r in conn.execute(
                "select column_name from information_schema.columns"
                " where table_schema = 'catalog' and table_name = 'dim_product'"
            )
        }
        category = next((c for c in ("category_path", "category") if c in columns), None)
        if not columns:
            raise RuntimeError("catalog.dim_product does not exist yet: run the catalog pipeline first")
        products = conn.execute(
            f"select product_key, coalesce({category or 'null'}::text, 'Uncategorised')"
            " from catalog.dim_product order by product_key"
        ).fetchall()
        stores = conn.execute(
            "select coalesce(region, 'unknown'), postcode from catalog.dim_store order by 1, 2"
        ).fetchall()
    regions: dict[str, list[str]] = defaultdict(list)
    for region, postcode in stores:
        if postcode:
            regions[region].append(str(postcode))
    return SimCatalog(products=[tuple(p) for p in products], regions=dict(regions))


def synthetic_catalog(products: int = 300, seed: int = 0) -> SimCatalog:
    """A catalog without a database (unit tests, benchmarks before any crawl)."""
    rng = random.Random(seed)
    categories = [
        "Dairy > Milk",
        "Dairy > Cheese",
        "Bakery > Bread",
        "Fruit & Veg > Fruit",
        "Pantry > Pasta",
        "Meat > Chicken",
        "Drinks > Juice",
        "Frozen > Ice Cream",
        "Household > Cleaning",
        "Snacks > Chips",
    ]
    return SimCatalog(
        products=[
            (uuid.UUID(int=rng.getrandbits(128)).hex, categories[i % len(categories)])
            for i in range(products)
        ],
        regions={state: postcodes for state, postcodes in STATE_POSTCODES.items()},
    )


def _regional_habits(rng: random.Random, regions: list[str], categories: list[str]) -> dict[str, list[float]]:
    """Each region over-buys a few categories: weights per category."""
    habits = {}
    for region in regions:
        weights = [rng.uniform(0.5, 1.5) for _ in categories]
        for favourite in rng.sample(range(len(categories)), k=min(2, len(categories))):
            weights[favourite] *= 3
        habits[region] = weights
    return habits


def generate_events(
    catalog: SimCatalog, config: SimulationConfig, app_user_ids: list[str], rng: random.Random
):
    """Yield app events (dicts, as the app would send them) for the given users."""
    if not catalog.products:
        raise RuntimeError("the catalog has no products to shop from")
    by_category: dict[str, list[str]] = defaultdict(list)
    for product_key, category in catalog.products:
        by_category[category].append(product_key)
    categories = sorted(by_category)
    regions = sorted(catalog.regions) or sorted(STATE_POSTCODES)
    region_weights = [max(1, len(catalog.regions.get(r, []))) * rng.uniform(0.6, 1.6) for r in regions]
    habits = _regional_habits(rng, regions, categories)
    end = config.end_date or dt.date.today()
    start = dt.datetime.combine(end - dt.timedelta(weeks=config.weeks), dt.time(), tzinfo=dt.UTC)
    span_seconds = config.weeks * 7 * 86400
    for app_user_id in app_user_ids:
        region = rng.choices(regions, region_weights)[0]
        postcode = rng.choice(catalog.regions.get(region) or STATE_POSTCODES.get(region, ["2000"]))
        weights = habits[region]
        for _ in range(rng.randint(*config.lists_per_user)):
            at = start + dt.timedelta(seconds=rng.randrange(span_seconds))
            list_id = f"l-{uuid.UUID(int=rng.getrandbits(128)).hex[:16]}"

            def event(event_type: str, **fields):
                nonlocal at
                at += dt.timedelta(seconds=rng.randint(5, 300))
                body = {
                    "event_id": uuid.UUID(int=rng.getrandbits(128)).hex,
                    "user_id": app_user_id,  # noqa: B023 (called within this iteration only)
                    "event_type": event_type,
                    "occurred_at": at.isoformat(timespec="seconds"),
                    **fields,
                }
                if rng.random() < config.pii_field_rate:
                    body["device_ip"] = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}"
                return body

            yield event(
                "list_created", list_id=list_id, list_name=rng.choice(["Weekly shop", "BBQ", "Top-up"])
            )
            chosen = set()
            for _ in range(rng.randint(*config.items_per_list)):
                category = rng.choices(categories, weights)[0]
                pool = by_category[category]
                # Popular products first: a skewed pick within the category.
                product_key = pool[min(int(rng.paretovariate(1.2)) - 1, len(pool) - 1)]
                if product_key in chosen:
                    continue
                chosen.add(product_key)
                yield event(
                    "item_added",
                    list_id=list_id,
                    product_key=product_key,
                    quantity=rng.choice([1, 1, 1, 2, 3]),
                )
                if rng.random() < 0.12 and len(pool) > 1:
                    # Most shoppers swap to the same alternative (the next product of the category).
                    usual = pool[(pool.index(product_key) + 1) % len(pool)]
                    substitute = usual if rng.random() < 0.7 else rng.choice(pool[:8])
                    if substitute != product_key and substitute not in chosen:
                        chosen.add(substitute)
                        yield event(
                            "substitution_chosen",
                            list_id=list_id,
                            from_product_key=product_key,
                            to_product_key=substitute,
                        )
                elif rng.random() < 0.05:
                    yield event("item_removed", list_id=list_id, product_key=product_key)
            if rng.random() < 0.2:
                preference, values = rng.choice(PREFERENCES)
                yield event("preference_set", preference=preference, value=rng.choice(values))
            yield event(
                "optimizer_request", list_id=list_id, postcode=postcode, max_stores=rng.choice([1, 2, 2, 3])
            )


def write_event_files(events, folder: Path, prefix: str, per_file: int) -> tuple[list[Path], int]:
    """JSONL files of at most per_file events, written to a temp name then renamed (atomic drop)."""
    folder.mkdir(parents=True, exist_ok=True)
    files, total, handle, in_file, path = [], 0, None, 0, None
    dumps = json.dumps
    for event in events:
        if handle is None:
            path = folder / f"{prefix}-{len(files):04d}.jsonl"
            handle = open(path.with_suffix(".jsonl.part"), "w", encoding="utf-8")
        handle.write(dumps(event) + "\n")
        total += 1
        in_file += 1
        if in_file >= per_file:
            handle.close()
            path.with_suffix(".jsonl.part").rename(path)
            files.append(path)
            handle, in_file = None, 0
    if handle is not None:
        handle.close()
        path.with_suffix(".jsonl.part").rename(path)
        files.append(path)
    return files, total


def simulate(
    settings: Settings,
    config: SimulationConfig | None = None,
    catalog: SimCatalog | None = None,
    dropzone: Path | None = None,
) -> SimulationResult:
    """Register config.users shoppers in the vault and drop their app event files."""
    config = config or SimulationConfig()
    rng = random.Random(config.seed)
    catalog = catalog or load_catalog(settings)
    dropzone = dropzone or app_events_dropzone(settings)
    tag = secrets.token_hex(4)  # runs never collide on usernames
    new_users = [
        NewUser(
            username=f"shopper-{tag}-{i}",
            email=f"shopper-{tag}-{i}@example.test",
            trend_sharing=rng.random() < config.trend_sharing_rate,
            marketing=rng.random() < config.marketing_rate,
        )
        for i in range(config.users)
    ]
    result = SimulationResult(users=config.users)
    result.declined_trend_sharing = sum(1 for u in new_users if not u.trend_sharing)
    with Vault.open(settings) as vault:
        created = vault.add_users(new_users, hash_password(secrets.token_urlsafe(24)))
        result.app_user_ids = [u.app_user_id for u in created]
        events = generate_events(catalog, config, result.app_user_ids, rng)
        # Some events from an over-eager app carry the user's email: ingestion must drop it.
        email_of = {u.app_user_id: u.email for u in created}

        def with_leaks():
            for event in events:
                if event["event_type"] == "list_created" and rng.random() < 0.1:
                    event["email"] = email_of[event["user_id"]]
                yield event

        result.files, result.events = write_event_files(
            with_leaks(), dropzone, f"app-events-{tag}", config.events_per_file
        )
        erasures = round(config.erasure_rate * len(created))
        if config.erasure_rate > 0 and len(created) >= 20:
            erasures = max(1, erasures)
        erased = rng.sample(created, k=min(erasures, len(created)))
        for user in erased:
            vault.request_erasure(user.app_user_id)
        result.erased_app_user_ids = [u.app_user_id for u in erased]
    return result

"""The optimizer batch is split into shards of regions that Dagster runs, not a pool of its own."""

from __future__ import annotations

import ast
from pathlib import Path

from optimizer.batch import region_shard
from orchestration.defs.optimizer.batch import BATCH_SHARDS, batch_shards, shard_number

REPO = Path(__file__).resolve().parents[2]


def test_every_region_falls_in_exactly_one_stable_shard():
    regions = ["VIC", "NSW", "QLD", "SA", "WA", "TAS", "NT", "ACT", "unknown"]
    shards = {region: region_shard(region, BATCH_SHARDS) for region in regions}
    assert all(0 <= shard < BATCH_SHARDS for shard in shards.values())
    assert shards == {region: region_shard(region, BATCH_SHARDS) for region in regions}  # stable
    assert len(set(shards.values())) > 1  # the regions spread over shards
    assert sorted(shard_number(key) for key in batch_shards.get_partition_keys()) == list(range(BATCH_SHARDS))


def test_batch_code_starts_no_pool_of_its_own():
    for path in ("optimizer/batch.py", "orchestration/defs/optimizer/batch.py"):
        tree = ast.parse((REPO / path).read_text())
        imported = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        } | {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
        assert not imported & {
            "multiprocessing",
            "concurrent.futures",
            "ProcessPoolExecutor",
            "ThreadPoolExecutor",
        }, path

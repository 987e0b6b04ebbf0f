import pytest

from scrapers.pipelines.dedupe import DedupePipeline, DuplicateItem


def test_second_observation_of_same_product_in_same_store_is_dropped(make_price):
    pipeline = DedupePipeline()
    pipeline.process_item(make_price())
    pipeline.process_item(make_price(store_id="1002"))  # other store: kept
    pipeline.process_item(make_price(retailer_product_id="100014"))  # other product: kept
    with pytest.raises(DuplicateItem):
        pipeline.process_item(make_price(price=1.0))


def test_duplicate_store_is_dropped(make_store):
    pipeline = DedupePipeline()
    pipeline.process_item(make_store())
    with pytest.raises(DuplicateItem):
        pipeline.process_item(make_store())


def test_rejected_items_are_not_deduplicated(make_price):
    pipeline = DedupePipeline()
    first, second = make_price(), make_price()
    first.reject("bad")
    second.reject("bad")
    assert pipeline.process_item(first) is first
    assert pipeline.process_item(second) is second


def test_keys_spilled_to_the_compact_array_still_count_as_seen(make_price):
    from scrapers.pipelines import dedupe

    pipeline = DedupePipeline()
    for n in range(dedupe._SPILL + 10):
        pipeline.process_item(make_price(retailer_product_id=str(n)))
    seen = pipeline._seen["1001"]
    assert len(seen._sorted) == dedupe._SPILL and len(seen) == dedupe._SPILL + 10
    for n in (0, 12345, dedupe._SPILL + 9):
        with pytest.raises(DuplicateItem):
            pipeline.process_item(make_price(retailer_product_id=str(n)))


def test_a_completed_store_releases_its_keys(make_price):
    from scrapers.items import ItemBatch

    pipeline = DedupePipeline()
    batch = pipeline.process_item(ItemBatch([make_price(), make_price(), make_price(store_id="1002")]))
    assert len(batch.items) == 2  # the duplicate left the batch
    pipeline.process_item(ItemBatch([make_price(retailer_product_id="7")], closes_scope="1001"))
    assert "1001" not in pipeline._seen and "1002" in pipeline._seen
    with pytest.raises(RuntimeError, match="declared complete"):
        pipeline.process_item(make_price())

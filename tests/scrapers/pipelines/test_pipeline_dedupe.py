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

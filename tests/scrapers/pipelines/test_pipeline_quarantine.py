import json

import pytest

from scrapers.pipelines.quarantine import QuarantinedItem, QuarantinePipeline
from warehouse.domain.landing import REJECTED_ITEMS_FILE


def test_rejected_item_is_written_with_reason_and_raw_payload(tmp_path, make_price):
    pipeline = QuarantinePipeline(tmp_path)
    pipeline.open_spider()
    good = make_price()
    assert pipeline.process_item(good) is good
    bad = make_price(price=None, raw_payload={"stockcode": "100602", "price": None})
    bad.reject("missing required field: price")
    with pytest.raises(QuarantinedItem):
        pipeline.process_item(bad)
    pipeline.close_spider()

    rows = [json.loads(line) for line in (tmp_path / REJECTED_ITEMS_FILE).read_text().splitlines()]
    assert len(rows) == 1
    assert rows[0]["reason"] == "price_observation: missing required field: price"
    assert rows[0]["payload"] == {"stockcode": "100602", "price": None}
    assert (rows[0]["retailer"], rows[0]["scrape_date"], rows[0]["run_id"]) == (
        "freshmart",
        "2026-11-22",
        "test-run",
    )
    assert rows[0]["source_url"].endswith("page=1&pageSize=100")

"""summarise_crawl decides success from Scrapy's stats: any failed page means a failed crawl."""

from scrapers.crawl import summarise_crawl

BASE = "http://127.0.0.1:9"
COMPLETE = {
    "finish_reason": "finished",
    "smartcart/pages": 7,
    "smartcart/pages_expected": 6,
    "smartcart/price_observations": 596,
    "smartcart/stores": 3,
    "smartcart/rejects": 4,
}


def test_complete_crawl_succeeds():
    summary = summarise_crawl(COMPLETE, "freshmart", BASE)
    assert summary["status"] == "succeeded"
    assert (summary["pages"], summary["items"], summary["stores"], summary["rejects"], summary["errors"]) == (
        7, 596, 3, 4, 0
    )  # fmt: skip


def test_failed_requests_fail_the_crawl_with_a_clear_message():
    stats = {
        **COMPLETE,
        "smartcart/pages": 4,
        "smartcart/request_failures": 3,
        "smartcart/first_failure": f"connection refused to {BASE}",
    }
    summary = summarise_crawl(stats, "freshmart", BASE)
    assert summary["status"] == "failed" and summary["errors"] == 3
    assert summary["message"].startswith(
        f"crawl of freshmart incomplete: 3 page requests failed (connection refused to {BASE})"
    )
    assert "only 4 of 7 pages were parsed" in summary["message"]
    assert "Nothing from this run may be loaded" in summary["message"]


def test_interrupted_or_empty_crawls_fail():
    assert summarise_crawl({**COMPLETE, "finish_reason": "shutdown"}, "freshmart", BASE)["status"] == "failed"
    empty = {**COMPLETE, "smartcart/price_observations": 0}
    assert "expected some of each" in summarise_crawl(empty, "freshmart", BASE)["message"]
    assert (
        summarise_crawl({**COMPLETE, "spider_exceptions/count": 1}, "freshmart", BASE)["status"] == "failed"
    )

import email.utils

from scrapers.middlewares import retry_after_seconds


def test_retry_after_in_seconds_or_http_date():
    assert retry_after_seconds("3", default=1.0) == 3.0
    assert retry_after_seconds(b" 12 ", default=1.0) == 12.0
    assert retry_after_seconds(None, default=2.5) == 2.5
    assert retry_after_seconds("soon", default=4.0) == 4.0
    when = email.utils.formatdate(1_000_030, usegmt=True)
    assert retry_after_seconds(when, default=1.0, now=1_000_000) == 30.0
    assert retry_after_seconds(when, default=1.0, now=2_000_000) == 0.0

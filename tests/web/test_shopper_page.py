"""The shopper's page at / of the HTTP service, in a real headless Chromium (Debian's chromium +
chromium-driver, driven by selenium) against the real app and a real catalog.

It searches (with typos), adds with "+", changes a quantity, allows a substitute from the
alternatives, reloads (the list stays), optimizes and compares every shown total with the API's own
answer for the same basket, shows field errors, and checks that a new session starts empty.
"""

from __future__ import annotations

import json
import shutil
import urllib.request
from decimal import Decimal

import pytest

from optimizer.catalog import APP_ROLE
from optimizer.service.app import create_app
from optimizer.service.guards import GuardSettings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
FIRST_RESULT_BUDGET_MS = 300
# The machine's network is closed: nothing that phones home.
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1280,1000",
]  # fmt: skip


@pytest.fixture(scope="module")
def page_url(mini_catalog, warehouse_settings, serve_app):
    app = create_app(
        warehouse_settings.database_url("catalog", APP_ROLE), guard_settings=GuardSettings(rate_limit=None)
    )
    url, stop = serve_app(app)
    yield url
    stop()


@pytest.fixture
def new_browser(tmp_path):
    """A factory of browsers, each with a fresh profile (so a fresh session)."""
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.fail("chromium and chromedriver are needed: `make browser` installs them (Debian packages)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    drivers = []

    def start():
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in CHROMIUM_FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={tmp_path / f'profile-{len(drivers)}'}")
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        driver.set_script_timeout(30)
        drivers.append(driver)
        return driver

    yield start
    for driver in drivers:
        driver.quit()


def wait(driver, condition, timeout=20):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


def type_and_time_first_result(driver, text: str) -> float:
    """Type ``text`` into the search box in the page and return ms until the first hit is shown."""
    return driver.execute_async_script(
        """
        const [text, done] = arguments;
        const input = document.getElementById('search');
        const results = document.getElementById('results');
        results.replaceChildren();
        const started = performance.now();
        const observer = new MutationObserver(() => {
            if (results.querySelector('li.hit')) { observer.disconnect(); done(performance.now() - started); }
        });
        observer.observe(results, {childList: true});
        input.value = text;
        input.dispatchEvent(new Event('input', {bubbles: true}));
        """,
        text,
    )


def search_and_add(driver, text: str, product_key: str) -> float:
    from selenium.webdriver.common.by import By

    elapsed = type_and_time_first_result(driver, text)
    hit = wait(
        driver, lambda d: d.find_element(By.CSS_SELECTOR, f'#results li[data-product-key="{product_key}"]')
    )
    hit.find_element(By.CSS_SELECTOR, "button.add").click()
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, f'#list li[data-product-key="{product_key}"]'))
    return elapsed


def stored_list(driver) -> list[dict]:
    return json.loads(driver.execute_script("return sessionStorage.getItem('smartcart.list') || '[]'"))


def api_optimize(url: str, basket: dict) -> dict:
    request = urllib.request.Request(
        f"{url}/api/optimize", json.dumps(basket).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_search_add_optimize_and_compare_with_the_api(page_url, new_browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver = new_browser()
    driver.get(page_url + "/")
    assert driver.find_element(By.ID, "list-empty").is_displayed() and stored_list(driver) == []
    type_and_time_first_result(driver, "milk")  # warm the server's first search (pool, vocabulary)

    timings = [search_and_add(driver, "mlik", "opt-milk"), search_and_add(driver, "bred", "opt-bread")]
    timings.append(search_and_add(driver, "oat milk", "opt-oat"))
    # Keyboard only: type, Tab to the first hit's "+", Enter.
    search = driver.find_element(By.ID, "search")
    search.clear()
    timings.append(type_and_time_first_result(driver, "chedar"))
    wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, '#results li[data-product-key="opt-cheddar"]'))
    search.send_keys(Keys.TAB)
    focused = driver.switch_to.active_element
    assert focused.get_attribute("aria-label") == "Add Tasty Cheddar Cheese 500 g to the list"
    focused.send_keys(Keys.ENTER)
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, '#list li[data-product-key="opt-cheddar"]'))
    timings += [type_and_time_first_result(driver, word) for word in ("banana", "eggs", "chese", "wholemeal")]
    timings.sort()
    median = timings[len(timings) // 2]
    print(f"first search result after typing (ms, in the browser, sorted): {[round(t) for t in timings]}")
    # The median must meet the budget; single outliers on this loaded 2-core machine may not.
    assert median <= FIRST_RESULT_BUDGET_MS and timings[-1] <= 3 * FIRST_RESULT_BUDGET_MS, timings

    # Quantity 2 of milk; oat milk may be replaced by the cheaper full cream milk (one click).
    quantity = driver.find_element(By.CSS_SELECTOR, '#list li[data-product-key="opt-milk"] input.quantity')
    # (No clear(): it fires "change", the list re-renders and the element goes stale.)
    quantity.send_keys(Keys.CONTROL, "a")
    quantity.send_keys("2", Keys.TAB)
    wait(driver, lambda d: next(i for i in stored_list(d) if i["product_key"] == "opt-milk")["quantity"] == 2)
    driver.find_element(
        By.CSS_SELECTOR, '#list li[data-product-key="opt-oat"] button.alternatives-button'
    ).click()
    allow = wait(
        driver,
        lambda d: d.find_element(
            By.CSS_SELECTOR, '#alternatives li[data-product-key="opt-milk"] button.allow'
        ),
    )
    assert "cheaper per l" in driver.find_element(By.ID, "alternatives").text
    allow.click()
    wait(
        driver,
        lambda d: (
            "Full Cream Milk"
            in d.find_element(By.CSS_SELECTOR, '#list li[data-product-key="opt-oat"] .subs').text
        ),
    )
    # Remove bread, add it back: removal works and the list keeps order of adding otherwise.
    driver.find_element(By.CSS_SELECTOR, '#list li[data-product-key="opt-bread"] button.remove').click()
    wait(driver, lambda d: not d.find_elements(By.CSS_SELECTOR, '#list li[data-product-key="opt-bread"]'))
    search_and_add(driver, "wholemeal", "opt-bread")

    expected_list = stored_list(driver)
    driver.refresh()
    wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#list li")) == 4)
    assert stored_list(driver) == expected_list
    assert (
        driver.find_element(
            By.CSS_SELECTOR, '#list li[data-product-key="opt-milk"] input.quantity'
        ).get_attribute("value")
        == "2"
    )

    # Optimize: postcode 3000, at most 2 stores.
    driver.find_element(By.ID, "tab-optimize").click()
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#retailers input.retailer"))
    driver.find_element(By.ID, "postcode").send_keys("3000")
    driver.find_element(By.ID, "radius").send_keys("10")
    max_stores = driver.find_element(By.ID, "max-stores")
    max_stores.clear()
    max_stores.send_keys("2")
    driver.find_element(By.ID, "optimize").click()
    wait(driver, lambda d: d.find_elements(By.ID, "total"))

    basket = {
        "items": [
            {"product_key": i["product_key"], "quantity": i["quantity"], "substitutes": [s["product_key"] for s in i["substitutes"]]}
            for i in expected_list
        ],
        "postcode": "3000",
        "radius_km": 10,
        "max_stores": 2,
    }  # fmt: skip
    answer = api_optimize(page_url, basket)
    assert answer["status"] == "optimal"
    assert driver.find_element(By.ID, "total").text == f"${answer['total']}"
    assert driver.find_element(By.ID, "saving").text == f"${answer['saving']}"
    assert answer["best_single_store"]["store"] in driver.find_element(By.ID, "single").text
    shown = driver.find_elements(By.CSS_SELECTOR, "#split section.store")
    assert [s.get_attribute("data-store-key") for s in shown] == [s["store_key"] for s in answer["stores"]]
    for section, store in zip(shown, answer["stores"], strict=True):
        assert section.find_element(By.CSS_SELECTOR, ".store-subtotal").text == f"${store['subtotal']}"
        assert section.find_element(By.CSS_SELECTOR, ".store-travel").text == f"${store['travel_cost']}"
        assert section.find_element(By.CSS_SELECTOR, ".store-total").text == f"${store['total']}"
        costs = [c.text for c in section.find_elements(By.CSS_SELECTOR, ".line-cost")]
        assert costs == [f"${line['cost']}" for line in store["items"]]
    assert sum(Decimal(s["total"]) for s in answer["stores"]) == Decimal(answer["total"])

    # Clear messages naming the field or the item.
    max_stores.clear()
    driver.find_element(By.ID, "optimize").click()
    wait(driver, lambda d: "Most stores to visit" in d.find_element(By.ID, "optimize-error").text)
    max_stores.send_keys("1")
    driver.find_element(By.ID, "budget").send_keys("1")
    driver.find_element(By.ID, "optimize").click()
    wait(driver, lambda d: "budget" in d.find_element(By.ID, "optimize-error").text.lower())
    driver.find_element(By.ID, "budget").clear()
    driver.find_element(By.ID, "postcode").clear()
    driver.find_element(By.ID, "postcode").send_keys("9999")
    driver.find_element(By.ID, "optimize").click()
    wait(driver, lambda d: "9999" in d.find_element(By.ID, "optimize-error").text)

    # A new session (a fresh browser profile) starts with an empty list.
    other = new_browser()
    other.get(page_url + "/")
    wait(other, lambda d: d.find_element(By.ID, "list-empty").is_displayed())
    assert stored_list(other) == [] and not other.find_elements(By.CSS_SELECTOR, "#list li")


def test_page_assets_are_local_and_controls_are_labelled(page_url, new_browser):
    from selenium.webdriver.common.by import By

    driver = new_browser()
    driver.get(page_url + "/")
    sources = driver.execute_script(
        "return [...document.querySelectorAll('script[src], link[href], img[src]')].map(e => e.src || e.href)"
    )
    assert sources and all(s.startswith(page_url) for s in sources), sources
    for control in driver.find_elements(By.CSS_SELECTOR, "input, select"):
        control_id = control.get_attribute("id")
        labelled = control.get_attribute("aria-label") or driver.find_elements(
            By.CSS_SELECTOR, f'label[for="{control_id}"]'
        )
        assert labelled, f"#{control_id} has no label"
    # Nothing of the shopper's is sent to be stored: the page only calls the read/compute API.
    assert (
        "localStorage" not in urllib.request.urlopen(f"{page_url}/static/app.js", timeout=10).read().decode()
    )

"""The advertiser dashboard in a real browser (Debian's Chromium driven by Playwright) against
the whole mesh: bids go in through the gateway, and what the page shows must be what the
analytics REST API answers.

Every bid here carries a site domain of this module's own, so the page, filtered by it, shows
exactly these outcomes whatever other tests have stored. The page's refresh timer runs on
Playwright's fake clock, so a refresh happens when the test says so and never in between.
"""

from __future__ import annotations

import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Request, Route, sync_playwright

from helios.local.mesh import Gateway
from tests.conftest import Mesh
from tests.harness import ROOT, eventually
from tests.http import request
from tests.integration.analytics.support import outcome, produce_outcomes

pytestmark = pytest.mark.e2e

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = ROOT / "test-artifacts"
# Users from the seeded demo profiles, one per price tier, and one without a profile.
USERS = ["user-001", "user-002", "user-003", "user-004", "nobody-dashboard"]
BIDS = 27  # more than one page of the smallest page size (25)
# What the page shows for a figure that does not exist (an average over no outcomes).
NONE = "\N{EN DASH}"


# ---- the REST API, read the way the page reads it ----

def get(gateway: Gateway, path: str, **params: str | int) -> tuple[int, Any]:
    reply = request("GET", f"{gateway.url}{path}", params=params, headers=gateway.auth())
    return reply.status, reply.json()


def api(gateway: Gateway, path: str, **params: str | int) -> Any:
    status, body = get(gateway, path, **params)
    assert status == 200, (path, params, body)
    return body


def post_bid(gateway: Gateway, request_id: str, user_id: str, domain: str) -> None:
    reply = request("POST", f"{gateway.url}/bid", {
        "request_id": request_id, "user_id": user_id, "site": {"domain": domain},
        "device_type": "desktop"})
    assert reply.status == 200, reply.body


def send_bids(gateway: Gateway, domain: str, count: int) -> list[str]:
    """Sends ``count`` bids for ``domain`` and waits until analytics has stored them all."""
    ids = [f"dash-{uuid.uuid4().hex[:12]}" for _ in range(count)]
    for n, request_id in enumerate(ids):
        post_bid(gateway, request_id, USERS[n % len(USERS)], domain)

    def stored() -> bool:
        count_now = api(gateway, "/api/outcomes", site_domain=domain, page_size=1)["count"]
        assert count_now == len(ids), f"{count_now} of {len(ids)} outcomes stored"
        return True

    eventually(stored, timeout=60, interval=0.5)
    return ids


# ---- the page's number formats (Intl, en-US) ----

def _fixed(value: float, digits: int) -> str:
    """As V8's Intl formats a double: ICU rounds the shortest decimal that reads back as the
    same double (Python's repr, the same digits as JavaScript's), half away from zero. So
    0.6825, stored as 0.68249999…, is shown as 0.683."""
    return f"{Decimal(repr(value)).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP):,}"


def count_text(value: int) -> str:
    return f"{value:,}"


def money(value: float, digits: int = 2) -> str:
    return "$" + _fixed(value, digits)


def rate_text(value: float) -> str:
    return _fixed(value * 100, 1) + "%"


# ---- the browser ----

@dataclass(frozen=True)
class Seeded:
    gateway: Gateway
    domain: str
    ids: list[str]


@pytest.fixture(scope="module")
def seeded(mesh: Mesh) -> Seeded:
    domain = f"dash-{uuid.uuid4().hex[:8]}.example"
    return Seeded(mesh.gateway, domain, send_bids(mesh.gateway, domain, BIDS))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                              args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    start = datetime.now(UTC)
    # Time stands still until the test moves it: the 10 s refresh fires only on fast_forward.
    context.clock.install(time=start)
    context.clock.pause_at(start + timedelta(seconds=1))
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda error: problems.append(str(error)))
    # The page's Content-Security-Policy allows only its own inline blocks and requests: a
    # violation (a style attribute, an inline handler, another origin) is a console error.
    tab.on("console", lambda message: problems.append(message.text)
           if "Content Security Policy" in message.text else None)
    yield tab
    context.close()
    assert not problems, f"the page raised: {problems}"


LOADS = "Number(document.querySelector('[data-testid=dashboard]')?.dataset.loads ?? 0)"


def loads(page: Page) -> int:
    """How many loads the page has finished (0 before it exists)."""
    return int(page.evaluate(LOADS))


def after_load(page: Page, action: Any) -> None:
    """Runs ``action`` and waits until the page has finished the load it started."""
    before = loads(page)
    action()
    page.wait_for_function(f"n => {LOADS} > n", arg=before, timeout=15_000)


def open_dashboard(page: Page, gateway: Gateway, /, *, token: str | None = None,
                   **params: str) -> None:
    """Opens the page as the link `make up` prints does: with a token in the fragment.
    ``params`` are its query; ``page`` and ``gateway`` are positional-only, so ``page=`` can be
    one of them."""
    query = "?" + urllib.parse.urlencode(params) if params else ""
    fragment = f"#token={gateway.token() if token is None else token}" if token != "" else ""
    after_load(page, lambda: page.goto(f"{gateway.url}/{query}{fragment}"))


def text(page: Page, test_id: str) -> str:
    return page.get_by_test_id(test_id).inner_text().strip()


def cards(page: Page) -> dict[str, str]:
    return {key: text(page, key) for key in
            ("total", "wins", "losses", "win-rate", "enriched-count", "revenue", "avg-win-price",
             "avg-bid-price")}


def expected_cards(stats: dict[str, Any]) -> dict[str, str]:
    return {
        "total": count_text(stats["total"]),
        "wins": count_text(stats["wins"]),
        "losses": count_text(stats["losses"]),
        "win-rate": rate_text(stats["win_rate"]) if stats["total"] else NONE,
        "enriched-count": count_text(stats["enriched_count"]),
        "revenue": money(stats["revenue"]),
        "avg-win-price": money(stats["average_win_price"], 3) if stats["wins"] else NONE,
        "avg-bid-price": money(stats["average_bid_price"], 3) if stats["total"] else NONE,
    }


def row_ids(page: Page) -> list[str]:
    return [row.get_attribute("data-id") or ""
            for row in page.get_by_test_id("outcome-row").all()]


# ---- the tests ----

def test_the_cards_show_the_api_stats_for_every_outcome(page: Page, seeded: Seeded) -> None:
    open_dashboard(page, seeded.gateway)

    # Other tests' outcomes may still be arriving: compare one load with the API read right
    # after it, and load again (the Refresh button) until the two agree.
    def agree() -> bool:
        after_load(page, lambda: page.get_by_test_id("refresh").click())
        assert cards(page) == expected_cards(api(seeded.gateway, "/api/outcomes/stats"))
        return True

    eventually(agree, timeout=30, interval=0.5)
    assert text(page, "scope") == "All outcomes."
    assert int(text(page, "total").replace(",", "")) >= BIDS


def test_filtered_cards_charts_and_table_match_the_api(page: Page, seeded: Seeded) -> None:
    open_dashboard(page, seeded.gateway, site_domain=seeded.domain)
    stats = api(seeded.gateway, "/api/outcomes/stats", site_domain=seeded.domain)
    listed = api(seeded.gateway, "/api/outcomes", site_domain=seeded.domain, page_size=50)
    daily = api(seeded.gateway, "/api/outcomes/daily-stats", site_domain=seeded.domain)

    assert stats["total"] == BIDS
    assert cards(page) == expected_cards(stats)
    assert text(page, "scope") == f"Outcomes where site_domain = {seeded.domain}."
    assert text(page, "error") == ""

    # The table: the API's rows, in its order, with their figures.
    assert row_ids(page) == [o["bid_request_id"] for o in listed["results"]]
    assert sorted(row_ids(page)) == sorted(seeded.ids)
    first = listed["results"][0]
    cells = page.get_by_test_id("outcome-row").first.locator("td").all_inner_texts()
    assert cells[1:6] == [first["bid_request_id"], first["user_id"], seeded.domain, "desktop",
                          money(first["bid_price"])]
    assert cells[7] == ("Won" if first["win_status"] else "Lost")
    assert text(page, "pager-status") == f"Page 1 of 1 · {BIDS} outcomes"

    # The charts are drawn from daily-stats and from the sample of outcomes.
    day = daily["results"][0]
    bar_titles = page.locator("[data-testid=chart-wins-losses] rect title").all_text_contents()
    assert f"{day['date']}: {day['wins']} won, {day['total'] - day['wins']} lost" in bar_titles
    assert text(page, "sample-note") == f"Bid prices of all {BIDS} matching outcomes."
    prices = [o["bid_price"] for o in listed["results"]]
    histogram = page.locator("[data-testid=chart-bid-prices] rect title").all_text_contents()
    assert sorted(histogram) == sorted(f"{money(p)}: {prices.count(p)} bids" for p in set(prices))
    rate_dots = page.locator("[data-testid=chart-win-rate] circle title").all_text_contents()
    assert f"{day['date']}: {rate_text(day['wins'] / day['total'])} " \
           f"({day['wins']} of {day['total']})" in rate_dots


# Each text of a chart and its box, relative to the chart's svg (CSS pixels), and where the plot
# begins: the left end of its x axis.
TEXT_BOXES = """(id) => {
  const svg = document.querySelector(`[data-testid="${id}"]`);
  const box = svg.getBoundingClientRect();
  const axis = svg.querySelector("line.axis");
  return {
    width: box.width, height: box.height,
    plotLeft: axis ? axis.getBoundingClientRect().left - box.left : null,
    texts: [...svg.querySelectorAll(":scope > text")].map((t) => {
      const r = t.getBoundingClientRect();
      return { text: t.textContent, anchor: t.getAttribute("text-anchor"),
               left: r.left - box.left, right: r.right - box.left,
               top: r.top - box.top, bottom: r.bottom - box.top };
    }),
  };
}"""
CHARTS = ("chart-win-rate", "chart-wins-losses", "chart-revenue", "chart-bid-prices")
# Allowance for the rounding of scaled text, in CSS pixels.
SLACK = 0.5


# Revenue per day as the report saw it ($7,291: "$8,000.00" was cut to "3,000.00"), and near
# the most one outcome can hold (PRICE_LIMIT), with the top label each scale gets.
@pytest.mark.parametrize(("revenue", "top_label"), [
    (7_291.0, "$8,000.00"),
    (98_765_432.1, "$100,000,000.00"),
])
def test_every_chart_label_fits_inside_its_chart(page: Page, mesh: Mesh, revenue: float,
                                                 top_label: str) -> None:
    # No bid through /bid is worth more than $1.20, so the outcome goes straight to Kafka.
    domain = f"dash-big-{uuid.uuid4().hex[:8]}.example"
    produce_outcomes(mesh.infra.kafka_bootstrap, mesh.infra.topics.auction_outcomes, [
        outcome(f"{domain}-1", at=datetime.now(UTC), site=domain, user="dash-big-revenue",
                bid=revenue)])
    eventually(lambda: api(mesh.gateway, "/api/outcomes/stats", site_domain=domain)["total"] == 1,
               timeout=30, interval=0.5)

    open_dashboard(page, mesh.gateway, site_domain=domain)

    revenue_axis = [t["text"] for t in page.evaluate(TEXT_BOXES, "chart-revenue")["texts"]
                    if t["anchor"] == "end"]
    assert revenue_axis[-1] == top_label
    for chart in CHARTS:
        boxes = page.evaluate(TEXT_BOXES, chart)
        assert boxes["texts"], chart
        for t in boxes["texts"]:
            where = (chart, t)
            assert t["left"] >= -SLACK and t["right"] <= boxes["width"] + SLACK, where
            assert t["top"] >= -SLACK and t["bottom"] <= boxes["height"] + SLACK, where
            if t["anchor"] == "end":  # a y-axis label: left of the plot, not over it
                assert t["right"] <= boxes["plotLeft"] + SLACK, where


def test_a_filter_from_the_form_narrows_the_table(page: Page, seeded: Seeded) -> None:
    open_dashboard(page, seeded.gateway)
    page.get_by_label("Site domain").fill(seeded.domain)
    page.get_by_label("User id").fill("user-001")
    after_load(page, lambda: page.get_by_test_id("apply").click())

    narrowed = api(seeded.gateway, "/api/outcomes", site_domain=seeded.domain, user_id="user-001")
    assert 0 < narrowed["count"] < BIDS
    assert row_ids(page) == [o["bid_request_id"] for o in narrowed["results"]]
    assert cards(page) == expected_cards(api(seeded.gateway, "/api/outcomes/stats",
                                             site_domain=seeded.domain, user_id="user-001"))
    assert set(page.locator("[data-testid=outcome-row] td:nth-child(3)").all_inner_texts()) \
        == {"user-001"}
    # The view is in the address, so it can be bookmarked.
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)
    assert query == {"site_domain": [seeded.domain], "user_id": ["user-001"]}


def test_a_filter_that_matches_nothing_empties_the_page(page: Page, seeded: Seeded) -> None:
    nowhere = f"nowhere-{uuid.uuid4().hex[:8]}.example"
    open_dashboard(page, seeded.gateway, site_domain=nowhere)

    assert api(seeded.gateway, "/api/outcomes/stats", site_domain=nowhere)["total"] == 0
    assert cards(page)["total"] == "0"
    assert cards(page)["win-rate"] == NONE
    assert row_ids(page) == []
    assert text(page, "outcomes-table").endswith("No outcomes match.")
    assert text(page, "pager-status") == "No outcomes"
    assert text(page, "sample-note") == "No outcomes match the filters."


# Three pages of the smallest page size: 25, 25 and 10 rows.
PAGED = 60
# A few bid prices over many outcomes: ordered by price, most rows tie, and a keyset page must
# still cut between equal prices without repeating or skipping a row.
PRICES = [0.35, 0.60, 0.85, 1.20]


@pytest.fixture(scope="module")
def paged(mesh: Mesh) -> Seeded:
    """PAGED outcomes of a domain of their own, one second apart, straight to Kafka (faster than
    as many bids, and the subject here is the paging, not the bid path)."""
    domain = f"dash-pages-{uuid.uuid4().hex[:8]}.example"
    start = datetime.now(UTC) - timedelta(minutes=10)
    ids = [f"{domain}-{n:02d}" for n in range(PAGED)]
    produce_outcomes(mesh.infra.kafka_bootstrap, mesh.infra.topics.auction_outcomes, [
        outcome(request_id, at=start + timedelta(seconds=n), site=domain,
                bid=PRICES[n % len(PRICES)], win=n % 3 != 0)
        for n, request_id in enumerate(ids)])
    eventually(lambda: api(mesh.gateway, "/api/outcomes/stats", site_domain=domain)["total"]
               == PAGED, timeout=30, interval=0.5)
    return Seeded(mesh.gateway, domain, ids)


Query = dict[str, list[str]]


def record_outcome_requests(page: Page) -> list[Query]:
    """The query of every GET /api/outcomes the page sends from now on, in order."""
    sent: list[Query] = []

    def record(sent_request: Request) -> None:
        url = urllib.parse.urlsplit(sent_request.url)
        if url.path == "/api/outcomes":
            sent.append(urllib.parse.parse_qs(url.query))

    page.on("request", record)
    return sent


def table_request(sent: list[Query]) -> Query:
    """The one request for the table among those ``sent`` (the histogram's sample asks for
    SAMPLE_SIZE rows, the table for 25), and forgets them all."""
    tables = [query for query in sent if query.get("page_size") == ["25"]]
    assert len(tables) == 1, sent
    del sent[:]
    return tables[0]


def ids_of(listed: dict[str, Any]) -> list[str]:
    return [o["bid_request_id"] for o in listed["results"]]


def pager_text(number: int) -> str:
    return f"Page {number} of 3 \N{MIDDLE DOT} {PAGED} outcomes"


def test_next_and_prev_follow_the_api_page_tokens(page: Page, paged: Seeded) -> None:
    sent = record_outcome_requests(page)
    open_dashboard(page, paged.gateway, site_domain=paged.domain, page_size="25")
    first = table_request(sent)
    assert "page_token" not in first and "page" not in first
    listed = api(paged.gateway, "/api/outcomes", site_domain=paged.domain, page_size=25)
    assert listed["next_page_token"]
    assert row_ids(page) == ids_of(listed)
    assert text(page, "pager-status") == pager_text(1)
    assert page.get_by_test_id("prev").is_disabled()
    assert page.get_by_test_id("next").is_enabled()

    shown = [row_ids(page)]
    tokens: list[str] = []
    for number in (2, 3):
        after_load(page, lambda: page.get_by_test_id("next").click())
        query = table_request(sent)
        # A page number would be an OFFSET: the page asks by the token it was given.
        assert "page" not in query, query
        (token,) = query["page_token"]
        assert row_ids(page) == ids_of(api(paged.gateway, "/api/outcomes",
                                           site_domain=paged.domain, page_size=25,
                                           page_token=token))
        # The same rows as that page by number: the token led to the page after the one shown.
        assert row_ids(page) == ids_of(api(paged.gateway, "/api/outcomes",
                                           site_domain=paged.domain, page_size=25, page=number))
        assert text(page, "pager-status") == pager_text(number)
        assert page.get_by_test_id("prev").is_enabled()
        shown.append(row_ids(page))
        tokens.append(token)
    # The first is the one page 1 came with (a token is the same for the same query and row).
    assert tokens[0] == listed["next_page_token"]
    assert tokens[0] != tokens[1]
    assert [len(rows) for rows in shown] == [25, 25, 10]
    assert sorted(row for rows in shown for row in rows) == sorted(paged.ids)
    assert page.get_by_test_id("next").is_disabled()

    # Back through the tokens the page remembered: page 2 by the token page 1 gave, page 1
    # without one.
    after_load(page, lambda: page.get_by_test_id("prev").click())
    query = table_request(sent)
    assert query["page_token"] == [tokens[0]] and "page" not in query
    assert row_ids(page) == shown[1]
    assert text(page, "pager-status") == pager_text(2)
    assert page.get_by_test_id("next").is_enabled()

    # The timer refreshes the page shown, by the same token.
    after_load(page, lambda: page.clock.run_for(10_000))
    assert table_request(sent)["page_token"] == [tokens[0]]
    assert row_ids(page) == shown[1]

    after_load(page, lambda: page.get_by_test_id("prev").click())
    query = table_request(sent)
    assert "page_token" not in query and "page" not in query
    assert row_ids(page) == shown[0]
    assert text(page, "pager-status") == pager_text(1)
    assert page.get_by_test_id("prev").is_disabled()


def test_a_refused_token_starts_again_from_the_first_page(page: Page, paged: Seeded) -> None:
    # A real token of another query (page_size 26), as a token from before an upgrade of the
    # analytics service would be: page 1 hands it to the page as its next_page_token.
    foreign = api(paged.gateway, "/api/outcomes", site_domain=paged.domain,
                  page_size=26)["next_page_token"]
    assert foreign

    def first_page_with_foreign_token(route: Route) -> None:
        reply = route.fetch()
        body = reply.json()
        body["next_page_token"] = foreign
        route.fulfill(response=reply, json=body)

    def is_first_table_page(url: str) -> bool:
        parts = urllib.parse.urlsplit(url)
        query = urllib.parse.parse_qs(parts.query)
        return (parts.path == "/api/outcomes" and query.get("page_size") == ["25"]
                and "page_token" not in query)

    page.route(is_first_table_page, first_page_with_foreign_token)
    sent = record_outcome_requests(page)
    open_dashboard(page, paged.gateway, site_domain=paged.domain, page_size="25")
    shown = row_ids(page)
    del sent[:]

    after_load(page, lambda: page.get_by_test_id("next").click())
    tables = [query for query in sent if query.get("page_size") == ["25"]]
    assert [query.get("page_token") for query in tables] == [[foreign], None], sent
    status, refusal = get(paged.gateway, "/api/outcomes", site_domain=paged.domain,
                          page_size=25, page_token=foreign)
    assert status == 400 and refusal["message"].startswith("page_token"), refusal
    assert text(page, "error") == (f"The API refused this page's token ({refusal['message']}): "
                                   "back to the first page.")
    assert row_ids(page) == shown
    assert text(page, "pager-status") == pager_text(1)
    assert page.get_by_test_id("prev").is_disabled()

    # The notice lasts until the next load.
    after_load(page, lambda: page.get_by_test_id("refresh").click())
    assert not page.get_by_test_id("error").is_visible()


def test_a_new_ordering_starts_again_from_the_first_page(page: Page, paged: Seeded) -> None:
    sent = record_outcome_requests(page)
    # A bookmark from before token paging: the page number is not honoured (it would be an
    # OFFSET), the page opens on the first page and the address drops it.
    open_dashboard(page, paged.gateway, site_domain=paged.domain, page_size="25", page="2")
    assert "page" not in table_request(sent)
    assert text(page, "pager-status") == pager_text(1)
    address = urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)
    assert address == {"site_domain": [paged.domain], "page_size": ["25"]}
    after_load(page, lambda: page.get_by_test_id("next").click())
    assert "page_token" in table_request(sent)
    assert text(page, "pager-status") == pager_text(2)

    page.get_by_label("Order by").select_option("bid_price")
    after_load(page, lambda: page.get_by_test_id("apply").click())
    query = table_request(sent)
    assert "page_token" not in query and "page" not in query
    assert query["ordering"] == ["bid_price"]
    assert text(page, "pager-status") == pager_text(1)
    assert page.get_by_test_id("prev").is_disabled()
    address = urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)
    assert address == {"site_domain": [paged.domain], "page_size": ["25"],
                       "ordering": ["bid_price"]}

    # Every outcome once, in price order, across pages cut between equal prices.
    ids: list[str] = []
    prices: list[str] = []
    for number in (1, 2, 3):
        if number > 1:
            after_load(page, lambda: page.get_by_test_id("next").click())
            assert table_request(sent)["ordering"] == ["bid_price"]
        assert text(page, "pager-status") == pager_text(number)
        ids += row_ids(page)
        prices += page.locator("[data-testid=outcome-row] td:nth-child(6)").all_inner_texts()
    assert sorted(ids) == sorted(paged.ids)
    shown_prices = [float(p.lstrip("$")) for p in prices]
    assert shown_prices == sorted(shown_prices)
    assert page.get_by_test_id("next").is_disabled()


def test_a_bad_filter_shows_the_api_error_and_keeps_the_last_figures(
        page: Page, seeded: Seeded) -> None:
    open_dashboard(page, seeded.gateway, site_domain=seeded.domain)
    shown = cards(page)
    status, problem = get(seeded.gateway, "/api/outcomes/stats", site_domain=seeded.domain,
                          min_price="cheap")
    assert status == 400, problem

    page.get_by_label("Min win price").fill("cheap")
    after_load(page, lambda: page.get_by_test_id("apply").click())

    error = page.get_by_test_id("error")
    assert error.is_visible()
    assert error.inner_text().strip() == problem["message"]
    assert "min_price" in problem["message"]
    assert cards(page) == shown
    assert text(page, "scope").endswith("the filters above were not applied.")

    page.get_by_label("Min win price").fill("")
    after_load(page, lambda: page.get_by_test_id("apply").click())
    assert not error.is_visible()


def test_the_timer_refreshes_the_figures_until_paused(page: Page, seeded: Seeded) -> None:
    domain = f"dash-timer-{uuid.uuid4().hex[:8]}.example"
    send_bids(seeded.gateway, domain, 1)
    open_dashboard(page, seeded.gateway, site_domain=domain)
    assert text(page, "total") == "1"

    _more(seeded.gateway, domain, 1, expect=2)
    page.clock.run_for(9_000)
    # A load marks the page busy the moment it starts, so this catches an early one in flight.
    assert page.get_by_test_id("dashboard").get_attribute("aria-busy") == "false", \
        "refreshed before its 10 s were up"
    assert text(page, "total") == "1"
    after_load(page, lambda: page.clock.run_for(1_000))
    assert text(page, "total") == "2"
    assert "auto-refresh every 10 s" in text(page, "updated-at")

    page.get_by_test_id("pause").click()
    assert page.get_by_test_id("pause").get_attribute("aria-pressed") == "true"
    assert "auto-refresh paused" in text(page, "updated-at")
    _more(seeded.gateway, domain, 1, expect=3)
    page.clock.run_for(30_000)
    assert page.get_by_test_id("dashboard").get_attribute("aria-busy") == "false"
    assert loads(page) == 2
    assert text(page, "total") == "2"

    # On demand still works while paused.
    after_load(page, lambda: page.get_by_test_id("refresh").click())
    assert text(page, "total") == "3"


def _more(gateway: Gateway, domain: str, count: int, *, expect: int) -> None:
    for _ in range(count):
        post_bid(gateway, f"dash-{uuid.uuid4().hex[:12]}", "user-001", domain)

    def stored() -> bool:
        assert api(gateway, "/api/outcomes/stats", site_domain=domain)["total"] == expect
        return True

    eventually(stored, timeout=60, interval=0.5)


def test_without_a_token_the_page_says_how_to_get_one_and_takes_it(
        page: Page, seeded: Seeded) -> None:
    open_dashboard(page, seeded.gateway, token="", site_domain=seeded.domain)

    assert page.get_by_test_id("auth").is_visible()
    assert "helios token" in text(page, "auth-message")
    assert text(page, "total") == NONE

    page.get_by_label("Access token").fill(seeded.gateway.token())
    after_load(page, lambda: page.get_by_test_id("use-token").click())

    assert not page.get_by_test_id("auth").is_visible()
    assert text(page, "total") == str(BIDS)
    # The token is kept for the tab, never put in the address.
    assert "token" not in page.url


def test_an_expired_token_is_named_as_such(page: Page, seeded: Seeded) -> None:
    # Past Envoy's 60 s of allowed clock skew (jwt_authn's default): a token 60 s expired is
    # still accepted within the second it was made (test_security.py uses -120 too).
    open_dashboard(page, seeded.gateway, token=seeded.gateway.token(seconds=-120))

    assert page.get_by_test_id("auth").is_visible()
    message = text(page, "auth-message")
    assert "expired" in message and "Jwt is expired" in message
    assert "token" not in page.url


def test_a_full_page_screenshot_is_saved(page: Page, seeded: Seeded) -> None:
    open_dashboard(page, seeded.gateway)
    ARTIFACTS.mkdir(exist_ok=True)
    path: Path = ARTIFACTS / "dashboard.png"
    path.unlink(missing_ok=True)
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    assert page.get_by_test_id("outcome-row").count() > 0

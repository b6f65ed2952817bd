"""End to end in a real headless Chromium (Debian's chromium and chromium-driver, driven by Selenium;
nothing is downloaded): a moderator submits a post, sees its verdict and the highlighted passage,
overrides the verdict, reloads and finds the override kept, and exports the decisions as CSV.
It runs on the real model (the ``checker`` fixture), so it is an integration test. With
WORKBENCH_SCREENSHOTS=DIR set, the queue and the post page are saved there (the README's pictures)."""
from __future__ import annotations

import csv
import os
import time
from pathlib import Path

import httpx
import pytest

from pipeline.workbench.app import create_app
from pipeline.workbench.load import serve_in_thread

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
ROOT = Path(__file__).resolve().parent.parent
POST = "Microdoseren met K geneest depressie 🙌 #ketamine #microdosing"
OTHER_POSTS = ["Ketamine is sinds 2019 in NL goedgekeurd bij therapieresistente depressie. Eindelijk hoop 💚",
               "K is gwn onschuldig, je blaas merkt er niks van 🙄", "Ketamine verhoogt de bloeddruk.",
               "Mijn huisarts zegt dat ketamine verslavend kan zijn."]

pytestmark = pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
                                reason="needs Debian's chromium and chromium-driver (.ci/run installs them)")


@pytest.fixture()
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager never fetches anything
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1500",
                     "--lang=nl"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"download.default_directory": str(tmp_path / "downloads"),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    driver.set_page_load_timeout(120)
    yield driver
    driver.quit()


def _wait_for(condition, timeout_s: float = 60.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError("waited in vain")


def test_review_a_post_in_a_real_browser(browser, checker, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    shots = Path(os.environ.get("WORKBENCH_SCREENSHOTS") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    expected = checker.check(POST)
    app = create_app(checker.config, checker=checker, database=str(tmp_path / "werkbank.db"))
    with serve_in_thread(app) as base_url:
        with httpx.Client(base_url=base_url) as client:  # a few other posts in the queue
            token = client.get("/api/session").json()["csrf_token"]
            client.post("/api/posts", json={"texts": OTHER_POSTS}, headers={"X-CSRF-Token": token}).raise_for_status()

        # 1. submit a post
        browser.get(base_url + "/")
        browser.find_element(By.ID, "post-text").send_keys(POST)
        browser.find_element(By.ID, "submit-post").click()
        _wait_for(lambda: "/posts/" in browser.current_url)
        post_url = browser.current_url

        # 2. the verdict and the highlighted passage, in its document's words
        assert browser.find_element(By.ID, "post-verdict").text == expected.verdict
        deciding = expected.claims[0].evidence[0]
        marks = browser.find_elements(By.CSS_SELECTOR, "section.claim mark")
        assert " ".join(marks[0].text.split()) == " ".join(deciding.text.split())
        assert deciding.title in browser.find_element(By.CSS_SELECTOR, "section.claim figcaption").text
        browser.save_screenshot(str(shots / "post.png"))

        # 3. override the verdict
        section = browser.find_element(By.CSS_SELECTOR, "section.claim")
        override = next(v for v in ("supported", "unsupported", "contradicted") if v != expected.claims[0].verdict)
        Select(section.find_element(By.NAME, "verdict")).select_by_value(override)
        section.find_element(By.NAME, "note").send_keys("bron zegt het anders")
        section.find_element(By.NAME, "moderator").send_keys("anna")
        section.find_element(By.CSS_SELECTOR, "form.decision button").click()
        _wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "table.history"))

        # 4. reload: the override is kept, with who, when and why
        browser.get(post_url)
        row = browser.find_element(By.CSS_SELECTOR, "table.history tbody tr").text
        assert "anna" in row and "aangepast" in row and override in row and "bron zegt het anders" in row
        assert Select(browser.find_element(By.NAME, "verdict")).first_selected_option.get_attribute("value") == override

        browser.get(base_url + "/")
        assert len(browser.find_elements(By.CSS_SELECTOR, "#queue tbody tr")) == 1 + len(OTHER_POSTS)
        browser.save_screenshot(str(shots / "queue.png"))

        # 5. export the decisions as CSV, through the browser's own download
        browser.find_element(By.ID, "export-link").click()
        exported = _wait_for(lambda: next((p for p in (tmp_path / "downloads").glob("*.csv")), None))
        rows = list(csv.DictReader(open(exported, encoding="utf-8", newline="")))
    assert [(r["moderator"], r["verdict"], r["action"], r["note"]) for r in rows] == [
        ("anna", override, "overridden", "bron zegt het anders")]
    assert rows[0]["post"] == POST

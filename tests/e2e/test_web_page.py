"""The web chat page in a real headless Chromium, against the running gateway.

Needs the `stack` fixture (tests/e2e/conftest.py): `stack.url` is the base URL of the
gateway with Rasa behind it. Chromium and chromedriver come from Debian
(/usr/bin/chromium, /usr/bin/chromedriver); Selenium Manager is never used.
"""

from __future__ import annotations

import json
import os
import re
from urllib.parse import urlsplit

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
REPLY_TIMEOUT = 20  # seconds for one bot reply
STARTER_PAYLOADS = {"/greet", "/find_shelter", "/ask_rights", "/urgent_danger"}
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
CHROME_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=390,844",
]


# ---------------------------------------------------------------- browser


class NetLog:
    """The page's requests to /api/*, read from Chrome's performance log."""

    def __init__(self, driver):
        self.driver = driver
        self.requests: list[tuple[str, dict | None]] = []

    def refresh(self) -> list[tuple[str, dict | None]]:
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message.get("method") != "Network.requestWillBeSent":
                continue
            request = message["params"]["request"]
            path = urlsplit(request["url"]).path
            if not path.startswith("/api/"):
                continue
            body = None
            if request.get("postData"):
                try:
                    body = json.loads(request["postData"])
                except ValueError:
                    body = None
            self.requests.append((path, body))
        return self.requests

    def bodies(self, path: str) -> list[dict | None]:
        return [body for p, body in self.refresh() if p == path]


@pytest.fixture
def driver(tmp_path, monkeypatch):
    for binary in (CHROMIUM, CHROMEDRIVER):
        if not os.access(binary, os.X_OK):
            pytest.fail(f"{binary} is missing: apt-get install chromium chromium-driver")
    # Belt and braces: Selenium Manager is skipped when a driver path is given, and
    # must never download anything even if it ran.
    monkeypatch.setenv("SE_OFFLINE", "true")
    monkeypatch.setenv("SE_AVOID_STATS", "true")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in CHROME_ARGS:
        options.add_argument(arg)
    options.add_argument(f"--user-data-dir={tmp_path / 'chrome-profile'}")
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    service = Service(executable_path=CHROMEDRIVER, log_output=str(tmp_path / "chromedriver.log"))
    drv = webdriver.Chrome(service=service, options=options)
    drv.set_page_load_timeout(30)
    phone_viewport(drv, 390, 844)  # headless windows are never narrower than 500 px
    drv.netlog = NetLog(drv)
    try:
        yield drv
    finally:
        drv.quit()


def phone_viewport(driver, width: int, height: int) -> None:
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": True},
    )


def wait(driver, timeout=10):
    return WebDriverWait(driver, timeout, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,))


def base_url(stack) -> str:
    return stack.url.rstrip("/")


def open_chat(driver, stack, query=""):
    driver.get(base_url(stack) + "/" + query)
    wait_chat_ready(driver)


def wait_chat_ready(driver, timeout=10):
    wait(driver, timeout).until(
        lambda d: d.execute_script(
            "return document.readyState === 'complete' && location.pathname === '/' &&"
            " document.documentElement.classList.contains('ready')"
        ),
        "the chat page did not finish loading",
    )


def user_texts(driver) -> list[str]:
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#log .msg-user .msg-text")]


def server_replies(driver):
    return driver.find_elements(By.CSS_SELECTOR, "#log .msg-bot[data-origin='server']")


def error_notes(driver) -> list[str]:
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#log .note-error")]


def wait_for_reply(driver, replies_before: int, errors_before: int = 0):
    """Waits until a new bot reply is shown and the page accepts input again."""

    def done(d):
        errors = error_notes(d)
        if len(errors) > errors_before:
            pytest.fail(f"the page showed an error instead of a reply: {errors[-1]!r}")
        return (
            len(server_replies(d)) > replies_before
            and not d.find_elements(By.ID, "typing")
            and d.find_element(By.ID, "send").is_enabled()
        )

    try:
        wait(driver, REPLY_TIMEOUT).until(done)
    except TimeoutException:
        pytest.fail(f"no bot reply within {REPLY_TIMEOUT} s")
    return server_replies(driver)[replies_before:]


def send_text(driver, text: str):
    """Types text in the message box and presses Enter; returns the new bot replies."""
    before, errors = len(server_replies(driver)), len(error_notes(driver))
    box = driver.find_element(By.ID, "message")
    box.send_keys(text)
    box.send_keys(Keys.ENTER)
    wait(driver, 5).until(lambda d: text in user_texts(d), "the user's message is not shown")
    return wait_for_reply(driver, before, errors)


def active_id(driver) -> str:
    return driver.execute_script("return document.activeElement && document.activeElement.id")


def storage_dump(driver) -> dict:
    return driver.execute_script(
        "const dump = s => Object.fromEntries(Object.keys(s).map(k => [k, s.getItem(k)]));"
        "return {session: dump(sessionStorage), local: dump(localStorage)};"
    )


# ---------------------------------------------------------------- tests


def test_page_loads_in_vietnamese_with_quick_exit_first(driver, stack):
    open_chat(driver, stack)
    base = base_url(stack)

    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "vi"
    title = driver.title.lower()
    assert title and "bạo lực" not in title and "violence" not in title

    exit_button = driver.find_element(By.ID, "quick-exit")
    assert exit_button.is_displayed()
    assert "Thoát nhanh" in exit_button.text
    rect = exit_button.rect
    assert rect["y"] < 80, "the quick exit button must sit at the top"
    assert rect["height"] >= 44 and rect["width"] >= 44

    # Keyboard order: quick exit first, then the message box.
    assert active_id(driver) in (None, "")
    ActionChains(driver).send_keys(Keys.TAB).perform()
    assert active_id(driver) == "quick-exit"
    ActionChains(driver).send_keys(Keys.TAB).perform()
    assert active_id(driver) == "message"

    # Labelled input, polite live region for the conversation.
    box = driver.find_element(By.ID, "message")
    labels = driver.execute_script("return Array.from(arguments[0].labels).map(l => l.textContent.trim())", box)
    assert any(labels) or box.get_attribute("aria-label")
    assert driver.find_element(By.ID, "log").get_attribute("aria-live") == "polite"

    # A local welcome with the four starter buttons; nothing sent by itself.
    starters = driver.find_elements(By.CSS_SELECTOR, "#log .msg-bot[data-origin='local'] button")
    assert {b.get_attribute("data-payload") for b in starters} == STARTER_PAYLOADS
    for button in starters + [driver.find_element(By.ID, "send")]:
        assert button.rect["height"] >= 44, f"tap target too small: {button.text!r}"
    assert driver.netlog.bodies("/api/chat") == []

    # Everything from this origin, no cookies.
    resources = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert all(name.startswith(base + "/") for name in resources), resources
    assert driver.get_cookies() == []
    assert driver.execute_script("return document.cookie") == ""

    # Fits a 360 px phone: no sideways scrolling, quick exit and message box on screen.
    for width, height in ((390, 844), (360, 640)):
        phone_viewport(driver, width, height)
        assert driver.execute_script("return window.innerWidth") == width
        assert driver.execute_script(
            "return document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        ), f"horizontal overflow at {width} px"
        for element_id in ("quick-exit", "message", "send"):
            edges = driver.execute_script(
                "const r = document.getElementById(arguments[0]).getBoundingClientRect();"
                "return [r.left, r.top, r.right, r.bottom]",
                element_id,
            )
            left, top, right, bottom = edges
            assert left >= 0 and top >= 0 and right <= width and bottom <= height, (
                f"#{element_id} is off screen at {width} px: {edges}"
            )
    # No console errors (a Content-Security-Policy violation would show here).
    errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []


def test_enter_sends_the_message_and_shows_a_reply(driver, stack):
    open_chat(driver, stack)

    replies = send_text(driver, "xin chào")

    assert replies and replies[0].text.strip()
    assert driver.find_element(By.ID, "message").get_attribute("value") == ""
    sent = driver.netlog.bodies("/api/chat")
    assert sent and sent[-1]["text"] == "xin chào"
    assert SESSION_ID.fullmatch(sent[-1]["session_id"])
    # Only the session id is stored; never the transcript.
    stored = storage_dump(driver)
    assert stored["local"] == {}
    assert list(stored["session"].values()) == [sent[-1]["session_id"]]


def test_reply_buttons_send_their_payload(driver, stack):
    open_chat(driver, stack)

    with_buttons = None
    for probe in ("xin chào", "menu", "có những mục nào"):
        for reply in send_text(driver, probe):
            if reply.find_elements(By.CSS_SELECTOR, "button[data-payload]"):
                with_buttons = reply
        if with_buttons is not None:
            break
    assert with_buttons is not None, "no bot reply carried buttons"

    button = with_buttons.find_elements(By.CSS_SELECTOR, "button[data-payload]")[0]
    title, payload = button.text, button.get_attribute("data-payload")
    assert title and payload
    assert button.rect["height"] >= 44
    before, errors = len(server_replies(driver)), len(error_notes(driver))
    button.click()

    wait(driver, 5).until(lambda d: user_texts(d)[-1:] == [title], "the button title is not shown")
    replies = wait_for_reply(driver, before, errors)
    assert replies and replies[0].text.strip()
    last = driver.netlog.bodies("/api/chat")[-1]
    assert last["payload"] == payload
    assert "text" not in last


@pytest.mark.parametrize("how", ["button", "escape"])
def test_quick_exit_leaves_nothing_to_go_back_to(driver, stack, how):
    base = base_url(stack)
    # Two history entries of the chat (a new URL, or Chrome would replace the entry),
    # each with a conversation on screen.
    open_chat(driver, stack)
    send_text(driver, "xin chào")
    open_chat(driver, stack, "?lan=2")
    session_id = storage_dump(driver)["session"].get("ntc.sid")
    assert session_id
    send_text(driver, "tôi muốn hỏi thông tin")

    if how == "button":
        driver.find_element(By.ID, "quick-exit").click()
    else:
        box = driver.find_element(By.ID, "message")
        box.send_keys("chưa gửi")
        box.send_keys(Keys.ESCAPE)

    wait(driver, 5).until(lambda d: urlsplit(d.current_url).path == "/exit", "quick exit did not leave")
    secrets = ("tôi muốn hỏi thông tin", "chưa gửi")
    body = driver.find_element(By.TAG_NAME, "body").text.lower()
    assert not [s for s in secrets if s in body]
    assert not [
        a
        for a in driver.find_elements(By.CSS_SELECTOR, "a[href]")
        if a.get_attribute("href").rstrip("/") in (base, base + "/static/index.html")
    ]
    assert storage_dump(driver) == {"session": {}, "local": {}}

    # The server was asked to forget this conversation. (Chrome does not log the body
    # of a sendBeacon request, so a body-less /api/forget request counts too.)
    def forgotten(_d):
        bodies = driver.netlog.bodies("/api/forget")
        return any(b is None or b.get("session_id") == session_id for b in bodies)

    wait(driver, 5).until(forgotten, "no /api/forget request was sent")

    # The exit replaced the history entry (Back skips "?lan=2") and the earlier chat
    # entry comes back empty: no old messages, nothing typed, a new session.
    driver.back()
    wait(driver, 10).until(
        lambda d: (
            d.execute_script("return document.readyState === 'complete'") and urlsplit(d.current_url).path != "/exit"
        )
    )
    assert driver.current_url == base + "/"
    wait_chat_ready(driver)
    assert driver.find_elements(By.CSS_SELECTOR, "#log .msg-user") == []
    assert driver.find_elements(By.CSS_SELECTOR, "#log .msg-bot[data-origin='server']") == []
    assert driver.find_element(By.ID, "message").get_attribute("value") == ""
    assert storage_dump(driver)["session"].get("ntc.sid") not in (None, session_id)
    body = driver.find_element(By.TAG_NAME, "body").text.lower()
    assert not [s for s in secrets if s in body]

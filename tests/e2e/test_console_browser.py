"""The web console in a real headless Chromium, against a real gateway process (`gbvbot
gateway`, Rasa not started: the safety net still opens cases, as in degraded mode).

A resident writes an emergency on the web chat page in one tab; an officer of that unit signs
in to the console in another, sees the case (and not another unit's), takes it with the
keyboard, writes to the resident through the relay (the message appears on the resident's
page), reads the resident's answer and closes the case. An official cannot open the case;
five wrong passwords lock an account; a forged CSRF token is refused. Every console page is
checked with axe-core (bundled by axe-selenium-python, no network) and with our own checks:
lang="vi", one h1, labelled fields, buttons with text, every control reachable by Tab. The
second slice's pages (directory, what is due, a place's form, statistics, roster, accounts)
get the same checks, and a place is verified with the keyboard.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request

import pytest
from axe_selenium_python import Axe
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.conftest import ROOT
from tests.e2e.conftest import SECRET, free_port
from tests.e2e.test_web_page import driver, open_chat, phone_viewport, send_text, wait  # noqa: F401

pytestmark = pytest.mark.e2e

PASSWORD = "mật khẩu của cán bộ 2026"
RELAY_TIMEOUT = 20  # the chat page polls every 5 s


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("console")
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp / 'console.sqlite3'}",
        "GBVBOT_VAR_DIR": str(tmp),
        "GBVBOT_PORT": str(port),
        "GBVBOT_RASA_PORT": str(free_port()),
        "GBVBOT_ACTIONS_PORT": str(free_port()),
        "GBVBOT_SECRET_KEY": SECRET,
        "GBVBOT_NEW_PASSWORD": PASSWORD,
    }
    for args in (
        ["--username", "can.bo.kimtra", "--role", "officer", "--units", "Phường Kim Trà", "--name", "Cán bộ Kim Trà"],
        ["--username", "lanh.dao", "--role", "official"],
        ["--username", "bi.khoa", "--role", "officer", "--units", "*"],
        ["--username", "quan.tri", "--role", "admin"],
    ):
        subprocess.run([sys.executable, "-m", "bot.cli", "users", "add", *args], cwd=ROOT, env=env, check=True,
                       capture_output=True)
    subprocess.run([sys.executable, "-m", "bot.cli", "places", "leads"], cwd=ROOT, env=env, check=True, capture_output=True)
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "gateway"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("the gateway did not start") from None
            time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(timeout=20)


def chat(url: str, session_id: str, text: str) -> dict:
    request = urllib.request.Request(url + "/api/chat", data=json.dumps({"session_id": session_id, "text": text}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


# ---------------------------------------------------------------- accessibility


def check_page(browser) -> None:
    """axe-core finds no violation; and our own checks, which do not depend on it. The queue
    refreshes itself (axe's meta-refresh rule) with a link to turn that off, checked here."""
    axe = Axe(browser)
    axe.inject()
    refresh = browser.find_elements(By.CSS_SELECTOR, "meta[http-equiv=refresh]")
    if refresh:
        assert browser.find_element(By.LINK_TEXT, "Tắt tự làm mới")
    options = {"rules": {"meta-refresh": {"enabled": not refresh}}}
    results = axe.run(options=json.dumps(options))
    assert results["violations"] == [], axe.report(results["violations"])

    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "vi"
    assert len(browser.find_elements(By.TAG_NAME, "h1")) == 1
    assert browser.find_elements(By.CSS_SELECTOR, "meta[name=viewport]")
    fields = browser.find_elements(By.CSS_SELECTOR, "input:not([type=hidden]), select, textarea")
    for field in fields:
        labels = browser.execute_script("return Array.from(arguments[0].labels).map(l => l.textContent.trim())", field)
        assert any(labels) or field.get_attribute("aria-label"), field.get_attribute("outerHTML")
    for control in browser.find_elements(By.CSS_SELECTOR, "button, a[href]"):
        assert control.get_attribute("textContent").strip() or control.get_attribute("aria-label"), \
            control.get_attribute("outerHTML")
    # Every control is reached with Tab, in order, from the top of the page.
    controls = browser.execute_script(
        "return Array.from(document.querySelectorAll("
        "'a[href], button, input:not([type=hidden]), select, textarea')).filter(e => !e.disabled)")
    browser.execute_script("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)")
    reached = []
    for _ in range(len(controls) + 5):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        reached.append(browser.execute_script("return document.activeElement"))
    assert all(control in reached for control in controls)
    # A phone's width without sideways scrolling.
    phone_viewport(browser, 360, 640)
    assert browser.execute_script("return document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    phone_viewport(browser, 390, 844)
    # No CSP violation or other error in the console.
    assert [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []


def tab_to(browser, text: str):
    """Press Tab until the focused control shows `text`; returns it."""
    for _ in range(40):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        focused = browser.execute_script("return document.activeElement")
        if focused.get_attribute("textContent").strip() == text:
            return focused
    pytest.fail(f"no control {text!r} reachable with Tab")


def submitted(browser, act) -> None:
    """Do `act` (which submits a form) and wait for the next page. While the old page is being
    replaced, chromedriver may answer the staleness check with an inspector error ("Node with
    given id does not belong to the document") instead of a stale element: asked again."""
    page = browser.find_element(By.TAG_NAME, "html")
    act()
    WebDriverWait(browser, 10, poll_frequency=0.1, ignored_exceptions=(WebDriverException,)).until(staleness_of(page))
    wait(browser).until(lambda d: d.execute_script("return document.readyState") == "complete")


def sign_in(browser, url: str, username: str, password: str = PASSWORD) -> None:
    browser.get(url + "/console/login")
    browser.find_element(By.ID, "username").send_keys(username)
    submitted(browser, lambda: browser.find_element(By.ID, "password").send_keys(password, Keys.ENTER))


def sign_out(browser) -> None:
    submitted(browser, lambda: browser.find_element(By.CSS_SELECTOR, ".signout button").click())
    assert "/console/login" in browser.current_url


def heading(browser) -> str:
    return browser.find_element(By.TAG_NAME, "h1").text


# ---------------------------------------------------------------- tests


def test_an_officer_takes_a_case_writes_to_the_resident_and_closes_it(driver, gateway):  # noqa: F811
    chat(gateway, "other-unit-resident", "cứu với, bố đang đánh mẹ em ở Bình Điền")  # a case of another unit

    # The resident, on the web chat page.
    open_chat(driver, type("Stack", (), {"url": gateway})())
    resident_tab = driver.current_window_handle
    send_text(driver, "Cứu em với, chồng em đang cầm dao đòi giết em, em ở Kim Trà")

    # The officer, in another tab.
    driver.switch_to.new_window("tab")
    driver.get(gateway + "/console/")
    assert "/console/login" in driver.current_url and heading(driver) == "Đăng nhập"
    check_page(driver)
    sign_in(driver, gateway, "can.bo.kimtra")
    cookie = driver.get_cookie("gbv_console")
    assert cookie and cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
    assert heading(driver) == "Hàng chờ ca đang mở"
    check_page(driver)
    queue = driver.find_elements(By.CSS_SELECTOR, ".cases li")
    assert len(queue) == 1 and "Phường Kim Trà" in queue[0].text and "Bình Điền" not in driver.page_source
    queue[0].find_element(By.TAG_NAME, "a").click()
    case_url = driver.current_url
    case_id = case_url.rsplit("/", 1)[-1]
    assert heading(driver) == f"Ca {case_id}"
    check_page(driver)

    # Take the case with the keyboard.
    driver.execute_script("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)")
    button = tab_to(driver, "Nhận xử lý")
    submitted(driver, lambda: button.send_keys(Keys.ENTER))
    wait(driver).until(lambda d: "Bạn đã nhận ca." in d.find_element(By.CSS_SELECTOR, ".flash").text)
    check_page(driver)

    # Write to the resident through the relay: it arrives on the resident's page.
    driver.find_element(By.ID, "text").send_keys("Chị đang ở đâu? Tôi gọi lại cho chị được không?")
    submitted(driver, lambda: driver.find_element(By.CSS_SELECTOR, "form[action$='/write'] button").click())
    wait(driver).until(lambda d: "Đã chuyển tin nhắn" in d.find_element(By.CSS_SELECTOR, ".flash").text)
    driver.switch_to.window(resident_tab)
    wait(driver, RELAY_TIMEOUT).until(
        lambda d: any("Cán bộ trực: Chị đang ở đâu?" in e.text for e in d.find_elements(By.CSS_SELECTOR, "#log .msg-bot")),
        "the officer's message did not reach the resident's page",
    )
    send_text(driver, "em đang trốn ở nhà hàng xóm")

    # The resident's answer is on the case page; close the case with an outcome and a note.
    console_tab = [h for h in driver.window_handles if h != resident_tab][0]
    driver.switch_to.window(console_tab)
    driver.get(case_url)
    assert "em đang trốn ở nhà hàng xóm" in driver.find_element(By.CSS_SELECTOR, ".messages").text
    Select(driver.find_element(By.ID, "outcome")).select_by_value("referred_police")
    driver.find_element(By.ID, "note").send_keys("Đã báo công an phường đến nơi.")
    submitted(driver, lambda: driver.find_element(By.CSS_SELECTOR, "form[action$='/close'] button").click())
    wait(driver).until(lambda d: "Đã đóng ca." in d.find_element(By.CSS_SELECTOR, ".flash").text)
    assert "Chuyển công an" in driver.find_element(By.CSS_SELECTOR, ".facts").text
    driver.get(gateway + "/console/cases")
    assert driver.find_elements(By.CSS_SELECTOR, ".cases li") == []

    # An official signs in: no case content, whatever the URL.
    sign_out(driver)
    sign_in(driver, gateway, "lanh.dao")
    check_page(driver)
    driver.get(case_url)
    assert heading(driver) == "Không có quyền truy cập"
    assert "Kim Trà" not in driver.page_source and "nhà hàng xóm" not in driver.page_source
    driver.get_log("browser")  # the 403 above was meant
    driver.get(gateway + "/console/reports")  # the official's own page: the programme reports
    assert heading(driver) == "Báo cáo định kỳ"
    check_page(driver)


def test_five_wrong_passwords_lock_the_account_and_a_forged_form_is_refused(driver, gateway):  # noqa: F811
    for _ in range(5):
        sign_in(driver, gateway, "bi.khoa", "không phải mật khẩu này")
        assert "không đúng" in driver.find_element(By.CSS_SELECTOR, "[role=alert]").text
    sign_in(driver, gateway, "bi.khoa")  # the right password, but the account is locked
    assert heading(driver) == "Đăng nhập" and driver.get_cookie("gbv_console") is None

    driver.get(gateway + "/console/login")
    driver.execute_script("document.querySelector('input[name=csrf]').value = 'forged'")
    driver.find_element(By.ID, "username").send_keys("can.bo.kimtra")
    submitted(driver, lambda: driver.find_element(By.ID, "password").send_keys(PASSWORD, Keys.ENTER))
    assert "Biểu mẫu đã hết hạn" in driver.page_source
    assert driver.get_cookie("gbv_console") is None


def test_the_second_slice_pages_are_accessible_and_a_place_is_verified_with_the_keyboard(driver, gateway):  # noqa: F811
    sign_in(driver, gateway, "quan.tri")
    for path, title in (("/console/places/due", "Việc cần xác minh"), ("/console/stats", "Thống kê"),
                        ("/console/roster", "Lịch trực"), ("/console/users", "Tài khoản")):
        driver.get(gateway + path)
        assert heading(driver) == title
        check_page(driver)

    # A research lead becomes a place (unverified), then is verified from its page.
    driver.get(gateway + "/console/places/due")
    driver.find_element(By.PARTIAL_LINK_TEXT, "Tạo nơi từ đầu mối này").click()
    assert heading(driver) == "Thêm nơi mới"
    check_page(driver)
    driver.find_element(By.ID, "key").send_keys("lead-checked")
    driver.find_element(By.ID, "phones").send_keys("0234 000 123")
    submitted(driver, lambda: driver.find_element(By.CSS_SELECTOR, "form[action='/console/places/new'] button").click())
    assert "chưa hiện cho người dân" in driver.find_element(By.CSS_SELECTOR, ".flash").text
    check_page(driver)
    Select(driver.find_element(By.ID, "how")).select_by_value("called")
    driver.find_element(By.ID, "source").send_keys("Cán bộ UBND phường")
    submitted(driver, lambda: driver.find_element(By.ID, "source").send_keys(Keys.ENTER))
    assert "Đã ghi nhận xác minh" in driver.find_element(By.CSS_SELECTOR, ".flash").text
    driver.get(gateway + "/console/places")
    check_page(driver)
    assert "lead-checked" in driver.page_source

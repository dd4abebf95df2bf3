"""Driving the chat page in a real headless Chromium (Selenium), for tests/web.

`Page` wraps one loaded page: every wait has a deadline (WebDriverWait), nothing sleeps
for a fixed time. `start_chromium` starts the browser, or skips the test with a reason
starting "needs chromium" when the browser, its driver or Selenium is missing (CI turns
those skips into failures).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
DEADLINE = 10.0
REPO = Path(__file__).resolve().parents[2]

T = TypeVar("T")

try:
    from selenium import webdriver
    from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
    from selenium.webdriver import Chrome
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.remote.webelement import WebElement
    from selenium.webdriver.support.ui import WebDriverWait

    SELENIUM = True
except ImportError:  # pragma: no cover - the skip below says what is missing
    SELENIUM = False

# Browser console lines that mean the page is broken: a CSP refusal, an uncaught error.
BROKEN = re.compile(r"Content Security Policy|Uncaught|SyntaxError|TypeError|ReferenceError")

# Records every line the page sends, so tests can check the exact IRC it speaks.
RECORD_SENT = """
const conn = window.chatDebug.conn;
window.sentLines = [];
const send = conn.sendRaw.bind(conn);
conn.sendRaw = (line) => { window.sentLines.push(line); return send(line); };
"""


def start_chromium(profile: Path) -> Chrome:
    if not SELENIUM:
        pytest.skip("needs chromium, chromium-driver and selenium: selenium is not installed")
    for path in (CHROMIUM, CHROMEDRIVER):
        if not Path(path).exists():
            pytest.skip(f"needs chromium and chromium-driver: {path} not found")
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must not try to download anything
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--window-size=1280,800", f"--user-data-dir={profile}",
    ):  # fmt: skip
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


class Page:
    """The chat page, loaded from a server's web port."""

    def __init__(self, driver: Chrome, web_port: int) -> None:
        self.driver = driver
        self.url = f"http://127.0.0.1:{web_port}/"

    # --- loading and the viewport ---------------------------------------------------------

    def load(self) -> None:
        self.driver.get(self.url)
        self.visible("#connect-submit")
        self.wait(lambda d: d.execute_script("return !!window.chatDebug"), "the page's script")
        self.js(RECORD_SENT)

    def viewport(self, width: int, height: int, mobile: bool = False) -> None:
        """Exactly this many CSS pixels, as a phone or a desktop window would have."""
        self.driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
        )

    def reset_viewport(self) -> None:
        self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

    def screenshot(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        assert self.driver.save_screenshot(str(path)), path

    def console_problems(self) -> list[str]:
        """Console errors that mean the page is broken (CSP refusals, uncaught errors)."""
        entries: list[dict[str, Any]] = self.driver.get_log("browser")
        return [e["message"] for e in entries if BROKEN.search(e.get("message", ""))]

    # --- waiting and finding --------------------------------------------------------------

    def wait(self, condition: Callable[[WebDriver], T], what: str, timeout: float = DEADLINE) -> T:
        try:
            return WebDriverWait(
                self.driver, timeout, ignored_exceptions=(StaleElementReferenceException,)
            ).until(condition)
        except TimeoutException:
            shows = self.summary()
            raise AssertionError(f"gave up waiting for {what}; page shows: {shows}") from None

    def summary(self) -> str:
        try:
            body = self.driver.find_element(By.TAG_NAME, "body").text
        except Exception:
            return "?"
        return " | ".join(line for line in body.splitlines() if line.strip())[-1500:]

    def find(self, css: str) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def visible(self, css: str) -> WebElement:
        def shown(driver: WebDriver) -> WebElement | bool:
            found = driver.find_elements(By.CSS_SELECTOR, css)
            return found[0] if found and found[0].is_displayed() else False

        return self.wait(shown, f"{css} to be visible")  # type: ignore[return-value]

    def hidden(self, css: str) -> None:
        def gone(driver: WebDriver) -> bool:
            return not any(e.is_displayed() for e in driver.find_elements(By.CSS_SELECTOR, css))

        self.wait(gone, f"{css} to be hidden")

    def text_of(self, css: str, pattern: str) -> str:
        """Wait until the element's visible text matches the regex; return the text."""
        regex = re.compile(pattern)

        def matches(driver: WebDriver) -> str | bool:
            found = driver.find_elements(By.CSS_SELECTOR, css)
            text = found[0].text if found else ""
            return text if regex.search(text) else False

        return self.wait(matches, f"{css} to show {pattern!r}")  # type: ignore[return-value]

    def click(self, css: str) -> None:
        """Click the element once it is shown; found again if the page redraws it meanwhile
        (a stale element is retried by `wait`)."""

        def clicked(driver: WebDriver) -> bool:
            found = driver.find_elements(By.CSS_SELECTOR, css)
            if not found or not found[0].is_displayed():
                return False
            found[0].click()
            return True

        self.wait(clicked, f"{css} to be clicked")

    def fill(self, css: str, text: str) -> None:
        field = self.visible(css)
        field.clear()
        field.send_keys(text)

    def js(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, *args)

    # --- what the page sent and shows -----------------------------------------------------

    def sent(self) -> list[str]:
        lines: list[str] = self.js("return window.sentLines || []")
        return lines

    def wait_sent(self, pattern: str) -> str:
        regex = re.compile(pattern)

        def found(driver: WebDriver) -> str | bool:
            return next((line for line in self.sent() if regex.search(line)), False)

        return self.wait(found, f"the page to send {pattern!r}")  # type: ignore[return-value]

    def message_texts(self) -> list[str]:
        texts: list[str] = self.js(
            "return [...document.querySelectorAll('#message-list .msg-text')]"
            ".map((e) => e.textContent)"
        )
        return texts

    def wait_message(self, text: str) -> WebElement:
        """Wait for a message with exactly this text in the open conversation."""

        def shown(driver: WebDriver) -> WebElement | bool:
            for element in driver.find_elements(By.CSS_SELECTOR, "#message-list .msg-text"):
                if element.text == text or element.get_attribute("textContent") == text:
                    return element
            return False

        return self.wait(shown, f"the message {text!r}")  # type: ignore[return-value]

    def conversation(self, key: str) -> str:
        """The CSS selector of a sidebar entry ("#room", "@nick" or "inbox")."""
        return f'#sidebar .buffer-button[data-key="{key}"]'

    def open(self, key: str) -> None:
        self.click(self.conversation(key))
        active = "return window.chatDebug.state.active"
        self.wait(lambda d: self.js(active) == key, f"{key} to open")

    def badge(self, key: str) -> str:
        badges = self.find_all(f"{self.conversation(key)} .badge")
        return badges[0].text if badges else ""

    def wait_badge(self, key: str, count: str) -> None:
        self.wait(lambda d: self.badge(key) == count, f"{key}'s unread badge to be {count!r}")

    # --- operations, as a person does them ------------------------------------------------

    def connect(self, nick: str = "") -> None:
        if nick:
            self.fill("#connect-nick", nick)
        self.click("#connect-submit")
        self.wait(lambda d: self.js("return chatDebug.state.phase") == "ready", "the connection")
        self.visible("#home-view")

    def account_dialog(self, mode: str, user: str, password: str, stay: bool = False) -> None:
        """Fill in and submit the "Log in" or "Create account" dialog (mode login/register)."""
        if not self.find(f"#{mode}-dialog").is_displayed():
            self.click("#register-button" if mode == "register" else "#login-button")
        self.fill(f"#{mode}-user", user)
        self.fill(f"#{mode}-password", password)
        if mode == "register":
            self.fill("#register-password2", password)
        stay_box = self.find(f"#{mode}-stay")
        if stay_box.is_selected() != stay:
            stay_box.click()
        self.click(f"#{mode}-submit")

    def logged_in(self, account: str) -> None:
        self.hidden("#login-dialog")
        self.hidden("#register-dialog")
        state = "return [chatDebug.state.account, chatDebug.state.nick]"
        self.wait(lambda d: self.js(state) == [account, account], f"the login as {account}")
        self.visible("#logout-button")

    def create_room(self, name: str) -> None:
        self.click("#create-room-button")
        self.fill("#create-room-name", name)
        self.click("#create-room-submit")

    def alt_arrow(self, direction: str) -> None:
        """Alt+Up or Alt+Down (direction "up" or "down"): the previous or next conversation."""
        key = Keys.ARROW_UP if direction == "up" else Keys.ARROW_DOWN
        ActionChains(self.driver).key_down(Keys.ALT).send_keys(key).key_up(Keys.ALT).perform()

    def send(self, text: str) -> None:
        box = self.visible("#composer-input")
        box.send_keys(text)
        box.send_keys(Keys.ENTER)

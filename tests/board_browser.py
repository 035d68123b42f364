#!/usr/bin/python3
"""A real browser for the board's end-to-end test (tests/board_test.cc).

Debian's chromium, driven through chromedriver by Debian's python3-selenium, reads one
command per line on standard input and answers each on standard output with one line,
`ok N TEXT` or `error N TEXT` (N counts the commands from 1), so that the C++ test,
which starts and stops the kitchen's processes, can act on the page in between:

  open URL                       load the board
  place PIZZA... TABLE           fill the order form and press "Place order"; TEXT is
                                 what the page then says (the order, or its error)
  burst COUNT                    the same with the burst form
  stage ORDER_ID                 the column the order's card is in, or "none"
  wait_stage ORDER_ID STAGE S    wait up to S seconds for the card to be in STAGE
  wait_count ID VALUE S          wait for the header count #count-ID to read VALUE
  cards                          {"shown": cards on the page, "distinct": distinct keys
                                 among them, "counted": the columns' counts added up,
                                 "known": cards the page holds} as JSON
  inert                          {"elements", "pwned", "shown"}: markup from a record
                                 made no element, ran no script, and is shown as text
  lag GROUP                      the group's total lag as the page shows it
  members GROUP                  the group's members as the page lists them
  offline | online               cut the page's network, and give it back
  screenshot PATH
  quit

The browser runs headless as root, so without its sandbox, with a profile of its own in
a temporary folder; it is always quit, also when a command fails or stdin closes.
"""

import json
import os
import signal
import sys
import tempfile
import time

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def start_browser(profile):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1400,1000",
                     f"--user-data-dir={profile}"]:
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def wait_for(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not within {seconds} s")
        time.sleep(0.05)


def form_answer(browser, form_id, error_id, result_id):
    """What the page says after a form was sent: its error, else its result."""
    def said():
        error = browser.find_element(By.ID, error_id).text
        result = browser.find_element(By.ID, result_id).text
        if error:
            return "error: " + error
        if result and result != "…":
            return result
        return None
    return wait_for(said, 20, "an answer to the form")


def card_stage(browser, order_id):
    return browser.execute_script(
        "const card = document.querySelector(`.card[data-order-id=\"${arguments[0]}\"]`);"
        "return card ? card.closest('.column').dataset.stage : 'none';", order_id)


def run(browser, command, args):
    if command == "open":
        browser.get(args[0])
        wait_for(lambda: browser.find_element(By.ID, "connection").text == "live", 20,
                 "the live event stream")
        wait_for(lambda: len(Select(browser.find_element(By.ID, "pizza")).options) > 0,
                 20, "the menu")
        return "opened"
    if command == "place":
        pizza, table = " ".join(args[:-1]), args[-1]
        Select(browser.find_element(By.ID, "pizza")).select_by_value(pizza)
        field = browser.find_element(By.ID, "table")
        field.clear()
        field.send_keys(table)
        browser.find_element(By.ID, "place").click()
        return form_answer(browser, "order-form", "order-error", "order-result")
    if command == "burst":
        field = browser.find_element(By.ID, "burst-count")
        field.clear()
        field.send_keys(args[0])
        browser.find_element(By.ID, "burst").click()
        return form_answer(browser, "burst-form", "burst-error", "burst-result")
    if command == "stage":
        return card_stage(browser, args[0])
    if command == "wait_stage":
        order_id, stage, seconds = args[0], args[1], float(args[2])
        wait_for(lambda: card_stage(browser, order_id) == stage, seconds,
                 f"card {order_id} in {stage} (it is in {card_stage(browser, order_id)})")
        return stage
    if command == "wait_count":
        name, value, seconds = args[0], args[1], float(args[2])
        # The counts are drawn anew every second: read in one script, not through an
        # element that may be gone by the time its text is asked.
        def count():
            return browser.execute_script(
                "const e = document.getElementById('count-' + arguments[0]);"
                "return e ? e.textContent : '';", name)
        wait_for(lambda: count() == value, seconds,
                 f"count {name} = {value} (it is {count()!r})")
        return value
    if command == "cards":
        keys = browser.execute_script(
            "return [...document.querySelectorAll('.card')].map(c => c.dataset.key);")
        shown = browser.execute_script(
            "return [...document.querySelectorAll('.column .n')]"
            ".reduce((sum, n) => sum + Number(n.textContent), 0);")
        known = browser.execute_script("return Number(document.body.dataset.cards || 0);")
        return json.dumps({"shown": len(keys), "distinct": len(set(keys)), "counted": shown,
                           "known": known})
    if command == "inert":
        # Markup from a record must stay text: no element of it, no script run, and
        # the text itself on the page.
        return json.dumps(browser.execute_script(
            "return {elements: document.querySelectorAll('.card b, .card img, .card i,"
            " .card script, #injected').length, pwned: window.pwned === 1,"
            " shown: document.body.innerText.includes('<b id=\"injected\">bold</b>')};"),
            sort_keys=True)
    if command == "lag":
        return browser.execute_script(
            "return document.getElementById('group-' + arguments[0]).dataset.lag || '';",
            args[0])
    if command == "members":
        return browser.execute_script(
            "return document.querySelector('#group-' + arguments[0] + ' .members')"
            ".innerText.replace(/\\n/g, '; ');", args[0])
    if command in ("offline", "online"):
        browser.set_network_conditions(offline=command == "offline", latency=0,
                                       download_throughput=-1, upload_throughput=-1)
        if command == "online":
            wait_for(lambda: browser.find_element(By.ID, "connection").text == "live",
                     30, "the event stream back")
        return command
    if command == "screenshot":
        browser.save_screenshot(args[0])
        return args[0]
    raise ValueError(f"unknown command {command!r}")


def main():
    with tempfile.TemporaryDirectory(prefix="board-browser-") as profile:
        browser = start_browser(profile)
        try:
            print("ok 0 ready", flush=True)
            for number, line in enumerate(sys.stdin, start=1):
                words = line.split()
                if not words:
                    continue
                if words[0] == "quit":
                    print(f"ok {number} bye", flush=True)
                    break
                try:
                    answer = run(browser, words[0], words[1:])
                    print(f"ok {number} {answer}", flush=True)
                except (TimeoutError, WebDriverException, ValueError, IndexError) as error:
                    message = str(error).splitlines()[0] if str(error) else type(error).__name__
                    print(f"error {number} {message}", flush=True)
        finally:
            browser.quit()


def stop_on_sigterm(signum, frame):
    raise SystemExit(128 + signum)  # Runs the finally that quits the browser.


if __name__ == "__main__":
    # The test kills this process group at its end: chromedriver and chromium with it,
    # even if this script could not quit them.
    os.setpgrp()
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    if not os.environ.get("HOME"):
        os.environ["HOME"] = tempfile.gettempdir()  # Empty under bazel test.
    main()

#!/usr/bin/env python3
"""The settlement console in a real headless browser (Debian's chromium + chromedriver + python3-selenium).

Starts redis-server and tradein-server (callers file, Redis ledger, JSON gateway, simulated clock), makes
claims through the gateway as a till would (confirms some, refunds one, leaves one reserved), then:

  - a wrong key on the login form shows the error and sets no cookie;
  - the portal key logs in; the cookie is HttpOnly and SameSite=Strict; the page carries a strict CSP and
    nosniff, and the browser reports no CSP violation or script error;
  - every figure the page shows equals what GetTotals / GetBudgetUsage answer (read over the JSON API with the
    portal key): totals, each product type's net, the regions' net summing to the total, budgets' remaining,
    the held amount of the reserved claim, the claims per hour;
  - the claim lookup shows the refunded claim;
  - a screenshot (PNG) is saved as <out>/console.png; logout ends the session.

Usage: console_browser_test.py --server BIN --policies DIR --out DIR
Exit status 0 when every check passed; the first failed check is printed.
"""
import argparse
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

DAY = "2025-06-01"
NOW = f"{DAY}T10:00:00+08:00"
KEYS = {"portal": "console-test-portal-key-1", "shop": "console-test-shop-key-1"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prc_id(n):
    """A valid PRC resident id (the checksum of GB 11643), as tests/e2e/claim_e2e_support.cc makes them."""
    body = "33038119900101%03d" % (n % 1000)
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights)) % 11]


def wait_for_port(port, process, what, seconds=15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port} within {seconds}s")


class Gateway:
    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"

    def call(self, method, path, key=None, body=None):
        request = urllib.request.Request(self.base + path, method=method)
        if key:
            request.add_header("Authorization", f"Bearer {key}")
        data = None
        if body is not None:
            request.add_header("Content-Type", "application/json")
            data = json.dumps(body).encode()
        try:
            with urllib.request.urlopen(request, data, timeout=10) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode()

    def json(self, method, path, key, body=None):
        status, _, text = self.call(method, path, key, body)
        check(status == 200, f"{method} {path}: {status} {text}")
        return json.loads(text)


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def make_claims(gateway):
    """Six claims in two regions: five confirmed (one then refunded), one e-bike reserved (held on the Rui'an
    e-bike budget, the shipped policies' one budget)."""
    items = {
        "fridge": {"lineId": "1", "productType": "appliance.refrigerator", "priceFen": "500000", "energyGrade": 1},
        "tv": {"lineId": "1", "productType": "appliance.television", "priceFen": "380000", "energyGrade": 1},
        "ebike": {"lineId": "1", "productType": "ebike.new", "priceFen": "400000",
                  "ebike": {"oldBikeSurrendered": True, "newBikeCertified": True}},
    }
    plan = [("fridge", "330381", True), ("tv", "330381", True), ("fridge", "330302", True),
            ("tv", "330302", True), ("ebike", "330381", True), ("ebike", "330381", False)]
    claims = []
    for n, (item, region, confirm) in enumerate(plan):
        claim = gateway.json("POST", "/v1/claims", KEYS["shop"], {
            "requestId": f"console-{n}", "regionCode": region, "transactionDate": DAY,
            "buyer": {"idType": "PRC_ID", "idNumber": prc_id(n + 1)}, "items": [items[item]]})
        if confirm:
            claim = gateway.json("POST", f"/v1/claims/{claim['claimId']}:confirm", KEYS["shop"],
                                 {"invoiceNumber": f"INV-{n}"})
        claims.append(claim)
    refunded = gateway.json("POST", f"/v1/claims/{claims[1]['claimId']}:refund", KEYS["shop"],
                            {"requestId": "console-refund-1", "reason": "returned"})
    check(refunded["state"] == "REFUNDED", f"refund: {refunded}")
    check(claims[-1]["state"] == "RESERVED" and int(claims[-1]["totalSubsidyFen"]) > 0, f"held claim: {claims[-1]}")
    return claims


def fen_of(driver, element_id):
    return int(driver.find_element(By.ID, element_id).get_attribute("data-fen"))


def browser():
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1400,2300", "--lang=zh-CN"):
        options.add_argument(argument)
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"),
                            options=options)


def run(args, work):
    redis_port, grpc_port, http_port = free_port(), free_port(), free_port()
    redis = subprocess.Popen(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no", "--dir", work], stdout=subprocess.DEVNULL)
    processes = [redis]
    try:
        wait_for_port(redis_port, redis, "redis-server")
        callers = os.path.join(work, "callers.textproto")
        with open(callers, "w") as f:
            f.write(f'callers {{ id: "portal" role: PORTAL api_key_sha256: "{hashlib.sha256(KEYS["portal"].encode()).hexdigest()}" }}\n'
                    f'callers {{ id: "shop" role: RETAILER retailer_id: "shop-1" region_codes: "330300" '
                    f'api_key_sha256: "{hashlib.sha256(KEYS["shop"].encode()).hexdigest()}" }}\n')
        buyer_key = os.path.join(work, "buyer.key")
        with open(buyer_key, "w") as f:
            f.write("0123456789abcdef" * 4 + "\n")
        os.chmod(buyer_key, 0o600)
        log = open(os.path.join(args.out, "server.log"), "w")
        server = subprocess.Popen([args.server, f"--listen=127.0.0.1:{grpc_port}", f"--http_listen=127.0.0.1:{http_port}",
                                   "--metrics_listen=", f"--policy_dir={args.policies}", f"--callers_file={callers}",
                                   f"--redis=redis://127.0.0.1:{redis_port}", f"--buyer_key_file={buyer_key}",
                                   f"--simulated_now={NOW}", "--sweep_interval=100ms"],
                                  stdout=log, stderr=subprocess.STDOUT)
        processes.append(server)
        wait_for_port(http_port, server, "tradein-server")
        gateway = Gateway(http_port)
        claims = make_claims(gateway)
        check(browser_checks(args, gateway, claims), "browser checks")
    finally:
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
    # The sanitizer build (tools/test --sanitize) runs this test too: any report fails it, as in
    # tests/e2e/server_process.cc.
    with open(os.path.join(args.out, "server.log"), errors="replace") as f:
        reports = [line for line in f if line.startswith("SUMMARY: ") and "Sanitizer" in line]
    check(reports == [], f"tradein-server wrote a sanitizer report (see {args.out}/server.log): {reports}")


def browser_checks(args, gateway, claims):
    status, headers, page = gateway.call("GET", "/console/")
    check(status == 200, f"GET /console/: {status}")
    csp = headers.get("Content-Security-Policy", "")
    check("script-src 'self'" in csp and "unsafe" not in csp and "default-src 'none'" in csp, f"CSP: {csp}")
    check(headers.get("X-Content-Type-Options") == "nosniff", f"headers: {headers}")
    # Without the console's header and session, the data path refuses; the key never goes in a URL.
    status, _, _ = gateway.call("POST", "/console/api/v1/portal/totals", KEYS["portal"], {})
    check(status == 403, f"console API without X-Console: {status}")

    driver = browser()
    try:
        wait = WebDriverWait(driver, 15)
        driver.get(gateway.base + "/console/")
        wait.until(lambda d: d.find_element(By.ID, "key").is_displayed())
        # A wrong key: an error on the form, no cookie.
        driver.find_element(By.ID, "key").send_keys("not-a-key")
        driver.find_element(By.ID, "login-button").click()
        wait.until(lambda d: d.find_element(By.ID, "login-error").text.strip() != "")
        error = driver.find_element(By.ID, "login-error").text
        check("密钥" in error and "portal or admin" in error, f"login error: {error!r}")
        check(driver.get_cookies() == [], f"cookies after a wrong key: {driver.get_cookies()}")
        check(not driver.find_element(By.ID, "app").is_displayed(), "the app shows after a wrong key")

        driver.find_element(By.ID, "key").clear()
        driver.find_element(By.ID, "key").send_keys(KEYS["portal"])
        driver.find_element(By.ID, "login-button").click()
        wait.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-loaded") == "true"
                   or d.find_element(By.ID, "app-error").text.strip() != "")
        check(driver.find_element(By.ID, "app-error").text.strip() == "",
              f"page error: {driver.find_element(By.ID, 'app-error').text}")
        cookies = driver.get_cookies()
        check(len(cookies) == 1 and cookies[0]["name"] == "tradein_console", f"cookies: {cookies}")
        check(cookies[0]["httpOnly"] is True and cookies[0].get("sameSite") == "Strict", f"cookie: {cookies[0]}")
        check(KEYS["portal"] not in driver.current_url, "the key is in the URL")
        check(driver.execute_script("return document.cookie") == "", "the session cookie is readable by script")

        frm = driver.find_element(By.ID, "from").get_attribute("value")
        to = driver.find_element(By.ID, "to").get_attribute("value")
        check(to == DAY, f"period ends {to}, the server's day is {DAY}")
        totals = gateway.json("POST", "/v1/portal/totals", KEYS["portal"], {"fromDate": frm, "toDate": to})
        shown = {name: fen_of(driver, f"total-{name}") for name in ("granted", "refunded", "net")}
        expected = {name: int(totals.get(f"{name}Fen", 0)) for name in ("granted", "refunded", "net")}
        check(shown == expected, f"totals shown {shown}, GetTotals {expected}")
        shown_claims = int(driver.find_element(By.ID, "total-claims").get_attribute("data-count"))
        check(shown_claims == int(totals.get("claims", 0)) == 5, f"claims shown {shown_claims}, GetTotals {totals}")
        check(expected["refunded"] > 0 and expected["net"] == expected["granted"] - expected["refunded"], totals)

        by_product = {}
        for row in totals.get("rows", []):
            by_product[row["productType"]] = by_product.get(row["productType"], 0) + int(row.get("netFen", 0))
        shown_products = {row.get_attribute("data-product-type"): int(row.find_element(By.CSS_SELECTOR, "td.net").get_attribute("data-fen"))
                          for row in driver.find_elements(By.CSS_SELECTOR, "#by-product tbody tr")}
        check(shown_products == by_product, f"by product shown {shown_products}, GetTotals {by_product}")
        regions = {row.get_attribute("data-region"): int(row.find_element(By.CSS_SELECTOR, "td.net").get_attribute("data-fen"))
                   for row in driver.find_elements(By.CSS_SELECTOR, "#by-region tbody tr")}
        check(set(regions) == {"330381", "330302"} and sum(regions.values()) == expected["net"],
              f"regions {regions}, net {expected['net']}")

        usage = gateway.json("POST", "/v1/budget-usage:query", KEYS["portal"], {"regionCode": "330381", "transactionDate": DAY})
        check(usage.get("budgets"), f"no budget in force for 330381: {usage}")
        budget_rows = {row.get_attribute("data-budget"): row for row in driver.find_elements(By.CSS_SELECTOR, "#budgets tbody tr")}
        held_total = 0
        for budget in usage.get("budgets", []):
            row = budget_rows.get(f"{budget['programme']}/{budget['budgetId']}")
            check(row is not None, f"budget {budget} not shown; shown {list(budget_rows)}")
            remaining = int(row.find_element(By.CSS_SELECTOR, "td.remaining").get_attribute("data-fen"))
            used = int(row.find_element(By.CSS_SELECTOR, "td.used").get_attribute("data-fen"))
            held = int(row.find_element(By.CSS_SELECTOR, "td.held").get_attribute("data-fen"))
            check(remaining == int(budget.get("remainingFen", 0)), f"budget {budget}: remaining shown {remaining}")
            check(used + held == int(budget.get("usedFen", 0)), f"budget {budget}: used {used} + held {held}")
            held_total += held
        check(held_total == int(claims[-1]["totalSubsidyFen"]), f"held {held_total}, reserved claim {claims[-1]}")
        hourly = int(driver.find_element(By.ID, "hourly").get_attribute("data-total"))
        check(hourly == len(claims), f"claims per hour count {hourly}, made {len(claims)}")

        # The claim lookup.
        driver.find_element(By.ID, "claim-id").send_keys(claims[1]["claimId"])
        driver.find_element(By.CSS_SELECTOR, "#lookup button").click()
        wait.until(lambda d: "REFUNDED" in d.find_element(By.ID, "claim").text)
        check("电视机" in driver.find_element(By.ID, "claim").text, driver.find_element(By.ID, "claim").text)

        # Script errors and CSP violations; the 401s of the wrong key and of the first visit are expected.
        problems = [entry for entry in driver.get_log("browser")
                    if entry["level"] == "SEVERE" and "Failed to load resource" not in entry["message"]]
        check(problems == [], f"browser console: {problems}")
        os.makedirs(args.out, exist_ok=True)
        screenshot = os.path.join(args.out, "console.png")
        check(driver.save_screenshot(screenshot), "screenshot")
        with open(os.path.join(args.out, "figures.json"), "w") as f:
            json.dump({"shown": shown, "shown_claims": shown_claims, "get_totals": totals,
                       "by_product": shown_products, "regions": regions}, f, indent=2)
        print(f"screenshot: {screenshot}")
        print(f"shown {shown} claims {shown_claims}; GetTotals {expected} claims {totals.get('claims')}")

        driver.find_element(By.ID, "logout").click()
        wait.until(lambda d: d.find_element(By.ID, "key").is_displayed())
        driver.get(gateway.base + "/console/")
        wait.until(lambda d: d.find_element(By.ID, "key").is_displayed())
    finally:
        driver.quit()
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", required=True)
    parser.add_argument("--policies", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="tradein-console-")
    try:
        run(args, work)
    except AssertionError as error:
        print(f"FAILED: {error}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("PASSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())

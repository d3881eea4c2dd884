"""The dashboard in headless Chromium: log-in with personal accounts (coordinator, leader, agency officer) or
a token, charts with their tables, pickers, a leader who cannot change anything, desktop and phone width.

Screenshots go to ``$OMNICHANNEL_ARTEFACTS`` (default: the test's temporary directory)."""

from __future__ import annotations

import asyncio
from textwrap import dedent

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from argon2 import PasswordHasher

from omnichannel.config import parse_config
from omnichannel.models import User
from omnichannel.templates import Templates
from omnichannel.web import dashboard, desk, ppid_api
from router.delivery.desk import AnswerDesk
from tests.browser import artefacts, chromium
from tests.omnichannel.reports.timelines import CUTI_BERSAMA, build

ENV = {"COORD": "coord-token-123", "PUPR": "pupr-token-456"}
MARCH = "/dasbor?dari=2026-03-01&sampai=2026-03-31"
PASSWORD = "kata-sandi-dasbor-1"
ACCOUNTS = [("kora", "Kora Wibowo", "koordinator", []), ("pim", "Pak Wali Kota", "pimpinan", []),
            ("ani", "Ani Lestari", "petugas", ["pupr"])]


async def add_accounts(store) -> None:
    hashed = PasswordHasher().hash(PASSWORD)
    async with store.session() as s:
        for login, name, role, agencies in ACCOUNTS:
            s.add(User(login=login, name=name, role=role, agencies=agencies, password_hash=hashed))
        await s.commit()


def account_login(driver, base: str, login: str, password: str = PASSWORD) -> None:
    from selenium.webdriver.common.by import By

    driver.get(base + "/dasbor")
    driver.find_element(By.ID, "login").send_keys(login)
    driver.find_element(By.ID, "sandi").send_keys(password)
    driver.find_element(By.ID, "tombol-masuk").click()


def make_config():
    return parse_config(dedent(f"""
        http: {{coordinator_tokens: ["${{COORD}}"]}}
        agencies:
          - {{code: pupr, name: Dinas PUPR, officer_tokens: ["${{PUPR}}"]}}
          - {{code: dlh, name: Dinas Lingkungan Hidup}}
          - {{code: ppid, name: PPID Diskominfo}}
        sla: {{cuti_bersama: [{", ".join(CUTI_BERSAMA)}]}}
        """), env=ENV)


def logged_in(driver) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 20).until(ec.presence_of_element_located((By.ID, "keluar")))


def coordinator_session(driver, base: str, shots: str) -> dict:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select, WebDriverWait

    seen: dict = {}
    account_login(driver, base, "kora", "salah-sandi")
    seen["refused"] = WebDriverWait(driver, 20).until(
        ec.presence_of_element_located((By.ID, "galat-masuk"))).text
    account_login(driver, base, "kora")
    logged_in(driver)
    seen["who"] = driver.find_element(By.TAG_NAME, "header").text
    driver.get(base + MARCH)
    WebDriverWait(driver, 30).until(ec.presence_of_element_located((By.ID, "angka")), driver.page_source[:3000])
    seen["charts"] = [e.get_attribute("id") for e in driver.find_elements(By.CSS_SELECTOR, "svg.grafik")]
    seen["bars"] = len(driver.find_elements(By.CSS_SELECTOR, "#grafik-instansi rect.batang"))
    seen["cards"] = driver.find_element(By.ID, "angka").text
    table = driver.find_element(By.ID, "saluran-tabel")
    seen["table_hidden"] = not table.is_displayed()
    driver.find_element(By.CSS_SELECTOR, "#saluran summary").click()
    seen["table_shown"] = table.is_displayed()
    seen["channel_table"] = table.text
    driver.set_window_size(1366, 1000)
    driver.save_screenshot(f"{shots}/dasbor-desktop.png")
    Select(driver.find_element(By.ID, "instansi")).select_by_value("pupr")
    driver.find_element(By.ID, "tampilkan").click()
    WebDriverWait(driver, 20).until(lambda d: "instansi=pupr" in d.current_url)
    seen["url"] = driver.current_url
    seen["agency_table"] = driver.find_element(By.ID, "tabel-instansi").text
    seen["post_forms"] = [f.get_attribute("action") for f in driver.find_elements(By.CSS_SELECTOR, "form")
                          if (f.get_attribute("method") or "").lower() == "post"]
    driver.set_window_size(412, 900)
    driver.get(base + MARCH)
    seen["phone_overflow"] = driver.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    driver.save_screenshot(f"{shots}/dasbor-phone.png")
    driver.find_element(By.ID, "keluar").click()
    seen["after_logout"] = WebDriverWait(driver, 20).until(ec.presence_of_element_located((By.ID, "login"))) is not None
    seen["session_after_logout"] = driver.get_cookie("omni_sesi")
    return seen


def leader_session(driver, base: str, shots: str) -> dict:
    """A pimpinan reads every agency's figures; the page offers nothing to change but logging out."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    account_login(driver, base, "pim")
    logged_in(driver)
    driver.get(base + MARCH)
    seen = {"who": driver.find_element(By.TAG_NAME, "header").text,
            "options": [o.get_attribute("value") for o in Select(driver.find_element(By.ID, "instansi")).options],
            "cards": driver.find_element(By.ID, "angka").text,
            "post_forms": [f.get_attribute("action") for f in driver.find_elements(By.CSS_SELECTOR, "form")
                           if (f.get_attribute("method") or "").lower() == "post"],
            "cookie": driver.get_cookie("omni_sesi")["value"]}
    driver.set_window_size(412, 900)
    driver.save_screenshot(f"{shots}/dasbor-pimpinan-phone.png")
    return seen


def token_session(driver, base: str) -> dict:
    """Machine access: the coordinator token, typed into the folded-away token form."""
    from selenium.webdriver.common.by import By

    driver.get(base + "/dasbor")
    driver.find_element(By.CSS_SELECTOR, "details summary").click()
    driver.find_element(By.ID, "token").send_keys(ENV["COORD"])
    driver.find_element(By.ID, "tombol-token").click()
    logged_in(driver)
    driver.get(base + MARCH)
    return {"who": driver.find_element(By.TAG_NAME, "header").text, "cookie": driver.get_cookie("omni_dasbor")}


def agency_session(driver, base: str) -> dict:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    account_login(driver, base, "ani")
    logged_in(driver)
    driver.get(base + MARCH)
    options = [o.get_attribute("value") for o in Select(driver.find_element(By.ID, "instansi")).options]
    table = driver.find_element(By.ID, "tabel-instansi").text
    driver.get(base + MARCH + "&instansi=dlh")
    return {"options": options, "table": table, "other": driver.find_element(By.ID, "galat").text}


async def test_dashboard_in_chromium(store, tmp_path):
    await build(store)
    await add_accounts(store)
    config = make_config()
    shots = artefacts(tmp_path)
    app = web.Application()
    app.router.add_routes(dashboard.routes(store, config))
    app.router.add_routes(desk.routes(store, config, Templates(), AnswerDesk()))
    app.router.add_routes(ppid_api.routes(store, config, Templates(), AnswerDesk()))
    async with TestServer(app) as server:
        base = str(server.make_url("")).rstrip("/")
        with chromium() as driver:
            seen = await asyncio.to_thread(coordinator_session, driver, base, str(shots))
        with chromium() as driver:
            own = await asyncio.to_thread(agency_session, driver, base)
        with chromium() as driver:
            leader = await asyncio.to_thread(leader_session, driver, base, str(shots))
        with chromium() as driver:
            machine = await asyncio.to_thread(token_session, driver, base)
        async with aiohttp.ClientSession(cookies={"omni_sesi": leader["cookie"]}) as http:
            async with http.get(f"{base}/api/v1/session") as resp:
                csrf = (await resp.json())["csrf"]
            # the leader's session, with its CSRF token, changes nothing (every mutating route: test_readonly)
            async with http.post(f"{base}/api/v1/tickets/T4/status", json={"status": "selesai"},
                                 headers={"X-CSRF-Token": csrf}) as resp:
                assert resp.status == 403 and (await resp.json())["error"] == "read_only"
            async with http.get(f"{base}/dasbor/masuk") as resp:
                assert resp.status == 405
        async with aiohttp.ClientSession() as http:  # a login form posted from another site
            async with http.post(f"{base}/dasbor/masuk", data={"login": "kora", "password": PASSWORD},
                                 headers={"Origin": "https://jahat.example"}, allow_redirects=False) as resp:
                assert resp.status == 403
    assert "salah" in seen["refused"]
    assert "Kora Wibowo (Koordinator)" in seen["who"]
    assert seen["charts"] == ["grafik-tren", "grafik-instansi", "grafik-saluran", "grafik-kecamatan"]
    assert seen["bars"] == 8  # four agencies with tickets, two bars each
    assert "Diterima" in seen["cards"] and "13" in seen["cards"]
    assert seen["table_hidden"] and seen["table_shown"]
    assert "Formulir web 5" in seen["channel_table"] and "Telegram 4" in seen["channel_table"]
    assert "instansi=pupr" in seen["url"]
    assert "Dinas PUPR" in seen["agency_table"] and "Dinas Lingkungan Hidup" not in seen["agency_table"]
    assert seen["post_forms"] == [f"{base}/dasbor/keluar"]
    assert seen["phone_overflow"] <= 0
    assert seen["after_logout"] and seen["session_after_logout"] is None
    assert own["options"] == ["pupr"]
    assert "Dinas PUPR" in own["table"] and "PPID" not in own["table"]
    assert "tidak berhak" in own["other"]
    assert "Pak Wali Kota (Pimpinan)" in leader["who"]
    assert leader["options"] == ["semua", "pupr", "dlh", "ppid"]
    assert "13" in leader["cards"] and leader["post_forms"] == [f"{base}/dasbor/keluar"]
    assert "Koordinator" in machine["who"] and machine["cookie"] is not None
    for name in ("dasbor-desktop.png", "dasbor-phone.png", "dasbor-pimpinan-phone.png"):
        assert (shots / name).stat().st_size > 10_000

"""The dashboard in headless Chromium: log-in, charts with their tables, pickers, read-only, phone width."""

from __future__ import annotations

import asyncio
from textwrap import dedent

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from omnichannel.config import parse_config
from omnichannel.web import dashboard, officer_api
from tests.browser import chromium
from tests.omnichannel.reports.timelines import CUTI_BERSAMA, build

ENV = {"COORD": "coord-token-123", "PUPR": "pupr-token-456"}
MARCH = "/dasbor?dari=2026-03-01&sampai=2026-03-31"


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
    driver.get(base + "/dasbor")
    driver.find_element(By.ID, "token").send_keys("salah")
    driver.find_element(By.ID, "tombol-masuk").click()
    seen["refused"] = WebDriverWait(driver, 20).until(
        ec.presence_of_element_located((By.ID, "galat-masuk"))).text
    driver.find_element(By.ID, "token").send_keys(ENV["COORD"])
    driver.find_element(By.ID, "tombol-masuk").click()
    logged_in(driver)
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
    driver.set_window_size(1280, 1000)
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
    seen["cookie"] = driver.get_cookie("omni_dasbor")["value"]
    driver.find_element(By.ID, "keluar").click()
    seen["after_logout"] = WebDriverWait(driver, 20).until(ec.presence_of_element_located((By.ID, "token"))) is not None
    return seen


def agency_session(driver, base: str) -> dict:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver.get(base + "/dasbor")
    driver.find_element(By.ID, "token").send_keys(ENV["PUPR"])
    driver.find_element(By.ID, "tombol-masuk").click()
    logged_in(driver)
    driver.get(base + MARCH)
    options = [o.get_attribute("value") for o in Select(driver.find_element(By.ID, "instansi")).options]
    table = driver.find_element(By.ID, "tabel-instansi").text
    driver.get(base + MARCH + "&instansi=dlh")
    return {"options": options, "table": table, "other": driver.find_element(By.ID, "galat").text}


async def test_dashboard_in_chromium(store, tmp_path):
    await build(store)
    config = make_config()
    app = web.Application()
    app.router.add_routes(dashboard.routes(store, config))
    app.router.add_routes(officer_api.routes(store, config, None))
    async with TestServer(app) as server:
        base = str(server.make_url("")).rstrip("/")
        with chromium() as driver:
            seen = await asyncio.to_thread(coordinator_session, driver, base, str(tmp_path))
        with chromium() as driver:
            own = await asyncio.to_thread(agency_session, driver, base)
        async with aiohttp.ClientSession(cookies={"omni_dasbor": seen["cookie"]}) as http:
            # the dashboard's cookie is no key to the officer API: a leader cannot change a ticket
            async with http.post(f"{base}/api/v1/tickets/T4/status", json={"status": "selesai"}) as resp:
                assert resp.status == 401
            async with http.get(f"{base}/dasbor/masuk") as resp:
                assert resp.status == 405
    assert "Tidak bisa masuk" in seen["refused"]
    assert seen["charts"] == ["grafik-tren", "grafik-instansi", "grafik-saluran", "grafik-kecamatan"]
    assert seen["bars"] == 8  # four agencies with tickets, two bars each
    assert "Diterima" in seen["cards"] and "13" in seen["cards"]
    assert seen["table_hidden"] and seen["table_shown"]
    assert "Formulir web 5" in seen["channel_table"] and "Telegram 4" in seen["channel_table"]
    assert "instansi=pupr" in seen["url"]
    assert "Dinas PUPR" in seen["agency_table"] and "Dinas Lingkungan Hidup" not in seen["agency_table"]
    assert seen["post_forms"] == [f"{base}/dasbor/keluar"]
    assert seen["phone_overflow"] <= 0
    assert seen["after_logout"]
    assert own["options"] == ["pupr"]
    assert "Dinas PUPR" in own["table"] and "PPID" not in own["table"]
    assert "tidak berhak" in own["other"]
    assert (tmp_path / "dasbor-desktop.png").stat().st_size > 10_000

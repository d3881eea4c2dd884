"""The citizen's side in headless Chromium, at phone width (412 px) and on a desktop (1366 px): a wrong phone
number is explained in Bahasa Indonesia; the confirmation shows the reference and the status link in a field
with a copy button; the location typed in the form reaches the ticket; the status page opened from that link
in another browser shows the agency's answer without horizontal scrolling."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from omnichannel import users
from omnichannel.daemon import Daemon
from tests.browser import artefacts, chromium, shipped_config

ANSWER = "Lampu sudah kami ganti Selasa pagi. Terima kasih laporannya."


def citizen_files(driver, base: str, shots: Path) -> dict:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    seen: dict = {}
    wait = WebDriverWait(driver, 20)
    driver.set_window_size(412, 900)
    driver.get(base + "/")
    driver.find_element(By.ID, "text").send_keys("Lampu jalan di depan SD Negeri 3 mati sejak Senin, gelap sekali")
    driver.find_element(By.ID, "phone").send_keys("12")
    driver.find_element(By.ID, "location").send_keys("Jl. Pemuda depan SDN 3, Kel. Sekayu")
    driver.find_element(By.ID, "kirim").click()
    seen["error"] = wait.until(ec.visibility_of_element_located((By.ID, "galat"))).text
    driver.save_screenshot(str(shots / "citizen-error-phone.png"))
    driver.find_element(By.ID, "phone").clear()
    driver.find_element(By.ID, "phone").send_keys("0812 3456 7890")
    driver.find_element(By.ID, "kirim").click()
    wait.until(ec.visibility_of_element_located((By.ID, "hasil")))
    seen["error_hidden"] = not driver.find_element(By.ID, "galat").is_displayed()
    seen["ref"] = driver.find_element(By.ID, "hasil-ref").text
    seen["ack"] = driver.find_element(By.ID, "hasil").text
    seen["link"] = driver.find_element(By.ID, "tautan-status").get_attribute("value")
    seen["readonly"] = driver.find_element(By.ID, "tautan-status").get_attribute("readonly") is not None
    driver.find_element(By.ID, "salin").click()
    wait.until(lambda d: d.find_element(By.ID, "tersalin").is_displayed())
    seen["phone_form"] = driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    driver.save_screenshot(str(shots / "citizen-confirmation-phone.png"))
    driver.set_window_size(1366, 900)
    driver.save_screenshot(str(shots / "citizen-confirmation-desktop.png"))
    return seen


def status_page(driver, link: str, shots: Path, width: int, name: str) -> dict:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.set_window_size(width, 900)
    driver.get(link)
    WebDriverWait(driver, 20).until(lambda d: d.find_element(By.ID, "isi").is_displayed()
                                    or d.find_element(By.ID, "galat").is_displayed())
    out = {"text": driver.find_element(By.TAG_NAME, "body").text,
           "scroll": driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")}
    driver.save_screenshot(str(shots / name))
    return out


def paste_link(driver, base: str, link: str) -> str:
    """The form's status check takes a pasted status link and opens the status page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.set_window_size(412, 900)
    driver.get(base + "/")
    driver.find_element(By.ID, "ref").send_keys(link)
    driver.find_element(By.ID, "cek-tombol").click()
    WebDriverWait(driver, 20).until(lambda d: "/status/" in d.current_url and d.find_element(By.ID, "isi").is_displayed())
    return driver.find_element(By.TAG_NAME, "body").text


async def test_a_citizen_files_keeps_the_link_and_reads_the_answer_on_a_phone(tmp_path):
    shots = artefacts(tmp_path)
    config = shipped_config(tmp_path, OMNICHANNEL_RATE_LIMITS="false")
    config.daemon.router_interval = 0.2
    daemon = Daemon(config)
    await daemon.start()
    try:
        base = f"http://127.0.0.1:{daemon.http_port}"
        async with daemon.store.session() as s:
            await users.add_user(s, "kora", "Kora", "koordinator", [], "sandi-koordinator-1", "test")
            await s.commit()
        with chromium() as driver:
            seen = await asyncio.to_thread(citizen_files, driver, base, shots)
        ref, link = seen["ref"], seen["link"]
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            api = link.replace("/status/", "/api/v1/complaints/")
            ticket = None
            for _ in range(200):  # the router routes it
                async with http.get(api) as r:
                    ticket = (await r.json()).get("ticket")
                if ticket:
                    break
                await asyncio.sleep(0.1)
            async with http.post(base + "/api/v1/session", json={"login": "kora", "password": "sandi-koordinator-1"}) as r:
                csrf = (await r.json())["csrf"]
            async with http.get(f"{base}/api/v1/tickets/{ticket}") as r:
                doc = await r.json()
            async with http.post(f"{base}/api/v1/tickets/{ticket}/reply", json={"text": ANSWER},
                                 headers={"X-CSRF-Token": csrf}) as r:
                assert r.status == 201
        with chromium() as other:  # another browser: no local storage from the form
            phone = await asyncio.to_thread(status_page, other, link, shots, 412, "citizen-status-phone.png")
            desktop = await asyncio.to_thread(status_page, other, link, shots, 1366, "citizen-status-desktop.png")
            wrong = await asyncio.to_thread(status_page, other, link[:-3] + "xyz", shots, 412, "citizen-status-wrong.png")
            pasted = await asyncio.to_thread(paste_link, other, base, link)
    finally:
        await daemon.stop()
    assert seen["error"] == "Laporan belum terkirim: Nomor HP tidak valid (contoh: 0812 3456 7890)."
    assert seen["error_hidden"] and ref.startswith("ADU-") and ref in seen["ack"]
    assert link.startswith(f"{base}/status/{ref}?akses=") and len(link) > len(base) + 40 and seen["readonly"]
    assert doc["case"]["location"] == {"text": "Jl. Pemuda depan SDN 3, Kel. Sekayu"}
    assert doc["complaints"][0]["location"] == {"text": "Jl. Pemuda depan SDN 3, Kel. Sekayu"}
    for page in (phone, desktop):
        assert f"Status Aduan {ref}" in page["text"] and ANSWER in page["text"] and "0812" not in page["text"]
    for scroll, width in (phone["scroll"], seen["phone_form"]):
        assert width <= 420 and scroll <= width, (scroll, width)
    assert "tidak ditemukan dengan tautan ini" in wrong["text"] and ANSWER not in wrong["text"]
    assert ANSWER in pasted

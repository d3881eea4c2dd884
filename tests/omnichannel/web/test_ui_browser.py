"""A citizen files a complaint from the web page in headless Chromium and checks its status."""

from __future__ import annotations

import asyncio

from omnichannel.daemon import Daemon
from tests.browser import chromium, shipped_config
from tests.omnichannel.helpers import minimal_config


def fill_and_submit(driver, base: str, shot: str) -> tuple[str, str]:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(base + "/")
    assert "Sampaikan Aduan" in driver.page_source
    driver.find_element(By.ID, "text").send_keys("Lampu jalan di Jl. Pandanaran mati total sejak Senin, gelap sekali")
    driver.find_element(By.ID, "phone").send_keys("0812 3456 7890")
    driver.find_element(By.ID, "kirim").click()
    done = WebDriverWait(driver, 20).until(ec.visibility_of_element_located((By.ID, "hasil")))
    ack = done.text
    ref = next(word.strip(".,") for word in ack.split() if word.startswith("ADU-"))
    driver.find_element(By.ID, "ref").send_keys(ref.lower())
    driver.find_element(By.ID, "cek-tombol").click()
    status = WebDriverWait(driver, 20).until(ec.visibility_of_element_located((By.ID, "status"))).text
    driver.save_screenshot(shot)
    return ack, status


async def test_citizen_files_a_complaint_in_the_browser(tmp_path):
    daemon = Daemon(minimal_config(tmp_path))
    await daemon.start()
    try:
        with chromium() as driver:
            base = f"http://127.0.0.1:{daemon.http_port}"
            ack, status = await asyncio.to_thread(fill_and_submit, driver, base, str(tmp_path / "form.png"))
        assert "diterima" in ack and "ADU-" in ack
        assert status.startswith("Status ADU-") and "0812" not in status
    finally:
        await daemon.stop()


def officer_session(driver, base: str, password: str, shot: str) -> dict[str, str]:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, 20)
    driver.get(base + "/petugas")
    wait.until(ec.visibility_of_element_located((By.ID, "login"))).send_keys("pupr1")
    driver.find_element(By.ID, "sandi").send_keys("wrong-password")
    driver.find_element(By.ID, "tombol-masuk").click()
    refused = wait.until(ec.visibility_of_element_located((By.ID, "galat-masuk"))).text
    driver.find_element(By.ID, "sandi").clear()
    driver.find_element(By.ID, "sandi").send_keys(password)
    driver.find_element(By.ID, "tombol-masuk").click()
    row = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "li.tiket")))
    listing = driver.find_element(By.ID, "baris").text
    row.click()
    wait.until(ec.visibility_of_element_located((By.ID, "rincian")))
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#aduan .kartu"))
    detail = driver.find_element(By.ID, "rincian").text
    driver.find_element(By.ID, "tanggapan").send_keys("Lubang sudah kami tambal pagi ini. Terima kasih laporannya.")
    driver.find_element(By.ID, "kirim-tanggapan").click()
    info = wait.until(ec.visibility_of_element_located((By.ID, "info"))).text
    driver.find_element(By.CSS_SELECTOR, "button[data-status=selesai]").click()
    wait.until(ec.alert_is_present()).accept()  # it notifies every citizen: asked first
    wait.until(lambda d: "selesai" in d.find_element(By.ID, "judul-tiket").text)
    driver.save_screenshot(shot)
    return {"refused": refused, "listing": listing, "detail": detail, "info": info,
            "title": driver.find_element(By.ID, "judul-tiket").text}


async def test_officer_answers_and_closes_a_ticket_in_the_inbox(tmp_path):


    config = shipped_config(tmp_path, OMNICHANNEL_RATE_LIMITS="false")
    config.daemon.router_interval = 0.2
    daemon = Daemon(config)
    await daemon.start()
    try:
        from omnichannel import users

        async with daemon.store.session() as s:
            await users.add_user(s, "pupr1", "Petugas PUPR", "petugas", ["pupr"], "sandi-petugas-pupr", "test")
            await s.commit()
        base = f"http://127.0.0.1:{daemon.http_port}"
        import aiohttp

        async with aiohttp.ClientSession() as http:
            resp = await http.post(f"{base}/api/v1/complaints", json={
                "text": "Jalan berlubang besar di Jl. Setiabudi depan pasar, sudah dua motor jatuh", "name": "Ani",
                "email": "ani@example.id"})
            status_url = base + (await resp.json())["status_url"]
            for _ in range(100):
                async with http.get(status_url) as r:
                    if (await r.json()).get("ticket"):
                        break
                await asyncio.sleep(0.1)
        with chromium() as driver:
            seen = await asyncio.to_thread(officer_session, driver, base, "sandi-petugas-pupr",
                                           str(tmp_path / "inbox.png"))
        assert "Tidak bisa masuk" in seen["refused"]
        assert "TIK-" in seen["listing"] and "pengaduan" in seen["listing"]
        assert "Jalan berlubang besar" in seen["detail"]
        assert "Tanggapan disimpan" in seen["info"]
        assert "selesai" in seen["title"]
        async with aiohttp.ClientSession() as http, http.get(status_url) as r:
            assert (await r.json())["status"] == "selesai"
    finally:
        await daemon.stop()

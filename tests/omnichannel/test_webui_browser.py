"""A citizen files a complaint from the web page in headless Chromium and checks its status."""

from __future__ import annotations

import asyncio

from omnichannel.daemon import Daemon
from tests.browser import chromium
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

"""A rejection reason and a reopening reach the citizen on their own channel (the Telegram sandbox), each after
a confirmation in the page that says the citizens will be told, and the page confirms how many were told."""

from __future__ import annotations

import asyncio
from pathlib import Path
from textwrap import dedent

from omnichannel import users
from omnichannel.config import parse_config
from omnichannel.daemon import Daemon
from omnichannel.sandbox.telegram import TelegramSandbox
from tests.browser import artefacts, chromium, sign_in
from tests.conftest import free_port

PASSWORD = "sandi-koordinator-1"
REASON = "Jalan Merdeka adalah jalan provinsi; mohon laporkan ke UPT Provinsi."


def reject_then_reopen(driver, base: str, shots: Path, sent) -> dict:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    seen: dict = {}
    wait = WebDriverWait(driver, 30)
    sign_in(driver, base, "kora", PASSWORD)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#baris li.tiket")).__getitem__(0).click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#aduan .kartu"))
    driver.find_element(By.CSS_SELECTOR, "button[data-status=ditolak]").click()
    seen["empty_reason"] = wait.until(ec.visibility_of_element_located((By.ID, "galat"))).text  # asked first
    driver.find_element(By.ID, "tanggapan").send_keys(REASON)
    driver.find_element(By.CSS_SELECTOR, "button[data-status=ditolak]").click()
    alert = wait.until(ec.alert_is_present())
    seen["confirm_reject"] = alert.text
    alert.accept()
    wait.until(lambda d: d.find_element(By.ID, "info").is_displayed())
    seen["info_reject"] = driver.find_element(By.ID, "info").text
    seen["info_in_view"] = driver.execute_script(
        "const r = document.getElementById('info').getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight")
    driver.save_screenshot(str(shots / "desk-reject-told-desktop.png"))
    wait.until(lambda d: len(sent()) >= 2)  # the acknowledgement, then the rejection
    driver.find_element(By.CSS_SELECTOR, "button[data-status=diproses]").click()
    alert = wait.until(ec.alert_is_present())
    seen["confirm_reopen"] = alert.text
    alert.dismiss()  # changed her mind: nothing happens
    seen["after_dismiss"] = driver.find_element(By.ID, "judul-tiket").text
    driver.find_element(By.CSS_SELECTOR, "button[data-status=diproses]").click()
    wait.until(ec.alert_is_present()).accept()
    wait.until(lambda d: "diproses" in d.find_element(By.ID, "judul-tiket").text)
    wait.until(lambda d: "diproses" in d.find_element(By.ID, "info").text)
    seen["info_reopen"] = driver.find_element(By.ID, "info").text
    driver.set_window_size(412, 900)
    driver.save_screenshot(str(shots / "desk-reopen-told-phone.png"))
    return seen


async def test_rejection_and_reopening_reach_the_citizen_on_telegram(tmp_path):
    shots = artefacts(tmp_path)
    port = free_port()
    async with TelegramSandbox() as tg:
        config = parse_config(dedent(f"""
            data_dir: {tmp_path}/data
            http: {{host: 127.0.0.1, port: {port}}}
            daemon: {{router_interval: 0.2, shutdown_deadline: 5}}
            connectors:
              - {{name: tg, kind: telegram, token: "${{TG_TOKEN}}", base_url: "{tg.base_url}",
                  long_poll_timeout: 0, poll_interval: 0.3}}
            """), env={"TG_TOKEN": tg.token})
        daemon = Daemon(config)
        await daemon.start()
        try:
            async with daemon.store.session() as s:
                await users.add_user(s, "kora", "Kora", "koordinator", [], PASSWORD, "test")
                await s.commit()
            tg.say(42, "Jalan berlubang besar di Jl. Merdeka dekat pasar, mohon diperbaiki")
            for _ in range(300):
                if tg.sent:
                    break
                await asyncio.sleep(0.05)
            with chromium() as driver:
                seen = await asyncio.to_thread(reject_then_reopen, driver, f"http://127.0.0.1:{port}", shots,
                                               lambda: list(tg.sent))
            for _ in range(300):
                if len(tg.sent) >= 3:
                    break
                await asyncio.sleep(0.05)
        finally:
            await asyncio.wait_for(daemon.stop(), 15)
    texts = [m["text"] for m in tg.sent if m["chat"]["id"] == 42]
    assert "Tuliskan alasan penolakan" in seen["empty_reason"]
    assert "Alasan penolakan akan dikirim ke setiap pelapor" in seen["confirm_reject"]
    assert seen["info_reject"] == "Status diubah menjadi ditolak. 1 pelapor diberi tahu." and seen["info_in_view"]
    assert "Buka kembali tiket ini? Setiap pelapor akan diberi tahu" in seen["confirm_reopen"]
    assert seen["after_dismiss"].endswith("ditolak")
    assert seen["info_reopen"] == "Status diubah menjadi diproses. 1 pelapor diberi tahu."
    assert len(texts) == 3 and "ADU-" in texts[0]
    assert "tidak dapat ditindaklanjuti" in texts[1] and REASON in texts[1]
    assert "dibuka kembali" in texts[2]

"""A citizen files a complaint with a photo through the web form, and the officer sees the photo in the ticket
(headless Chromium). A program disguised as ``foto.jpg`` is refused on the page in Bahasa Indonesia. Screenshots
at 1366 and 412 px are kept in ``$OMNICHANNEL_ARTEFACTS`` (default: the test's temporary directory)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select

from omnichannel.daemon import Daemon
from omnichannel.models import EnvelopeRow, Ticket
from tests.browser import artefacts, chromium, shipped_config, sign_in
from tests.images import EXE, png

PASSWORD = "sandi-petugas-pupr"
TEXT = "Jalan berlubang besar di Jl. Setiabudi depan pasar, sudah dua motor jatuh. Foto terlampir."


def citizen_files_with_a_photo(driver, base: str, photo: Path, disguised: Path, shots: Path) -> dict:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, 20)
    driver.set_window_size(1366, 1000)
    driver.get(base + "/")
    driver.find_element(By.ID, "text").send_keys("Saluran tersumbat, ini fotonya")
    driver.find_element(By.ID, "files").send_keys(str(disguised))
    driver.find_element(By.ID, "kirim").click()
    refused = wait.until(ec.visibility_of_element_located((By.ID, "galat"))).text
    driver.save_screenshot(str(shots / "form-refused-desktop.png"))
    driver.get(base + "/")
    driver.find_element(By.ID, "text").send_keys(TEXT)
    driver.find_element(By.ID, "location").send_keys("Jl. Setiabudi depan Pasar Jatingaleh")
    driver.find_element(By.ID, "files").send_keys(str(photo))
    driver.save_screenshot(str(shots / "form-photo-desktop.png"))
    driver.set_window_size(412, 915)
    driver.save_screenshot(str(shots / "form-photo-phone.png"))
    driver.find_element(By.ID, "kirim").click()
    ack = wait.until(ec.visibility_of_element_located((By.ID, "hasil"))).text
    return {"refused": refused, "ack": ack}


def officer_sees_the_photo(driver, base: str, shots: Path) -> dict:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, 20)
    sign_in(driver, base, "pupr1", PASSWORD)
    driver.set_window_size(1366, 1000)
    wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "li.tiket"))).click()
    thumb = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, "#aduan .lampiran a.foto img")))
    wait.until(lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", thumb))
    seen = {"natural": driver.execute_script("return [arguments[0].naturalWidth, arguments[0].naturalHeight]", thumb),
            "alt": thumb.get_attribute("alt"), "detail": driver.find_element(By.ID, "rincian").text,
            "shown": [thumb.size["width"], thumb.size["height"]]}
    driver.save_screenshot(str(shots / "desk-photo-desktop.png"))
    driver.set_window_size(412, 915)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", thumb)
    seen["phone_scroll"] = driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    driver.save_screenshot(str(shots / "desk-photo-phone.png"))
    driver.set_window_size(1366, 1000)
    first = driver.current_window_handle
    thumb.find_element(By.XPATH, "..").click()  # opens the full-size picture in a new tab
    wait.until(lambda d: len(d.window_handles) == 2)
    driver.switch_to.window(next(h for h in driver.window_handles if h != first))
    wait.until(lambda d: d.execute_script("return document.readyState") == "complete")
    seen["full"] = {"type": driver.execute_script("return document.contentType"), "url": driver.current_url,
                    "size": driver.execute_script("const i = document.images[0]; return i && [i.naturalWidth, "
                                                  "i.naturalHeight]")}
    driver.save_screenshot(str(shots / "desk-photo-full.png"))
    return seen


async def test_a_photo_filed_on_the_form_is_shown_to_the_officer(tmp_path):
    shots = artefacts(tmp_path)
    photo, disguised = tmp_path / "jalan-berlubang.png", tmp_path / "foto.jpg"
    photo.write_bytes(png(320, 240, (90, 110, 140)))
    disguised.write_bytes(EXE)
    config = shipped_config(tmp_path, OMNICHANNEL_RATE_LIMITS="false")
    config.daemon.router_interval = 0.2
    daemon = Daemon(config)
    await daemon.start()
    try:
        from omnichannel import users

        async with daemon.store.session() as s:
            await users.add_user(s, "pupr1", "Petugas PUPR", "petugas", ["pupr"], PASSWORD, "test")
            await s.commit()
        base = f"http://127.0.0.1:{daemon.http_port}"
        with chromium() as driver:
            filed = await asyncio.to_thread(citizen_files_with_a_photo, driver, base, photo, disguised, shots)
            for _ in range(200):  # the router makes the ticket
                async with daemon.store.session() as s:
                    ticket = (await s.exec(select(Ticket))).scalars().first()
                if ticket is not None:
                    break
                await asyncio.sleep(0.1)
            assert ticket is not None and ticket.agency == "pupr"
            seen = await asyncio.to_thread(officer_sees_the_photo, driver, base, shots)
        async with daemon.store.session() as s:
            rows = (await s.exec(select(EnvelopeRow))).scalars().all()
    finally:
        await daemon.stop()
    assert "foto.jpg tidak dapat diterima" in filed["refused"] and "Laporan belum terkirim" in filed["refused"]
    assert "ADU-" in filed["ack"]
    (row,) = rows  # the refused submission stored nothing
    (att,) = row.attachments
    assert att["content_type"] == "image/png" and att["filename"] == "jalan-berlubang.png"
    assert (tmp_path / "data" / "attachments" / att["path"]).read_bytes() == photo.read_bytes()
    assert seen["natural"] == [320, 240] and seen["alt"] == "Foto dari pelapor: jalan-berlubang.png"
    assert "Jalan berlubang besar" in seen["detail"]
    assert seen["shown"][0] < 320  # a thumbnail, not the full picture
    assert seen["phone_scroll"][0] <= seen["phone_scroll"][1]
    assert seen["full"]["type"] == "image/png" and seen["full"]["size"] == [320, 240]
    assert seen["full"]["url"].endswith(f"/api/v1/attachments/{row.id}-0")

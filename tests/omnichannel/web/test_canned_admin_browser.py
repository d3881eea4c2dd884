"""The canned replies page (``/petugas/templat``) in headless Chromium: an admin writes a reply for one agency,
an unknown placeholder is caught in Bahasa Indonesia (in the page and by the server), the saved reply is
offered filled in on that agency's tickets; a coordinator reads the page without editing. 1366 and 412 px.
(The server's own refusal of an unknown placeholder: test_desk_api.)"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select

from omnichannel.models import CannedReply
from tests.browser import artefacts, chromium, page_daemon, sign_in
from tests.omnichannel.web.test_desk_browser import PASSWORD, desk_user, no_horizontal_scroll, seed


def log_in_any(driver, base: str, who: str, width: int) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.delete_all_cookies()
    sign_in(driver, base, who, PASSWORD, width)
    WebDriverWait(driver, 20).until(lambda d: d.find_element(By.ID, "siapa").text)


def admin_edits(driver, base: str, shots: Path) -> dict:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select, WebDriverWait

    seen: dict = {}
    wait = WebDriverWait(driver, 20)
    driver.get(base + "/petugas/templat")
    seen["anonymous"] = wait.until(ec.visibility_of_element_located((By.ID, "perlu-masuk"))).text
    log_in_any(driver, base, "adm", 1366)
    seen["link"] = driver.find_element(By.ID, "ke-templat").is_displayed()
    driver.find_element(By.ID, "ke-templat").click()
    wait.until(ec.visibility_of_element_located((By.ID, "instansi")))
    Select(driver.find_element(By.ID, "instansi")).select_by_value("pupr")
    wait.until(lambda d: d.find_element(By.ID, "kosong").is_displayed())
    driver.find_element(By.ID, "baru").click()
    driver.find_element(By.ID, "nama").send_keys("survei-lokasi")
    driver.find_element(By.ID, "teks").send_keys("Tiket {ref}: petugas {nama_dinas} akan survei sebelum ")
    seen["unknown"] = wait.until(ec.visibility_of_element_located((By.ID, "galat-isian"))).text
    seen["save_disabled"] = not driver.find_element(By.ID, "simpan").is_enabled()
    driver.save_screenshot(str(shots / "canned-unknown-desktop.png"))
    box = driver.find_element(By.ID, "teks")
    box.clear()
    box.send_keys("Tiket ")
    driver.find_element(By.CSS_SELECTOR, ".sisip[data-isian=ref]").click()
    box.send_keys(": petugas ")
    driver.find_element(By.CSS_SELECTOR, ".sisip[data-isian=nama_instansi]").click()
    box.send_keys(" akan survei sebelum ")
    driver.find_element(By.CSS_SELECTOR, ".sisip[data-isian=batas_waktu]").click()
    box.send_keys(".")
    wait.until(lambda d: not d.find_element(By.ID, "galat-isian").is_displayed())
    seen["preview"] = driver.find_element(By.ID, "pratinjau").text
    driver.find_element(By.ID, "simpan").click()
    wait.until(lambda d: d.find_element(By.ID, "info").is_displayed())
    seen["saved"] = driver.find_element(By.ID, "info").text
    seen["listed"] = [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#daftar li")]
    driver.save_screenshot(str(shots / "canned-saved-desktop.png"))
    driver.set_window_size(412, 900)
    seen["phone"] = no_horizontal_scroll(driver)
    driver.save_screenshot(str(shots / "canned-phone.png"))

    log_in_any(driver, base, "kora", 1366)  # a coordinator reads, does not edit
    driver.get(base + "/petugas/templat")
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#daftar li") or d.find_element(By.ID, "kosong").is_displayed())
    Select(driver.find_element(By.ID, "instansi")).select_by_value("pupr")
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#daftar li"))
    driver.find_element(By.CSS_SELECTOR, "#daftar li").click()
    seen["kora_readonly"] = (driver.find_element(By.ID, "hanya-baca").is_displayed(),
                             driver.find_element(By.ID, "teks").get_attribute("readonly") is not None,
                             driver.find_element(By.ID, "simpan").is_enabled(), driver.find_element(By.ID, "baru").is_displayed())

    log_in_any(driver, base, "ani", 1366)  # the officer uses it on a pupr ticket
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#baris li.tiket"))
    first = driver.find_elements(By.CSS_SELECTOR, "#baris li.tiket")[0]
    ref = first.get_attribute("data-ref")
    first.click()
    wait.until(ec.visibility_of_element_located((By.ID, "templat")))
    Select(driver.find_element(By.ID, "templat")).select_by_value("survei-lokasi")
    seen["filled"] = (ref, driver.find_element(By.ID, "tanggapan").get_attribute("value"))
    return seen


async def test_an_admin_edits_canned_replies_in_the_page(tmp_path):
    shots = artefacts(tmp_path)
    async with page_daemon(tmp_path, seed) as (daemon, base):
        async with daemon.store.session() as s:
            s.add(desk_user("adm", "Admin Kota", "admin"))
            await s.commit()
        with chromium() as driver:
            seen = await asyncio.to_thread(admin_edits, driver, base, shots)
        async with daemon.store.session() as s:
            rows = (await s.exec(select(CannedReply))).scalars().all()
    assert "masuk di Meja Petugas" in seen["anonymous"] and seen["link"]
    assert seen["unknown"] == ("Isian tidak dikenal: {nama_dinas}. Yang boleh dipakai: {ref}, {nama_instansi}, "
                               "{batas_waktu}.") and seen["save_disabled"]
    assert seen["preview"].startswith("Tiket TIK-2026-000123: petugas Dinas Pekerjaan Umum dan Penataan Ruang akan "
                                      "survei sebelum ") and seen["preview"].endswith(" WIB.")
    assert 'Templat "survei-lokasi" disimpan' in seen["saved"] and seen["listed"][0].startswith("survei-lokasi")
    assert [(r.agency, r.name, r.updated_by) for r in rows] == [("pupr", "survei-lokasi", "user:adm")]
    assert rows[0].text == "Tiket {ref}: petugas {nama_instansi} akan survei sebelum {batas_waktu}."
    scroll, width = seen["phone"]
    assert width <= 420 and scroll <= width, (scroll, width)
    assert seen["kora_readonly"] == (True, True, False, False)
    ref, filled = seen["filled"]
    assert filled.startswith(f"Tiket {ref}: petugas Dinas Pekerjaan Umum dan Penataan Ruang akan survei sebelum ")
    assert filled.endswith(" WIB.") and "{" not in filled

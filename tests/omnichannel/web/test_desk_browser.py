"""The officers' desk in headless Chromium with 200 tickets: log in and out, lockout, filter, search, keyboard,
assign, note, reassign, and a phone-width layout without horizontal scrolling. Screenshots are kept in
``$OMNICHANNEL_ARTEFACTS`` (default: the test's temporary directory)."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from pathlib import Path

from argon2 import PasswordHasher

from omnichannel import search
from omnichannel.models import Case, Complaint, Counter, Ticket, User
from omnichannel.types import utcnow
from tests.browser import artefacts, chromium, page_daemon, sign_in

PASSWORD = "sandi-yang-cukup-panjang"
CHANNELS = ("telegram", "whatsapp", "x", "email", "webform")
PLACES = ("Jl. Pandanaran depan SMA 1", "Kel. Pleburan RT 03/RW 02", "Pasar Johar blok B", None)
TEXTS = ("Lampu penerangan jalan mati sejak tiga hari, gelap dan rawan", "Jalan berlubang dalam, sudah ada motor jatuh",
         "Sampah menumpuk di pinggir sungai dan berbau", "Air PDAM keruh sejak pagi")


BASE = 5000  # ids and refs clear of whatever the daemon made at start


def desk_user(login: str, name: str, role: str, agencies: list[str] | None = None) -> User:
    """An account that signs in to the desk with ``PASSWORD``."""
    return User(login=login, name=name, role=role, agencies=agencies or [], password_hash=PasswordHasher().hash(PASSWORD))


async def seed(store, n: int = 200) -> None:
    """``n`` tickets (three of four for pupr, the rest dinkes) with mixed deadlines, channels and places."""
    now = utcnow()
    async with store.session() as s:
        s.add_all([desk_user("kora", "Kora Wibowo", "koordinator"),
                   desk_user("ani", "Ani Lestari", "petugas", ["pupr"]),
                   desk_user("budi", "Budi Santoso", "petugas", ["dinkes"])])
        for i in range(1, n + 1):
            place = PLACES[i % len(PLACES)]
            text = TEXTS[i % len(TEXTS)] + f" (laporan {i})"
            if i == 7:
                text = "Gorong-gorong tersumbat di depan rumah nomor 12, air meluap ke jalan"
            s.add(Case(id=BASE + i, ref=f"KAS-2026-{BASE + i:06d}", title=None if i % 3 else text[:60],
                       location={"text": place} if place else None, complaint_count=1, reporter_count=1 + i % 4,
                       created_at=now - timedelta(hours=i * 3)))
        await s.flush()
        for i in range(1, n + 1):
            text = "Gorong-gorong tersumbat di depan rumah nomor 12, air meluap ke jalan" if i == 7 else \
                TEXTS[i % len(TEXTS)] + f" (laporan {i})"
            agency = "dinkes" if i % 4 == 0 else "pupr"
            s.add(Complaint(id=BASE + i, ref=f"ADU-2026-{BASE + i:06d}", connector="web",
                            channel=CHANNELS[i % len(CHANNELS)], text=text, status="routed", case_id=BASE + i, agency=agency, kind="pengaduan",
                            created_at=now - timedelta(hours=i * 3)))
            s.add(Ticket(id=BASE + i, ref=f"TIK-2026-{BASE + i:06d}", case_id=BASE + i, agency=agency, kind="pengaduan",
                         sla_due=now + timedelta(hours=(i % 9) * 12 - 30), created_at=now - timedelta(hours=i * 3)))
        counter = await s.get(Counter, "ticket")
        if counter is None:
            s.add(Counter(name="ticket", value=BASE + n))
        else:
            counter.value = max(counter.value, BASE + n)
            s.add(counter)
        await s.commit()
    await search.flush(store)  # the daemon indexes in the background; the test searches at once


def no_horizontal_scroll(driver) -> tuple[int, int]:
    return driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")


def desk_session(driver, base: str, shots: Path) -> dict:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select, WebDriverWait

    seen: dict = {}
    wait = WebDriverWait(driver, 20)
    keys = ActionChains(driver)
    rows = lambda: driver.find_elements(By.CSS_SELECTOR, "#baris li.tiket")  # noqa: E731

    def info_text() -> str:
        return driver.find_element(By.ID, "info").text

    def settle(predicate) -> None:
        try:
            wait.until(lambda d: predicate())
        except Exception as exc:
            driver.save_screenshot(str(shots / "desk-failure.png"))
            raise AssertionError("page never settled; it shows:\n" + driver.find_element(By.TAG_NAME, "body").text) from exc

    driver.set_window_size(1280, 900)
    driver.get(base + "/petugas")
    wait.until(ec.visibility_of_element_located((By.ID, "login"))).send_keys("kora")
    driver.find_element(By.ID, "sandi").send_keys("salah-salah-salah")
    driver.find_element(By.ID, "tombol-masuk").click()
    seen["refused"] = wait.until(ec.visibility_of_element_located((By.ID, "galat-masuk"))).text
    driver.find_element(By.ID, "sandi").clear()
    driver.find_element(By.ID, "sandi").send_keys(PASSWORD)
    driver.find_element(By.ID, "tombol-masuk").click()
    settle(lambda: len(rows()) == 50)
    seen["who"] = driver.find_element(By.ID, "siapa").text
    seen["count"] = driver.find_element(By.ID, "jumlah").text
    seen["first_row"] = rows()[0].text
    seen["badges"] = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".lencana.terlambat, .lencana.hampir")]
    driver.save_screenshot(str(shots / "desk-queue-desktop.png"))
    driver.find_element(By.ID, "berikutnya").click()
    settle(lambda: driver.find_element(By.ID, "jumlah").text.startswith("51–"))
    seen["badges"] += [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".lencana.terlambat, .lencana.hampir")]

    Select(driver.find_element(By.ID, "f-instansi")).select_by_value("dinkes")
    settle(lambda: driver.find_element(By.ID, "jumlah").text.startswith("1–") and rows())
    seen["dinkes_rows"] = [r.text for r in rows()]
    Select(driver.find_element(By.ID, "f-instansi")).select_by_value("")
    driver.find_element(By.ID, "cari").send_keys("gorong")
    settle(lambda: len(rows()) == 1)
    seen["search"] = rows()[0].text
    driver.find_element(By.ID, "cari").clear()
    driver.find_element(By.ID, "cari").send_keys(Keys.ESCAPE)
    driver.find_element(By.ID, "saring").submit()
    settle(lambda: len(rows()) == 50)

    third = rows()[2].get_attribute("data-ref")
    keys.send_keys("j").send_keys("j").perform()
    settle(lambda: "pilih" in rows()[2].get_attribute("class"))
    keys.send_keys("k").send_keys("j").send_keys(Keys.ENTER).perform()
    settle(lambda: driver.find_element(By.ID, "judul-tiket").text.startswith(third))
    seen["opened"] = (third, driver.find_element(By.ID, "judul-tiket").text)
    keys.send_keys("?").perform()
    seen["help"] = wait.until(ec.visibility_of_element_located((By.ID, "bantuan"))).text
    keys.send_keys(Keys.ESCAPE).perform()
    wait.until(ec.invisibility_of_element_located((By.ID, "bantuan")))

    driver.find_element(By.ID, "ambil").click()
    settle(lambda: "ditugaskan kepada Anda" in driver.find_element(By.ID, "info").text)
    seen["assignee"] = driver.find_element(By.ID, "penanggung").text
    driver.find_element(By.ID, "catatan").send_keys("Sudah koordinasi dengan lurah, menunggu jadwal survei")
    driver.find_element(By.ID, "simpan-catatan").click()
    settle(lambda: "Catatan internal disimpan" in driver.find_element(By.ID, "info").text)
    seen["history"] = driver.find_element(By.ID, "riwayat").text
    driver.save_screenshot(str(shots / "desk-ticket-desktop.png"))
    colleagues = Select(driver.find_element(By.ID, "rekan"))
    seen["colleagues"] = [o.text for o in colleagues.options[1:]]
    colleagues.select_by_index(1)
    settle(lambda: "Tiket ditugaskan kepada" in info_text())
    seen["reassigned_to"] = driver.find_element(By.ID, "penanggung").text

    driver.set_window_size(412, 900)
    seen["phone_ticket"] = no_horizontal_scroll(driver)
    driver.save_screenshot(str(shots / "desk-ticket-phone.png"))
    Select(driver.find_element(By.ID, "alih-instansi")).select_by_value("dlh")
    driver.find_element(By.ID, "alih-alasan").send_keys("Sampah sungai kewenangan DLH")
    driver.find_element(By.ID, "alih-tombol").click()
    wait.until(ec.alert_is_present()).accept()
    settle(lambda: "tiket baru" in driver.find_element(By.ID, "info").text)
    seen["reassigned"] = driver.find_element(By.ID, "info").text
    seen["new_title"] = driver.find_element(By.ID, "judul-tiket").text
    driver.find_element(By.ID, "kembali").click()
    settle(lambda: driver.find_element(By.ID, "daftar").is_displayed())
    seen["phone_queue"] = no_horizontal_scroll(driver)
    driver.save_screenshot(str(shots / "desk-queue-phone.png"))

    driver.set_window_size(1280, 900)
    driver.find_element(By.ID, "keluar").click()
    wait.until(ec.visibility_of_element_located((By.ID, "masuk")))
    driver.get(base + "/petugas")  # the session is gone on the server, not only in the page
    wait.until(ec.visibility_of_element_located((By.ID, "login")))
    for _ in range(5):
        driver.find_element(By.ID, "login").clear()
        driver.find_element(By.ID, "login").send_keys("ani")
        driver.find_element(By.ID, "sandi").clear()
        driver.find_element(By.ID, "sandi").send_keys("bukan-sandinya")
        driver.find_element(By.ID, "tombol-masuk").click()
        settle(lambda: driver.find_element(By.ID, "galat-masuk").is_displayed())
        seen["lockout"] = driver.find_element(By.ID, "galat-masuk").text
        driver.execute_script("document.getElementById('galat-masuk').hidden = true")
    driver.find_element(By.ID, "sandi").clear()
    driver.find_element(By.ID, "sandi").send_keys(PASSWORD)
    driver.find_element(By.ID, "tombol-masuk").click()
    settle(lambda: driver.find_element(By.ID, "galat-masuk").is_displayed())
    seen["locked_right_password"] = driver.find_element(By.ID, "galat-masuk").text
    driver.save_screenshot(str(shots / "desk-locked.png"))
    return seen


async def test_officers_desk_in_chromium(tmp_path):
    shots = artefacts(tmp_path)
    async with page_daemon(tmp_path, seed) as (_, base):
        with chromium() as driver:
            seen = await asyncio.to_thread(desk_session, driver, base, shots)
    assert "salah" in seen["refused"]
    assert seen["who"].startswith("Kora Wibowo") and seen["count"].startswith("1–50 dari ")
    assert "terlambat" in seen["badges"] and "hampir jatuh tempo" in seen["badges"]
    assert "pelapor" in seen["first_row"] and "umur" in seen["first_row"] and "tenggat" in seen["first_row"]
    assert seen["dinkes_rows"] and all("dinkes" in r for r in seen["dinkes_rows"])
    assert f"TIK-2026-{BASE + 7:06d}" in seen["search"] and "Gorong-gorong" in seen["search"]
    assert seen["opened"][1].startswith(seen["opened"][0])
    assert "Pintasan papan ketik" in seen["help"]
    assert seen["assignee"] == "Kora Wibowo"
    # the picker offers the one officer of the ticket's agency (pupr: Ani, dinkes: Budi), never the other
    assert len(seen["colleagues"]) == 1 and seen["colleagues"][0] in ("Ani Lestari (petugas)", "Budi Santoso (petugas)")
    assert seen["reassigned_to"] == seen["colleagues"][0].split(" (")[0]
    assert "Catatan: Sudah koordinasi dengan lurah" in seen["history"] and "Kora Wibowo" in seen["history"]
    for scroll, width in (seen["phone_ticket"], seen["phone_queue"]):
        assert width <= 420 and scroll <= width, (scroll, width)
    new = re.search(r"tiket baru (TIK-2026-\d+) untuk dlh", seen["reassigned"])
    assert new and int(new.group(1)[-6:]) > BASE + 200 and seen["new_title"].startswith(new.group(1))
    assert "dikunci" in seen["lockout"] and "dikunci" in seen["locked_right_password"]


def officer_rejects_with_a_canned_reason(driver, base: str, shots: Path) -> dict:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select, WebDriverWait

    wait = WebDriverWait(driver, 20)
    seen: dict = {}
    sign_in(driver, base, "ani", PASSWORD, 1280)
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#baris li.tiket")) == 50)
    seen["instansi_hidden"] = not driver.find_element(By.ID, "f-instansi").is_displayed()
    seen["refs"] = [r.get_attribute("data-ref") for r in driver.find_elements(By.CSS_SELECTOR, "#baris li.tiket")]
    first = driver.find_elements(By.CSS_SELECTOR, "#baris li.tiket")[0]
    ref = first.get_attribute("data-ref")
    first.click()
    wait.until(lambda d: d.find_element(By.ID, "judul-tiket").text.startswith(ref))
    wait.until(ec.visibility_of_element_located((By.ID, "templat")))
    Select(driver.find_element(By.ID, "templat")).select_by_value("bukan-kewenangan")
    seen["filled"] = driver.find_element(By.ID, "tanggapan").get_attribute("value")
    driver.find_element(By.CSS_SELECTOR, "button[data-status=ditolak]").click()
    alert = wait.until(ec.alert_is_present())
    seen["confirm"] = alert.text
    alert.accept()
    wait.until(lambda d: "ditolak" in d.find_element(By.ID, "judul-tiket").text)
    wait.until(lambda d: "ditolak" in d.find_element(By.ID, "riwayat").text)
    seen["history"] = driver.find_element(By.ID, "riwayat").text
    seen["ref"] = ref
    driver.save_screenshot(str(shots / "desk-rejected-desktop.png"))
    return seen


async def test_an_officer_sees_own_agency_and_rejects_with_a_canned_reason(tmp_path):
    from omnichannel.models import AuditEvent, CannedReply

    shots = artefacts(tmp_path)
    async with page_daemon(tmp_path, seed) as (daemon, base):
        async with daemon.store.session() as s:
            s.add(CannedReply(agency="pupr", name="bukan-kewenangan", updated_by="user:admin",
                              text="Aduan pada tiket {ref} bukan kewenangan {nama_instansi}; mohon ajukan ke provinsi."))
            await s.commit()
        with chromium() as driver:
            seen = await asyncio.to_thread(officer_rejects_with_a_canned_reason, driver, base, shots)
        async with daemon.store.session() as s:
            from sqlalchemy import select

            event = (await s.exec(select(AuditEvent).where(AuditEvent.subject_ref == seen["ref"],
                                                           AuditEvent.action == "status"))).scalars().one()
    assert seen["instansi_hidden"]  # one agency: no agency filter, no agency on the rows
    assert all((int(ref[-6:]) - BASE) % 4 for ref in seen["refs"])  # every fourth seeded ticket is dinkes's
    reason = f"Aduan pada tiket {seen['ref']} bukan kewenangan Dinas Pekerjaan Umum dan Penataan Ruang; " \
             "mohon ajukan ke provinsi."
    assert seen["filled"] == reason
    assert "Alasan penolakan akan dikirim ke setiap pelapor" in seen["confirm"]
    assert "Ani Lestari" in seen["history"] and "baru → ditolak — " + reason in seen["history"]
    assert (event.actor, event.detail["to"], event.detail["note"]) == ("user:ani", "ditolak", reason)


def officer_splits_then_merges(driver, base: str, shots: Path) -> dict:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, 20)
    info = lambda: driver.find_element(By.ID, "info").text  # noqa: E731
    seen: dict = {}
    sign_in(driver, base, "ani", PASSWORD, 1280)
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#baris li.tiket")) == 50)
    driver.find_element(By.ID, "cari").send_keys("selokan")
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#baris li.tiket")) == 1)
    driver.find_element(By.CSS_SELECTOR, "#baris li.tiket").click()
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".pilih-aduan")) == 3)
    driver.find_element(By.CSS_SELECTOR, "#kelompok summary").click()
    for box in driver.find_elements(By.CSS_SELECTOR, ".pilih-aduan")[1:]:
        box.click()
    driver.find_element(By.ID, "pisah-tombol").click()
    wait.until(ec.alert_is_present()).accept()
    wait.until(lambda d: "dipisah ke kasus" in info())
    seen["split"] = info()
    seen["left"] = len(driver.find_elements(By.CSS_SELECTOR, "#aduan .kartu"))
    driver.find_element(By.ID, "gabung-ke").send_keys(f"KAS-2026-{BASE + 5:06d}")
    driver.find_element(By.ID, "gabung-tombol").click()
    wait.until(ec.alert_is_present()).accept()
    wait.until(lambda d: "digabung ke" in info())
    seen["merge"] = info()
    seen["title"] = driver.find_element(By.ID, "judul-tiket").text
    seen["buttons_off"] = all(not b.is_enabled() for b in driver.find_elements(By.CSS_SELECTOR, "#tombol-status button"))
    seen["regroup_hidden"] = not driver.find_element(By.ID, "kelompok").is_displayed()
    driver.save_screenshot(str(shots / "desk-merged-desktop.png"))
    return seen


async def test_an_officer_splits_and_merges_cases_in_the_page(tmp_path):
    shots = artefacts(tmp_path)
    async with page_daemon(tmp_path, seed) as (daemon, base):
        async with daemon.store.session() as s:  # two more messages on the first case, about something else
            for n, text in ((1001, "Selokan mampet di gang 3, air masuk rumah"), (1002, "Selokan mampet lagi")):
                s.add(Complaint(id=BASE + n, ref=f"ADU-2026-{BASE + n:06d}", connector="web", channel="webform",
                                text=text, status="routed", case_id=BASE + 1, agency="pupr", kind="pengaduan"))
            await s.commit()
        with chromium() as driver:
            seen = await asyncio.to_thread(officer_splits_then_merges, driver, base, shots)
    new_case = re.search(r"2 aduan dipisah ke kasus (KAS-2026-\d+); tiket baru (TIK-2026-\d+)", seen["split"])
    assert new_case and seen["left"] == 1
    assert seen["merge"] == (f"Kasus KAS-2026-{BASE + 1:06d} digabung ke KAS-2026-{BASE + 5:06d}; "
                             f"tiket TIK-2026-{BASE + 1:06d} ditutup sebagai digabung.")
    assert seen["title"].endswith("digabung") and seen["buttons_off"] and seen["regroup_hidden"]

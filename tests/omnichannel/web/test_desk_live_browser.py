"""Live updates in headless Chromium: two officers in two browsers on a queue of 200 tickets. What the
coordinator does (assign, note) appears in Ani's open queue and ticket without a reload and without losing
her selected row; a ticket the router opens shows up as "1 tiket baru". Screenshots at 1366 and 412 px."""

from __future__ import annotations

import asyncio
from pathlib import Path

from omnichannel.models import Case, Complaint, Ticket
from tests.browser import artefacts, chromium, page_daemon, sign_in
from tests.omnichannel.web.test_desk_browser import BASE, PASSWORD, no_horizontal_scroll, seed


def log_in(driver, base: str, who: str, width: int = 1366) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, 20)
    sign_in(driver, base, who, PASSWORD, width)
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#baris li.tiket")) == 50)
    wait.until(lambda d: "pembaruan langsung" in d.find_element(By.ID, "langsung").text)


def two_officers(ani, kora, base: str, shots: Path, router_opens) -> dict:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    seen: dict = {}
    # live updates re-render rows at any moment: an element found a moment ago may be gone, so look again
    wait = WebDriverWait(ani, 20, ignored_exceptions=(StaleElementReferenceException,))

    def read(what):  # what(ani) read from elements found afresh, again if a re-render got in between
        return wait.until(lambda d: (what(d),))[0]

    rows = lambda d: d.find_elements(By.CSS_SELECTOR, "#baris li.tiket")  # noqa: E731
    log_in(ani, base, "ani")
    log_in(kora, base, "kora")
    ani.execute_script("window.tanpaMuatUlang = 'ya'")  # gone if the page reloads
    ActionChains(ani).send_keys("j").send_keys("j").perform()  # Ani's place: the third row
    wait.until(lambda d: "pilih" in rows(d)[2].get_attribute("class"))
    selected = read(lambda d: rows(d)[2].get_attribute("data-ref"))
    target = read(lambda d: rows(d)[4].get_attribute("data-ref"))  # a row Ani sees, that Kora takes
    seen["before"] = read(lambda d: d.find_element(By.ID, "tiket-" + target).text)

    kora.execute_script("bukaTiket(arguments[0])", target)  # Kora opens the ref she was told about
    WebDriverWait(kora, 20).until(lambda d: d.find_element(By.ID, "judul-tiket").text.startswith(target))
    kora.find_element(By.ID, "ambil").click()
    WebDriverWait(kora, 20).until(lambda d: "ditugaskan kepada Anda" in d.find_element(By.ID, "info").text)

    wait.until(lambda d: "Kora Wibowo" in d.find_element(By.ID, "tiket-" + target).text)
    seen["after"] = read(lambda d: d.find_element(By.ID, "tiket-" + target).text)
    seen["still_selected"] = read(
        lambda d: d.find_element(By.CSS_SELECTOR, "#baris li.tiket.pilih").get_attribute("data-ref") == selected)
    seen["flash"] = read(lambda d: "diperbarui" in d.find_element(By.ID, "tiket-" + target).get_attribute("class"))
    seen["no_reload"] = ani.execute_script("return window.tanpaMuatUlang")
    ani.save_screenshot(str(shots / "desk-live-row-desktop.png"))

    router_opens()  # a new ticket for pupr arrives while Ani works
    wait.until(lambda d: d.find_element(By.ID, "tiket-baru").is_displayed())
    seen["badge"] = read(lambda d: d.find_element(By.ID, "tiket-baru").text)
    ani.save_screenshot(str(shots / "desk-live-badge-desktop.png"))

    # Ani opens the ticket; Kora writes a note on it: Ani's open ticket says so and its history shows it
    wait.until(lambda d: d.find_element(By.ID, "tiket-" + target).click() or True)
    wait.until(lambda d: d.find_element(By.ID, "judul-tiket").text.startswith(target))
    kora.find_element(By.ID, "catatan").send_keys("Sudah saya telepon pelapornya")
    kora.find_element(By.ID, "simpan-catatan").click()
    wait.until(lambda d: d.find_element(By.ID, "diubah-lain").is_displayed())
    seen["notice"] = read(lambda d: d.find_element(By.ID, "diubah-lain").text)
    wait.until(lambda d: "Sudah saya telepon" in d.find_element(By.ID, "riwayat").text)
    ani.set_window_size(412, 900)
    seen["phone"] = no_horizontal_scroll(ani)
    ani.save_screenshot(str(shots / "desk-live-ticket-phone.png"))
    ani.find_element(By.ID, "kembali").click()
    wait.until(lambda d: d.find_element(By.ID, "daftar").is_displayed())
    # Kora's note refreshed the list meanwhile
    seen["badge_later"] = read(lambda d: d.find_element(By.ID, "tiket-baru").text)
    ani.find_element(By.ID, "tiket-baru").click()
    wait.until(lambda d: not d.find_element(By.ID, "tiket-baru").is_displayed())
    seen["top_after_badge"] = read(lambda d: rows(d)[0].get_attribute("data-ref"))
    seen["phone_queue"] = no_horizontal_scroll(ani)
    ani.save_screenshot(str(shots / "desk-live-queue-phone.png"))
    seen["no_reload_end"] = ani.execute_script("return window.tanpaMuatUlang")
    return seen


async def test_one_officers_action_appears_in_another_officers_open_queue(tmp_path):
    shots = artefacts(tmp_path)
    loop = asyncio.get_running_loop()

    async def open_ticket(store) -> None:
        n = BASE + 900
        async with store.session() as s:
            s.add(Case(id=n, ref=f"KAS-2026-{n:06d}", title="Pohon tumbang menutup jalan", complaint_count=1,
                       reporter_count=1))
            await s.flush()
            s.add(Complaint(id=n, ref=f"ADU-2026-{n:06d}", connector="web", channel="webform", status="routed",
                            text="Pohon tumbang menutup jalan", case_id=n, agency="pupr", kind="pengaduan"))
            s.add(Ticket(id=n, ref=f"TIK-2026-{n:06d}", case_id=n, agency="pupr", kind="pengaduan"))
            await s.commit()

    async with page_daemon(tmp_path, seed) as (daemon, base):
        with chromium() as ani, chromium() as kora:
            seen = await asyncio.to_thread(
                two_officers, ani, kora, base, shots,
                lambda: asyncio.run_coroutine_threadsafe(open_ticket(daemon.store), loop).result(30))
    assert "belum ditugaskan" in seen["before"] and "petugas: Kora Wibowo" in seen["after"]
    assert seen["still_selected"] and seen["flash"] and seen["no_reload"] == "ya" == seen["no_reload_end"]
    assert seen["badge"] == seen["badge_later"] == "1 tiket baru — tampilkan"
    assert seen["top_after_badge"] == f"TIK-2026-{BASE + 900:06d}"  # shown newest first
    assert "baru saja diperbarui (catatan oleh kora)" in seen["notice"]
    for scroll, width in (seen["phone"], seen["phone_queue"]):
        assert width <= 420 and scroll <= width, (scroll, width)

"""Reporter contacts in headless Chromium: the owning agency's officer sees the reporter's name, phone (a tel:
link), email and Telegram handle; a PPID of every agency opening the same information request sees them masked,
and the reporter's name in the text masked too. Screenshots at 1366 and 412 px."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from omnichannel.models import Case, Complaint, EnvelopeRow, Identity, Reporter, Ticket
from omnichannel.types import utcnow
from tests.browser import artefacts, chromium, page_daemon, sign_in
from tests.omnichannel.web.test_desk_browser import BASE, PASSWORD, desk_user, no_horizontal_scroll, seed
from tests.omnichannel.web.test_desk_live_browser import log_in

N = BASE + 950
REF = f"TIK-2026-{N:06d}"


async def seed_request(store) -> None:
    """An information request for dinkes from a Telegram user who gave a phone and an email."""
    async with store.session() as s:
        s.add(desk_user("dewi", "Dewi PPID", "ppid"))
        s.add(Reporter(id=N, display_name="Siti Rahmawati"))
        s.add(Case(id=N, ref=f"KAS-2026-{N:06d}", title="Permintaan data imunisasi", complaint_count=1,
                   reporter_count=1, created_at=utcnow()))
        await s.flush()
        raw = {"message": {"from": {"id": 777, "first_name": "Siti", "username": "siti_rahma"}, "text": "x"}}
        s.add(EnvelopeRow(id=N, connector="telegram", channel="telegram", external_id="tg-950", received_at=utcnow(),
                          raw=json.dumps(raw).encode(), reporter_id=N))
        for channel, address in (("telegram", "777"), ("phone", "+6281311112222"), ("email", "siti.r@contoh.id")):
            s.add(Identity(reporter_id=N, channel=channel, address=address, name="Siti Rahmawati"))
        await s.flush()
        s.add(Complaint(id=N, ref=f"ADU-2026-{N:06d}", envelope_id=N, reporter_id=N, connector="telegram",
                        channel="telegram", status="routed", case_id=N, agency="dinkes", kind="informasi",
                        text="Saya Siti Rahmawati, mohon data cakupan imunisasi 2026 per kelurahan"))
        s.add(Ticket(id=N, ref=REF, case_id=N, agency="dinkes", kind="informasi"))
        await s.commit()


def open_request(driver, base: str, who: str, width: int) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, 20)
    sign_in(driver, base, who, PASSWORD, width)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#baris li.tiket"))
    driver.find_element(By.ID, "cari").send_keys("imunisasi")
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#baris li.tiket")) == 1)
    driver.find_element(By.CSS_SELECTOR, "#baris li.tiket").click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#aduan .pelapor"))


def contacts_per_role(driver, base: str, shots: Path) -> dict:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    seen: dict = {}
    for who, width in (("budi", 1366), ("dewi", 1366), ("budi", 412)):
        driver.delete_all_cookies()
        try:
            open_request(driver, base, who, width)
        except Exception as exc:
            driver.save_screenshot(str(shots / "desk-contacts-failure.png"))
            raise AssertionError(f"{who}: " + driver.find_element(By.TAG_NAME, "body").text[:2000]) from exc
        seen[(who, width)] = {
            "line": driver.find_element(By.CSS_SELECTOR, "#aduan .pelapor").text,
            "text": driver.find_element(By.CSS_SELECTOR, "#aduan .kartu").text,
            "tel": [a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, "#aduan .pelapor a")],
            "scroll": no_horizontal_scroll(driver)}
        driver.save_screenshot(str(shots / f"desk-contacts-{who}-{'phone' if width < 500 else 'desktop'}.png"))
    driver.delete_all_cookies()
    log_in(driver, base, "ani")  # pupr: the request is not in her queue, and its ref answers "not found"
    driver.execute_script("bukaTiket(arguments[0])", REF)
    WebDriverWait(driver, 20).until(lambda d: "tidak dapat dibuka" in d.find_element(By.ID, "jumlah").text)
    seen["ani"] = driver.find_element(By.ID, "jumlah").text
    return seen


async def test_contacts_shown_to_the_owner_and_masked_to_others_in_chromium(tmp_path):
    shots = artefacts(tmp_path)
    async with page_daemon(tmp_path, seed, seed_request) as (_, base):
        with chromium() as driver:
            seen = await asyncio.to_thread(contacts_per_role, driver, base, shots)
    owner = seen[("budi", 1366)]
    assert owner["line"].startswith("Pelapor: Siti Rahmawati")
    for part in ("Telp +6281311112222", "Email siti.r@contoh.id", "Telegram @siti_rahma"):
        assert part in owner["line"], owner["line"]
    assert "tel:+6281311112222" in owner["tel"] and "mailto:siti.r@contoh.id" in owner["tel"]
    assert "Saya Siti Rahmawati" in owner["text"]
    masked = seen[("dewi", 1366)]
    assert masked["line"].startswith("Pelapor: S*** R********") and "disamarkan" in masked["line"]
    assert "***********222" in masked["line"] and "s***@contoh.id" in masked["line"] and "@s***" in masked["line"]
    assert masked["tel"] == [] and "Siti" not in masked["text"] and "[NAMA]" in masked["text"]
    scroll, width = seen[("budi", 412)]["scroll"]
    assert width <= 420 and scroll <= width, (scroll, width)
    assert "tidak ditemukan" in seen["ani"]

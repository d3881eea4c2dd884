"""Headless Chromium for page tests (Debian's chromium + chromium-driver), driven by Selenium."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


@contextmanager
def chromium() -> Iterator[object]:
    """A headless Chromium WebDriver, or a skip with the reason."""
    if not CHROMIUM or not CHROMEDRIVER:
        pytest.skip("Chromium and chromedriver are not installed (apt-get install chromium chromium-driver)")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("selenium is not installed (pip install -e '.[dev]')")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="omni-chromium-")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1000,1200"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def artefacts(tmp_path: Path) -> Path:
    """Where a page test keeps its screenshots: $OMNICHANNEL_ARTEFACTS (CI keeps it), else the test's tmp dir."""
    shots = Path(os.environ.get("OMNICHANNEL_ARTEFACTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    return shots


def shipped_config(tmp_path: Path, **env: str) -> Any:
    """The shipped config.yaml with the HTTP port left to the system and the data under ``tmp_path``
    (``env``: more variables, e.g. ``OMNICHANNEL_RATE_LIMITS="false"`` for a test that posts a lot)."""
    from omnichannel.config import parse_config
    from tests.conftest import REPO

    return parse_config((REPO / "config.yaml").read_text(),
                        env={"OMNICHANNEL_HTTP_PORT": "0", "OMNICHANNEL_DATA_DIR": f"{tmp_path}/data", **env})


@asynccontextmanager
async def page_daemon(tmp_path: Path, *seeds: Callable[[Any], Awaitable[None]]) -> AsyncIterator[tuple[Any, str]]:
    """The daemon on ``shipped_config``, started and filled by each of ``seeds(store)``; yields it and its base
    URL, and stops it after the test, whatever happened."""
    from omnichannel.daemon import Daemon

    daemon = Daemon(shipped_config(tmp_path))
    await daemon.start()
    try:
        for seed in seeds:
            await seed(daemon.store)
        yield daemon, f"http://127.0.0.1:{daemon.http_port}"
    finally:
        await daemon.stop()


def sign_in(driver: Any, base: str, who: str, password: str, width: int = 1366) -> None:
    """Open the officers' desk at ``width`` pixels and submit its sign-in form (the caller waits for what follows)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver.set_window_size(width, 900)
    driver.get(base + "/petugas")
    WebDriverWait(driver, 20).until(ec.visibility_of_element_located((By.ID, "login"))).send_keys(who)
    driver.find_element(By.ID, "sandi").send_keys(password)
    driver.find_element(By.ID, "tombol-masuk").click()

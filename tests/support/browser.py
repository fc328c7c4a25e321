"""Debian's Chromium for the browser tests, through Playwright (which never downloads one)."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, NoReturn

import pytest

if TYPE_CHECKING:
    from playwright.async_api import Browser

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def unavailable(reason: str, required_by: str) -> NoReturn:
    """Skip with `reason`, or fail when the environment variable `required_by` is 1 (CI)."""
    if os.environ.get(required_by) == "1":
        pytest.fail(f"{required_by}=1 but {reason}")
    pytest.skip(reason)


def chromium(required_by: str) -> str:
    """The system Chromium's path (skip, or fail when `required_by` is 1, without one)."""
    found = shutil.which("chromium") or (
        "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None
    )
    if found is None:
        unavailable("no Chromium on PATH (apt-get install chromium)", required_by)
    return found


@contextlib.asynccontextmanager
async def launched(required_by: str) -> AsyncIterator[Browser]:
    """The system Chromium (never downloaded), headless, through Playwright; skip, or fail
    when `required_by` is 1, without Playwright or Chromium."""
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install -e '.[dev]')", required_by)
    executable = chromium(required_by)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()

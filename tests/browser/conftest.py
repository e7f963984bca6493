"""One JupyterLab server and one Chromium page for the whole browser session (a full start costs
11-16 s; a further notebook on a warm page 1.4-2.4 s). Any front-end exception fails the test."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import Lab, chromium, jupyter, served

HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE.parent / "artifacts"


@pytest.fixture(scope="session")
def lab_tmp(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("jupyterlab")


@pytest.fixture(scope="session")
def lab_server(lab_tmp):
    with jupyter(HERE / "notebooks", lab_tmp) as server:
        yield server


@pytest.fixture(scope="session")
def lab_root(lab_tmp) -> Path:
    """The folder the lab serves: where a notebook's relative paths (a saved checkpoint) land."""
    return served(lab_tmp)


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """One headless Chromium for the session (Playwright's sync API allows one instance per thread)."""
    with chromium(tmp_path_factory.mktemp("chromium")) as context:
        yield context


@pytest.fixture(scope="session")
def lab_session(lab_server, browser):
    yield Lab(browser.pages[0] if browser.pages else browser.new_page(), *lab_server)


@pytest.fixture
def lab(lab_session):
    """The shared page; the test fails if the front end raised while it ran."""
    lab_session.errors.clear()
    yield lab_session
    errors, lab_session.errors[:] = list(lab_session.errors), []
    assert not errors, "front-end exceptions:\n" + "\n".join(errors)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS

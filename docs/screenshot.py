"""Take docs/composer.png, the README's picture of the composer in JupyterLab, with the browser test
harness: notebooks/composer.ipynb run in a real JupyterLab (a temporary copy, offline) in headless
Chromium. Run it after a change to the composer's look: `.venv/bin/python docs/screenshot.py`."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))

from harness import CURRENT, Lab, chromium, jupyter  # noqa: E402

OUT = ROOT / "docs" / "composer.png"
VIEWPORT = {"width": 1280, "height": 860}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        project = tmp / "project"
        shutil.copytree(ROOT / "notebooks", project / "notebooks",
                        ignore=shutil.ignore_patterns("_out", ".ipynb_checkpoints", "__pycache__"))
        shutil.copytree(ROOT / "examples", project / "examples")
        (tmp / "server").mkdir()
        with jupyter(project, tmp / "server") as (url, token), chromium(tmp / "chromium") as context:
            page = context.pages[0] if context.pages else context.new_page()
            page.set_viewport_size(VIEWPORT)
            lab = Lab(page, url, token)
            lab.open("notebooks/composer.ipynb")
            lab.run_all()
            lab.widget('[aria-label="total parameters"]', timeout=120_000)
            lab.wait_idle()
            lab.command("application:toggle-left-area")  # the file browser: more room for the composer
            page.wait_for_timeout(500)
            # The code cell at the top of the notebook, the composer below it.
            page.locator(f"{CURRENT} .jp-Notebook .jp-Cell").nth(1).evaluate(
                "cell => cell.scrollIntoView({block: 'start'})")
            page.mouse.move(0, 0)
            page.wait_for_timeout(500)
            page.screenshot(path=OUT)
            if lab.errors:
                raise SystemExit("front-end errors:\n" + "\n".join(lab.errors))
    print(f"{OUT.relative_to(ROOT)}: {OUT.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()

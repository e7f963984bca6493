"""Local folders and hub ids for ``pretrained``: fail at once when offline, never retry for 23 s."""

from __future__ import annotations

import functools
import socket
from pathlib import Path
from urllib.parse import urlparse

from composer.errors import SpecError


@functools.cache
def hub_reachable() -> bool:
    """One quick TCP probe of the hub endpoint (cached for the process); False when HF_HUB_OFFLINE."""
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return False
    url = urlparse(constants.ENDPOINT)
    try:
        socket.create_connection((url.hostname, url.port or 443), timeout=1.5).close()
        return True
    except OSError:
        return False


def _looks_like_path(name: str) -> bool:
    # Hub ids are "name" or "org/name"; anything else is meant as a folder.
    return name.startswith((".", "/", "~")) or name.count("/") > 1


def resolve(name: str, where: str, needs: str = "config.json") -> tuple[str, bool]:
    """(what to pass to from_pretrained, local_files_only) for a folder or hub id."""
    path = Path(name).expanduser()
    if path.is_dir():
        if needs and not (path / needs).exists():
            raise SpecError(where, f"{name!r} is a folder without {needs}; give a save_pretrained folder")
        return str(path.resolve()), True
    if _looks_like_path(name) or path.exists():
        raise SpecError(where, f"folder {name!r} does not exist")
    if hub_reachable():
        return name, False
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(name, needs or "config.json")
    if isinstance(cached, str):
        return name, True
    raise SpecError(
        where,
        f"{name!r} is not a local folder and the hub cannot be reached (offline); "
        "give a local save_pretrained folder, or load it once while online",
    )

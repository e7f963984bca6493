"""Local folders and hub ids for ``pretrained``: fail at once when offline, never retry for 23 s."""

from __future__ import annotations

import functools
import os
import socket
from urllib.parse import urlparse

from composer.errors import SpecError, one_line, shown
from composer.paths import checked_path, is_dir


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


def check_hub_id(name: str, where: str) -> None:
    """huggingface_hub's own rules for a repo id, checked before any network call (its
    HFValidationError would otherwise surface as a traceback from deep inside from_pretrained)."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(name)
    except HFValidationError as err:
        reason = one_line(err).replace(f": '{name}'", "")  # the id itself is shown once, bounded
        raise SpecError(where, f"{shown(name)} is not a folder, and not a valid hub id: {reason}") from None


def resolve(name: str, where: str, needs: str = "config.json") -> tuple[str, bool]:
    """(what to pass to from_pretrained, local_files_only) for a folder or hub id."""
    path = checked_path(name, where)
    if is_dir(path):
        if needs and not os.path.exists(path / needs):
            raise SpecError(where, f"{shown(name)} is a folder without {needs}; give a save_pretrained folder")
        return str(path.resolve()), True
    if _looks_like_path(name) or os.path.exists(path):
        raise SpecError(where, f"folder {shown(name)} does not exist")
    check_hub_id(name, where)
    if hub_reachable():
        return name, False
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(name, needs or "config.json")
    if isinstance(cached, str):
        return name, True
    raise SpecError(
        where,
        f"{shown(name)} is not a local folder and the hub cannot be reached (offline); "
        "give a local save_pretrained folder, or load it once while online",
    )

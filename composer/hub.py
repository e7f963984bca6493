"""Local folders and hub ids for ``pretrained``: fail at once when offline, never retry for 23 s, never
run a folder's own code, and read a local folder whole (composer.folder_check) before trusting it."""

from __future__ import annotations

import functools
import os
import socket
from urllib.parse import urlparse

from composer import folder_check
from composer.errors import SpecError, one_line, shown
from composer.paths import checked_path, is_dir

# On every from_pretrained, in the engine and in the exported code: a folder or hub id never runs its own
# code, and transformers never asks whether it may.
NO_REMOTE_CODE = {"trust_remote_code": False}


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


def _blamed(where: str, err: SpecError) -> SpecError:
    """A folder's problem (``config.json: ...``) at the Spec's field that names the folder."""
    return SpecError(where, str(err))


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
    """(what to pass to from_pretrained, local_files_only) for a folder or hub id. A model folder
    (``needs`` config.json) is read whole; any folder or cached hub id asking for its own code is refused."""
    path = checked_path(name, where)
    if is_dir(path):
        if needs and not os.path.exists(path / needs):
            raise SpecError(where, f"{shown(name)} is a folder without {needs}; give a save_pretrained folder")
        try:
            folder_check.read(path) if needs == folder_check.CONFIG else folder_check.read_configs(path)
        except SpecError as err:
            raise _blamed(where, err) from None
        return str(path.resolve()), True
    if _looks_like_path(name) or os.path.exists(path):
        raise SpecError(where, f"folder {shown(name)} does not exist")
    check_hub_id(name, where)
    # A hub id's configs already in the local cache are read now; one fetched later is still safe, as every
    # from_pretrained passes trust_remote_code=False (transformers then refuses the code instead of asking).
    for file in folder_check.JSON_FILES:
        cached = _cached(name, file)
        if cached is not None:
            try:
                folder_check.read_config_file(cached, file)
            except SpecError as err:
                raise SpecError(where, f"{name} {err}") from None
    if hub_reachable():
        return name, False
    if _cached(name, needs or folder_check.CONFIG) is not None:
        return name, True
    raise SpecError(
        where,
        f"{shown(name)} is not a local folder and the hub cannot be reached (offline); "
        "give a local save_pretrained folder, or load it once while online",
    )


def _cached(name: str, file: str) -> str | None:
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(name, file)  # the id was checked (check_hub_id) before this lookup
    return found if isinstance(found, str) else None


def local_folder(name: str):
    """The local pretrained folder, read whole (composer.folder_check.Folder), or None for a hub id."""
    path = checked_path(name, "pretrained")
    if not is_dir(path):
        return None
    try:
        return folder_check.read(path)
    except SpecError as err:
        raise _blamed("pretrained", err) from None

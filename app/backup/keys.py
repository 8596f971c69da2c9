"""The ID-number hash key: never in a backup, but checked on restore.

ID numbers are found through an HMAC under a key kept out of the database (``ID_HASH_KEY``,
else ``$VAR_DIR/id-hash.key``; see ``app.cases.identity``).  A backup records only a
fingerprint of it; a restore under another key (or none) would leave every ID search empty
without any error, so it is refused unless the operator says otherwise.
"""

from __future__ import annotations

import hashlib
import hmac

from app.cases.identity import existing_key

_CHECK = b"bianmin backup: id hash key fingerprint"


def id_key() -> bytes | None:
    """The key ``app.cases.identity`` uses, without creating one when there is none."""
    return existing_key()


def fingerprint(key: bytes | None) -> str | None:
    """A short HMAC of a fixed text under ``key`` (it reveals nothing about the key)."""
    if key is None:
        return None
    return hmac.new(key, _CHECK, hashlib.sha256).hexdigest()[:16]


def problems(recorded: str | None) -> list[str]:
    """Why this installation's key does not fit a backup taken under ``recorded``."""
    if recorded is None:
        return []
    here = fingerprint(id_key())
    if here is None:
        return [
            "no ID hash key here (ID_HASH_KEY unset, no $VAR_DIR/id-hash.key): install the"
            " old installation's key first, or ID-number searches will find nothing"
        ]
    if here != recorded:
        return [
            "the ID hash key here differs from the one the backup was taken under:"
            " install the old key first, or ID-number searches will find nothing"
        ]
    return []

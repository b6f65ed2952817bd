"""What keeps the workbench safe to run: where it may listen, who may log in, and CSRF tokens.

- It listens on 127.0.0.1 by default; on any other address it refuses to start unless at least one
  moderator login is configured (``workbench.logins``: name -> argon2 hash, never a password).
- Passwords are checked with argon2-cffi; a login lives in a signed session cookie.
- Every state-changing request carries the session's CSRF token: a hidden form field ``csrf_token`` or
  the header ``X-CSRF-Token`` (JSON clients read it from ``GET /api/session``).
"""
from __future__ import annotations

import ipaddress
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ..errors import FactCheckError

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
_hasher = PasswordHasher()
# Verified against when the name is unknown, so a wrong name takes as long as a wrong password.
_UNKNOWN_USER_HASH = _hasher.hash(secrets.token_urlsafe(16))


def is_local(host: str) -> bool:
    """Whether ``host`` is a loopback address (127.0.0.0/8, ::1) or ``localhost``."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_logins(logins: dict[str, str]) -> None:
    """Every configured login must hold an argon2 hash, never a plain password."""
    for name, stored in logins.items():
        if not name.strip():
            raise FactCheckError("workbench.logins: a moderator name is empty")
        if not isinstance(stored, str) or not stored.startswith("$argon2"):
            raise FactCheckError(f"workbench.logins.{name} is not an argon2 hash; make one with "
                                 "`factcheck serve --hash-password` and put that in the config")


def check_bind(host: str, logins: dict[str, str]) -> None:
    """Refuse a non-local address unless moderators must log in."""
    check_logins(logins)
    if not is_local(host) and not logins:
        raise FactCheckError(f"refusing to listen on {host} without a moderator login: anyone on the network could "
                             "read and change the decisions; configure workbench.logins (see `factcheck serve "
                             "--hash-password`) or listen on 127.0.0.1")


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise FactCheckError("a password needs at least 8 characters")
    return _hasher.hash(password)


def verify_login(logins: dict[str, str], name: str, password: str) -> bool:
    stored = logins.get(name)
    try:
        return _hasher.verify(stored or _UNKNOWN_USER_HASH, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def csrf_token(session: dict) -> str:
    """The session's CSRF token, made on first use."""
    token = session.get(CSRF_FIELD)
    if not token:
        token = session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return token


def csrf_valid(session: dict, offered: str | None) -> bool:
    expected = session.get(CSRF_FIELD)
    return bool(expected and offered) and secrets.compare_digest(str(expected), str(offered))

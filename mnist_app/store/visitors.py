"""Who owns what: a visitor's secret, and the two one-way names the store keeps instead of it.

The secret (a resume code, 192 random bits) is what grants anything: going on teaching, deleting one's drawings,
one's runs. Only its holder ever sees it (their page, their browser's cookie). The store keeps
    owner   sha256 of the secret: matched to grant rights, never shown nor exported;
    writer  a short, different hash of it: a public pseudonym that groups a writer's drawings in exports.
Neither can be turned back into the secret, and one cannot be turned into the other.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

SECRET_BYTES = 24  # 192 bits: token_urlsafe's 32 characters
SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{22,64}")  # at least 128 bits of urlsafe base64
OWNER_LENGTH = 64  # sha256 hex
WRITER_LENGTH = 16  # hex: enough to tell writers apart, too short to stand for anything
NOBODY = "nobody"  # the owner of rows from before owners (their ids were public): no secret hashes to it


class ResumeCodeError(ValueError):
    """A resume code that is not one this app hands out (wrong length or characters)."""


def new_secret() -> str:
    """A fresh resume code: 32 urlsafe characters."""
    return secrets.token_urlsafe(SECRET_BYTES)


def check_secret(text: str) -> str:
    """The code as typed, stripped; ResumeCodeError when it cannot be a resume code."""
    code = (text or "").strip()
    if not SECRET_PATTERN.fullmatch(code):
        raise ResumeCodeError("a resume code is 32 letters, digits, '-' or '_', as the app showed it")
    return code


def _hash(purpose: str, text: str) -> str:
    return hashlib.sha256(f"mnist-app {purpose}\0{text}".encode()).hexdigest()


@dataclass(frozen=True)
class Visitor:
    """The store's two names of one secret's holder."""

    owner: str  # OWNER_LENGTH hex: grants rights
    writer: str  # WRITER_LENGTH hex: public

    @classmethod
    def of(cls, secret: str) -> Visitor:
        return cls(owner=_hash("owner", secret), writer=_hash("writer", secret)[:WRITER_LENGTH])


def old_writer(session_id: str) -> str:
    """The pseudonym of a drawing saved under an old public visit id (before owners): one-way, as a writer's."""
    return _hash("old visit", session_id)[:WRITER_LENGTH]

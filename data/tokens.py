"""Token hashing: only the SHA-256 of a token is ever stored."""

from __future__ import annotations

import hashlib


def hash_token(token: str) -> str:
    """Tokens are 256 random bits, so a fast unsalted hash is enough (no dictionary to guess)."""
    return hashlib.sha256(token.encode()).hexdigest()

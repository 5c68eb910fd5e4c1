"""Tracking numbers that are short and easy to read over the phone."""

from __future__ import annotations

import secrets

# No 0/O, 1/I/L, 5/S, 2/Z, 8/B: nothing that sounds or looks like another character.
ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"


def new_number() -> str:
    """Like "K7M-4QX": 25⁶ ≈ 244 million numbers; the database refuses a repeat."""
    letters = "".join(secrets.choice(ALPHABET) for _ in range(6))
    return f"{letters[:3]}-{letters[3:]}"


def normalize_number(text: str) -> str:
    """What a user typed ("k7m4qx", "K7M 4QX") → the stored form ("K7M-4QX")."""
    compact = "".join(char for char in text.upper() if char.isalnum())
    return f"{compact[:3]}-{compact[3:]}" if len(compact) == 6 else text.strip().upper()

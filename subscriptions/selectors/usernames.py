"""Usernames people could mistake for one another: ``admin`` beside ``аdmin`` (Cyrillic а),
``admın`` (dotless ı) or ``ａｄｍｉｎ`` (full-width) looks like one account and is two.

Django stores a username NFKC-normalised (so the full-width one became ``admin`` and then
failed as a duplicate: a 500) and compares it as typed otherwise. Here every name is reduced
to a skeleton, after Unicode's confusable detection (UTS #39): NFKC, case folded, and each
remaining non-ASCII character replaced by the ASCII character Unicode lists it as confusable
with (``confusable-homoglyphs``' copy of confusables.txt). Two names with one skeleton are
one name to a reader, so the second is refused, on the page and on the command line alike.
"""

import unicodedata
from functools import lru_cache

from confusable_homoglyphs import confusables
from django.contrib.auth import get_user_model


@lru_cache(maxsize=4096)
def _ascii_lookalike(char: str) -> str:
    """The ASCII letter or digit Unicode lists ``char`` as confusable with, else ``char``."""
    for glyph in confusables.confusables_data.get(char, ()):
        candidate = glyph["c"].strip("\u200e").casefold()
        if candidate.isascii() and candidate.isalnum():
            return candidate
    return char


def username_skeleton(username: str) -> str:
    folded = unicodedata.normalize("NFKC", username).casefold()
    return "".join(c if c.isascii() else _ascii_lookalike(c) for c in folded)


def username_lookalike(username: str, *, exclude_pk=None) -> str | None:
    """The existing username that ``username`` reads as (itself in another case included), or
    None. One query over every username: the dashboard has tens of people, not millions."""
    skeleton = username_skeleton(username)
    names = get_user_model().objects.values_list("pk", "username")
    for pk, name in names:
        if pk != exclude_pk and username_skeleton(name) == skeleton:
            return name
    return None


def lookalike_message(username: str, existing: str) -> str:
    """The refusal, the same wherever a name is chosen."""
    if username == existing or username.casefold() == existing.casefold():
        return f"Someone named {existing} already exists; choose another username."
    return (
        f"{username} looks like {existing}, who already exists: people could not tell the two "
        "apart. Choose a username that reads differently."
    )

"""Text the database can store: pure logic, no Django.

Postgres refuses NUL in text (psycopg: "A string literal cannot contain NUL") and a lone surrogate (``"\\ud800"``,
which JSON's ``\\u`` escapes can produce) cannot be encoded as UTF-8 at all. Text from outside (a bot's reply, a chat
frame) is checked here before it is saved, so the save cannot fail half-way through a chat.
"""


def unstorable_character_index(text: str) -> int | None:
    """The index of the first character that cannot be stored (NUL or a lone surrogate), or None."""
    found = []
    nul = text.find("\x00")
    if nul >= 0:
        found.append(nul)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        found.append(error.start)
    return min(found) if found else None


def unstorable_text_reason(text: str) -> str | None:
    """Which character cannot be stored and where (safe to show: the character itself is not repeated), or None."""
    index = unstorable_character_index(text)
    if index is None:
        return None
    return f"U+{ord(text[index]):04X} at character {index + 1} cannot be stored (NUL and lone surrogates are refused)."

"""User input quoted back in a message, made safe for a terminal and a log.

A mistyped service name, ticket code or date is worth showing back ("unknown service
"hotch""), but input is untrusted: a 100 KB argument would fill the screen and the
journal, and ANSI escape sequences would recolour or clear the technician's terminal.
:func:`echo` escapes every non-printable character (``\\x1b``, ``\\n``, ``\\x00``) and
cuts the text to a few dozen characters, saying how long it was.
"""

from __future__ import annotations

#: Characters of user input shown in a message; longer input is cut.
ECHO_LIMIT = 40


def echo(value: object, limit: int = ECHO_LIMIT) -> str:
    """``value`` as text fit to quote in a one-line message (see the module docstring).

    Vietnamese letters and other printable characters stay as they are.
    """
    text = str(value)
    shown = "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text[:limit]
    )
    if len(text) > limit:
        shown += f"… ({len(text):,} characters)"
    return shown

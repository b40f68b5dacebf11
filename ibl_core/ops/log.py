"""Log text that cannot forge a log line.

A request path is percent-decoded (``/nope%0aFORGED`` becomes ``/nope`` + newline +
``FORGED``) and header values may carry tabs and bytes 0x80-0xff (read as Latin-1, so
C1 controls such as ``\\x9b``, a terminal's CSI). Written raw, they start a fake record
on a new line or drive the terminal that shows the log. Everything here escapes them
as ``\\xNN`` (``\\uNNNN`` above 0xff), the way Apache and nginx write such bytes.

``escape_control_characters`` is for free text, ``escape_quoted_field`` for a field
between double quotes (gunicorn's access log), where ``"`` and ``\\`` are escaped too
so a value cannot close its field early. ``SingleLineFormatter`` applies the first to
every record's message; ``gunicorn.conf.py`` applies the second to every field of the
access log.
"""

from __future__ import annotations

import logging
import re

_CONTROL = "\x00-\x1f\x7f-\x9f\u2028\u2029"
#: C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
CONTROL_CHARACTERS = re.compile(f"[{_CONTROL}]")
_QUOTED_FIELD_UNSAFE = re.compile(f'[{_CONTROL}"\\\\]')


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in '"\\':
        return "\\" + char
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def escape_control_characters(text: str) -> str:
    """``text`` with every control character written as an escape (one line, inert)."""
    return CONTROL_CHARACTERS.sub(_escape, text)


def escape_quoted_field(text: str) -> str:
    """``text`` made safe between double quotes: controls, ``"`` and ``\\`` escaped."""
    return _QUOTED_FIELD_UNSAFE.sub(_escape, text)


class SingleLineFormatter(logging.Formatter):
    """A ``logging.Formatter`` whose formatted message is always one line.

    Only the message is escaped: a traceback that follows it stays readable on its
    own lines, as every log collector expects.
    """

    def formatMessage(self, record: logging.LogRecord) -> str:
        return escape_control_characters(super().formatMessage(record))

"""Make text from an event safe to encode: lone surrogates become U+FFFD."""

from __future__ import annotations

import re

REPLACEMENT = "\ufffd"
# A high surrogate not followed by a low one, or a low surrogate not preceded by a high one.
# Python strings hold code points, so a valid pair never appears as two surrogates unless it
# came from JSON's "\ud83d\ude00" escapes: keep such pairs (as the character they encode).
_SURROGATE = re.compile("[\ud800-\udfff]")
_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")


def _join_pair(match: re.Match[str]) -> str:
    high, low = match.group()
    return chr(0x10000 + ((ord(high) - 0xD800) << 10) + (ord(low) - 0xDC00))


def safe_text(value: str) -> str:
    """`value` with surrogate pairs joined and unpaired surrogates replaced by U+FFFD.

    json.loads turns the escape "\\ud800" into a lone surrogate, which no UTF-8 encoder accepts;
    a message holding one must still reach Slack. Fast when there is nothing to do.
    """
    if _SURROGATE.search(value) is None:
        return value
    return _SURROGATE.sub(REPLACEMENT, _PAIR.sub(_join_pair, value))

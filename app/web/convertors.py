"""The ``{name:int}`` path convertor, bounded.

Starlette's own ``int`` convertor matches any run of digits and calls ``int()`` on it: a
path with more than 4300 digits (Python's limit for converting a string to an int) raised
``ValueError`` while routing — a 500 instead of the 404 of a missing record.  This one
matches the same paths and reads an absurdly long number as one "too large" value, which
every id check (``app.web.auth.int_param``, range checks) answers with a 404.  Registered on
import of :mod:`app.web`, i.e. before any route module builds its routes.
"""

from __future__ import annotations

from starlette.convertors import IntegerConvertor, register_url_convertor

MAX_DIGITS = 30
TOO_LARGE = 10**MAX_DIGITS  # larger than any id, page or index a view accepts


class BoundedIntegerConvertor(IntegerConvertor):
    def convert(self, value: str) -> int:
        return int(value) if len(value) <= MAX_DIGITS else TOO_LARGE


register_url_convertor("int", BoundedIntegerConvertor())

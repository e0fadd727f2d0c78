"""Which format a scrape response is in, and what a scrape asks for."""

from __future__ import annotations

import enum
from typing import Final


class Format(enum.Enum):
    TEXT_004 = "text/plain"
    OPENMETRICS_1 = "application/openmetrics-text"


CONTENT_TYPE_TEXT: Final = "text/plain; version=0.0.4; charset=utf-8"
CONTENT_TYPE_OPENMETRICS: Final = "application/openmetrics-text; version=1.0.0; charset=utf-8"
SCRAPE_ACCEPT: Final = (
    # Prometheus 3's Accept header for its default scrape_protocols, minus
    # protobuf (not parsed here): OpenMetrics first, UTF-8 names allowed.
    "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,"
    "application/openmetrics-text;version=0.0.1;q=0.5,"
    "text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,"
    "text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
)


def content_type_format(content_type: str | None) -> Format:
    """The format of a scrape response, from its Content-Type.

    ``application/openmetrics-text`` (any version, any case, any parameters) is
    OpenMetrics; everything else, including a missing or unparsable header, is
    text 0.0.4 (Prometheus 2.x; Prometheus 3 fails such scrapes unless
    ``fallback_scrape_protocol`` is set, which comes to the same thing here).
    """
    if content_type:
        media = content_type.partition(";")[0].strip().lower()
        if media == Format.OPENMETRICS_1.value:
            return Format.OPENMETRICS_1
    return Format.TEXT_004

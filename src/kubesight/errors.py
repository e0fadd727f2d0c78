"""kubesight's own exception tree.

Every error a user can see derives from :class:`KubesightError` and says what was
wrong, where, and (where it can) what to do. Library errors are translated at the
edge with ``raise ... from exc``.

::

    KubesightError
    ├── ConfigError            a config file or flag is invalid (names file and field)
    ├── DecodeError            a wire payload could not be decoded (names what and where)
    │   └── UnsupportedError   well-formed, but a feature we do not accept
    ├── ValidationError        decoded, but the data breaks a rule (names series and label)
    ├── StorageError           the store could not do what was asked
    │   ├── CorruptionError    on-disk data failed its checksum or format check
    │   └── OverloadedError    the store is over a limit; the caller should retry later
    └── QueryError             a query could not be run
"""

from __future__ import annotations


class KubesightError(Exception):
    """The root of every error kubesight raises on purpose."""


class ConfigError(KubesightError):
    """A config file or flag is invalid."""


class DecodeError(KubesightError):
    """A wire payload could not be decoded."""


class UnsupportedError(DecodeError):
    """A well-formed payload uses a feature kubesight does not accept."""


class ValidationError(KubesightError):
    """Decoded data breaks a rule of the data model."""


class StorageError(KubesightError):
    """The store could not do what was asked."""


class CorruptionError(StorageError):
    """On-disk data failed its checksum or format check."""


class OverloadedError(StorageError):
    """The store is over a limit; the caller should back off and retry."""


class QueryError(KubesightError):
    """A query could not be run."""

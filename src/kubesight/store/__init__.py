"""Storage: the append and query interfaces, the embedded engine, and an in-memory double."""

from kubesight.store.interface import Appender, AppendResult, Querier
from kubesight.store.memory import MemoryStore

__all__ = ["AppendResult", "Appender", "MemoryStore", "Querier"]

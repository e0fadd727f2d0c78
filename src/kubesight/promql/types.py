"""The evaluator's internal values: every node is evaluated at all steps at once.

An instant vector over ``T`` steps is a dense ``(S, T)`` matrix of values plus
a presence mask (NaN is a legal sample value, so absence needs its own bit).
A range vector (the argument of ``rate`` and friends) stays in CSR layout with
per-step window bounds ``lo``/``hi`` into the flat sample arrays.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kubesight.model import Labels
from kubesight.model.samples import F64, I64

B = npt.NDArray[np.bool_]


@dataclass
class IVec:
    labels: list[Labels]
    values: F64  # (S, T)
    present: B  # (S, T)

    @property
    def nsteps(self) -> int:
        return int(self.values.shape[1])

    def compact(self) -> IVec:
        """Drop series that have no sample at any step."""
        keep = self.present.any(axis=1)
        if keep.all():
            return self
        idx = np.flatnonzero(keep)
        return IVec([self.labels[i] for i in idx.tolist()], self.values[idx], self.present[idx])

    def take(self, idx: npt.NDArray[np.intp]) -> IVec:
        return IVec([self.labels[i] for i in idx.tolist()], self.values[idx], self.present[idx])

    @staticmethod
    def empty(t: int) -> IVec:
        return IVec([], np.empty((0, t), np.float64), np.zeros((0, t), np.bool_))


@dataclass
class SVal:
    values: F64  # (T,)


@dataclass
class SStr:
    value: str


@dataclass
class RangeArg:
    """A range vector at every step: the samples of window ``(end-range, end]``.

    ``lo``/``hi`` index ``timestamps``/``values``; ``window_end`` is the
    effective end per step (step time minus offset, or the ``@`` time), and
    ``eval_ts`` the step time itself (``predict_linear`` intercepts there).
    """

    labels: list[Labels]
    offsets: I64
    timestamps: I64
    values: F64
    lo: I64  # (S, T)
    hi: I64  # (S, T)
    range_ms: int
    window_end: I64  # (T,)
    eval_ts: I64  # (T,)
    check: Callable[[], None] | None = None
    """Called between chunks of long computations (raises on timeout)."""

    @property
    def nsteps(self) -> int:
        return int(self.window_end.shape[0])


Val = IVec | SVal | SStr | RangeArg

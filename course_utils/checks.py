"""``check``: how a notebook backs a "What to look for" claim with the number it computed.

A notebook states a claim, computes the number behind it, and calls ``check(holds, claim, detail)``.
When the claim holds, the learner sees it ticked under the figure (``✓ claim``); when it does not
(a different machine, a changed setting, a bug), the cell stops with the claim and the numbers,
instead of leaving prose under a figure that no longer shows it.
"""

from __future__ import annotations


class CheckFailed(AssertionError):
    """A claim a notebook makes about its own figure or printout did not hold."""


def check(holds, claim: str, detail: str = "", *, quiet: bool = False) -> None:
    """Print ``✓ claim`` if ``holds`` is true, else raise ``CheckFailed`` naming the claim and ``detail``.

    ``holds`` is anything with a truth value (a bool, a one-element tensor or array). ``detail``
    should carry the numbers the claim rests on, e.g. ``f"p = {p:.3f}"``, so a failure is readable
    without re-running the cell. ``quiet=True`` prints nothing on success.
    """
    if not isinstance(claim, str) or not claim:
        raise TypeError("check(holds, claim): claim must be a non-empty sentence saying what should hold")
    try:
        ok = bool(holds)
    except (RuntimeError, ValueError) as exc:  # a tensor or array of several values has no single truth value
        raise TypeError(f"check({claim!r}): holds must be one true/false value, not {type(holds).__name__}") from exc
    suffix = f" ({detail})" if detail else ""
    if not ok:
        raise CheckFailed(f"✗ {claim}{suffix}. The figure above no longer shows what the text says.")
    if not quiet:
        print(f"✓ {claim}{suffix}")

"""`check(path)`: every validator `usd-core` registers (what `usdchecker` runs), over a stage, as messages.

usd-core ships no `usdchecker` executable and, since 25.x, no `UsdUtils.ComplianceChecker`; its checks live in
the `UsdValidation` registry (stage metadata, composition errors, schema type mismatches, encapsulation,
usdz packaging, missing references, ...), which this runs in full.
"""

from __future__ import annotations

from pathlib import Path


def check(path: str | Path) -> list[str]:
    """Errors and warnings of all registered USD validators on the stage at `path` ("[name] message" each)."""
    from pxr import Usd, UsdValidation

    stage = Usd.Stage.Open(str(path))
    registry = UsdValidation.ValidationRegistry()
    validators = [v for v in registry.GetOrLoadAllValidators() if not v.GetMetadata().isSuite]
    context = UsdValidation.ValidationContext(validators)
    out = []
    for error in context.Validate(stage):
        if error.GetType() in (UsdValidation.ValidationErrorType.Error, UsdValidation.ValidationErrorType.Warn):
            out.append(f"[{error.GetValidator().GetMetadata().name}] {error.GetMessage()}")
    return out

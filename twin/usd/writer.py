"""Authoring a layer through `pxr.Sdf` specs (prims, attributes, relationships) inside one change block.

The Sdf level is used rather than `Usd.Stage` because it skips composition while authoring: at the 1 GW scale a
stage is ~40k prims and ~400k properties, and every spec still costs ~10 us from Python, which is why the rest of
the package keeps what repeats in prototypes and arrays.
"""

from __future__ import annotations

from typing import Any, Iterable


class Writer:
    """Spec helpers over one layer; `pxr` modules are imported by the caller's first use of the package."""

    def __init__(self, layer: Any):
        from pxr import Sdf

        self.Sdf = Sdf
        self.layer = layer
        self._types: dict[str, Any] = {}

    def type(self, name: str) -> Any:
        t = self._types.get(name)
        if t is None:
            t = self._types[name] = self.Sdf.ValueTypeNames.Find(name)
        return t

    def prim(self, parent: Any, name: str, type_name: str = "", *, specifier: str = "def", kind: str | None = None,
             instanceable: bool | None = None) -> Any:
        """A new prim spec under `parent` (a prim spec, or the layer for a root prim)."""
        Sdf = self.Sdf
        spec_kind = {"def": Sdf.SpecifierDef, "class": Sdf.SpecifierClass, "over": Sdf.SpecifierOver}[specifier]
        spec = Sdf.PrimSpec(parent, name, spec_kind, type_name)
        if kind is not None:
            spec.kind = kind
        if instanceable is not None:
            spec.instanceable = instanceable
        return spec

    def attr(self, prim: Any, name: str, type_name: str, value: Any = None, *, uniform: bool = False,
             custom: bool = False, interpolation: str | None = None) -> Any:
        """An attribute spec; `value` None declares it without a value."""
        Sdf = self.Sdf
        spec = Sdf.AttributeSpec(prim, name, self.type(type_name),
                                 Sdf.VariabilityUniform if uniform else Sdf.VariabilityVarying, custom)
        if value is not None:
            spec.default = value
        if interpolation is not None:
            spec.SetInfo("interpolation", interpolation)
        return spec

    def attrs(self, prim: Any, typed: dict[str, tuple[str, Any]], *, custom: bool = True) -> None:
        for name, (type_name, value) in typed.items():
            self.attr(prim, name, type_name, value, custom=custom)

    def rel(self, prim: Any, name: str, targets: Iterable[str], *, custom: bool = True) -> Any:
        spec = self.Sdf.RelationshipSpec(prim, name, custom)
        spec.targetPathList.explicitItems = [self.Sdf.Path(t) for t in targets]
        return spec

    def translate(self, prim: Any, xyz: tuple[float, float, float], *, order: bool = True) -> None:
        """`xformOp:translate` (double3) and, unless the prim inherits it, its `xformOpOrder`."""
        self.attr(prim, "xformOp:translate", "double3", tuple(float(v) for v in xyz))
        if order:
            self.attr(prim, "xformOpOrder", "token[]", ["xformOp:translate"], uniform=True)

    def reference(self, prim: Any, path: str) -> None:
        prim.referenceList.Prepend(self.Sdf.Reference("", self.Sdf.Path(path)))

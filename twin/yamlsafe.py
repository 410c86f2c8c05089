"""Reading YAML written by people: plain data only, aliases bounded, duplicate keys refused, lines for messages.

YAML anchors and aliases let a few lines stand for an exponentially large document (nine aliases to nine
aliases ... eight levels deep is 43 million nodes). The parser keeps aliases shared, so parsing is cheap; what
explodes is any later walk over the data. `load` counts, in one pass over the shared node graph, how many
nodes the document would have with every alias expanded, and refuses beyond `MAX_EXPANDED_NODES`. The same
pass refuses a key given twice in one mapping (YAML loaders silently keep the last one) naming both lines.

>>> load("a: 1\\nb: [x, y]")
{'a': 1, 'b': ['x', 'y']}
>>> load("a: 1\\na: 2")
Traceback (most recent call last):
...
twin.yamlsafe.YamlIssue: line 2: key 'a' is given twice (lines 1 and 2); keep one of them
"""

from __future__ import annotations

from typing import Any, Iterator

import yaml

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML has it (~10x faster), else the pure-Python one: both construct only plain data."""
MAX_EXPANDED_NODES = 1_000_000
"""Aliases may make a document at most this many nodes (a 1 GW explicit blueprint has ~150,000)."""


class YamlIssue(ValueError):
    """A YAML text that cannot be read as plain, bounded data; callers turn it into their own error type."""

    def __init__(self, line: int | None, problem: str, fix: str):
        self.line, self.problem, self.fix = line, problem, fix
        super().__init__(f"{f'line {line}: ' if line else ''}{problem}; {fix}")


def load(text: str) -> Any:
    """Parse YAML text into plain data, or raise YamlIssue (syntax, alias bomb, duplicate key, bad value)."""
    loader = SAFE_LOADER(text)
    try:
        try:
            root = loader.get_single_node()
        except yaml.YAMLError as exc:
            raise _syntax(exc) from None
        if root is None:
            return None
        check(root)
        try:
            return loader.construct_document(root)
        except yaml.YAMLError as exc:
            raise _syntax(exc) from None
        except (ValueError, TypeError, OverflowError, RecursionError) as exc:
            raise YamlIssue(None, f"unreadable YAML value ({exc})", "fix the value") from None
    finally:
        loader.dispose()


def check(root: yaml.Node, limit: int = MAX_EXPANDED_NODES) -> int:
    """The document's size with aliases expanded (each shared node visited once), refusing duplicate keys,
    recursive aliases and sizes beyond `limit`."""
    size: dict[int, int] = {}
    open_: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            open_.discard(key)
            size[key] = 1 + sum(size[id(c)] for c in _children(node))
            if size[key] > limit:
                raise YamlIssue(_line(node), f"aliases make the document over {limit:,} values "
                                f"({size[key]:,} here), which looks like an alias bomb", "write the data out plainly")
            continue
        if key in size:
            continue
        if key in open_:
            raise YamlIssue(_line(node), "an alias refers to a value that contains it (a recursive document)",
                            "remove the self-reference")
        open_.add(key)
        if isinstance(node, yaml.MappingNode):
            _unique_keys(node)
        stack.append((node, True))
        stack += [(c, False) for c in _children(node) if id(c) not in size]
    return size[id(root)]


class Lines:
    """Field path (keys and list indices) -> 1-based line where its value starts in a YAML text, found by walking
    the parsed node tree along the path: time linear in the path, whatever the aliases. Missing paths give None."""

    def __init__(self, text: str):
        try:
            self._root = yaml.compose(text, Loader=SAFE_LOADER)
        except yaml.YAMLError:
            self._root = None

    def get(self, path: tuple, default: int | None = None) -> int | None:
        node = self._root
        if node is None:
            return default
        for part in path:
            if isinstance(node, yaml.MappingNode):
                pair = next(((k, v) for k, v in node.value
                             if isinstance(k, yaml.ScalarNode) and k.value == str(part)), None)
                if pair is None:
                    return default
                node = pair[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
                node = node.value[part]
            else:
                return default
        return _line(node)

    def __contains__(self, path: tuple) -> bool:
        return self.get(path) is not None

    def __getitem__(self, path: tuple) -> int:
        line = self.get(path)
        if line is None:
            raise KeyError(path)
        return line


def _children(node: yaml.Node) -> Iterator[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            yield k
            yield v
    elif isinstance(node, yaml.SequenceNode):
        yield from node.value


def _unique_keys(node: yaml.MappingNode) -> None:
    seen: dict[tuple[str, str], int] = {}
    for k, _ in node.value:
        if not isinstance(k, yaml.ScalarNode) or k.tag == "tag:yaml.org,2002:merge":
            continue
        ident, line = (k.tag, k.value), _line(k)
        if ident in seen:
            where = f"lines {seen[ident]} and {line}" if seen[ident] != line else f"both on line {line}"
            raise YamlIssue(line, f"key {k.value!r} is given twice ({where})", "keep one of them")
        seen[ident] = line


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _syntax(exc: yaml.YAMLError) -> YamlIssue:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return YamlIssue(mark.line + 1 if mark is not None else None, f"invalid YAML ({problem})", "fix the syntax at that line")


__all__ = ["Lines", "MAX_EXPANDED_NODES", "YamlIssue", "check", "load"]

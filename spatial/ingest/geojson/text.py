"""GeoJSON bytes as JSON text (RFC 8259), read defensively: UTF-8 without a byte-order mark,
nesting bounded *before* parsing (so a hostile file cannot exhaust the parser's stack), no
``NaN``/``Infinity``, names given twice marked (not silently resolved), syntax errors placed
by line and column — and GeoJSON Text Sequences / GeoJSON Lines (RFC 8142) as a fallback."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import numpy as np
import orjson

from spatial.ingest.findings import Finding, error, warning


class DuplicateKeys(dict):
    """A JSON object that gave one name twice; ``duplicate_keys`` lists the names."""

    duplicate_keys: list[str]


class NotJsonNumber(ValueError):
    """``NaN``, ``Infinity`` or ``-Infinity``: Python's json reads them, RFC 8259 does not."""


def _pairs_hook(pairs):
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    seen, dupes = set(), []
    for key, _ in pairs:
        if key in seen:
            dupes.append(key)
        seen.add(key)
    out = DuplicateKeys(obj)
    out.duplicate_keys = dupes
    return out


def _no_constants(name: str):
    raise NotJsonNumber(name)


def strict_loads(text: str):
    return json.loads(text, object_pairs_hook=_pairs_hook, parse_constant=_no_constants)


@dataclass(frozen=True)
class Layout:
    """Where the root's members and a member array's elements lie, found by the same scan:
    each container opened directly inside the root (its ``[`` or ``{`` at ``opens``, its
    closing bracket at ``closes``, which bracket in ``kinds``) and each comma directly inside
    one of them (``commas``) — so the elements of ``features`` can be parsed a slice at a
    time. ``objects_before[k]`` and ``members_before[k]`` count the ``{`` and ``:`` before
    each position (opens, closes and commas each have their own), so the objects and members
    of any run of elements are a difference. Offsets are into the scanned bytes."""

    opens: np.ndarray
    closes: np.ndarray
    kinds: np.ndarray  # the opening byte: ord("[") or ord("{")
    open_counts: np.ndarray  # (len(opens), 2): objects, members before each open
    close_counts: np.ndarray  # (len(closes), 2)
    commas: np.ndarray
    comma_counts: np.ndarray  # (len(commas), 2)

    def same_as(self, other: Layout) -> bool:
        return all(
            np.array_equal(getattr(self, name), getattr(other, name))
            for name in self.__dataclass_fields__
        )


@dataclass(frozen=True)
class Structure:
    """What the bytes' structural characters say, counted outside strings without parsing:
    the deepest nesting of arrays and objects, the number of objects (one ``{`` each) and of
    their members (one ``:`` each), and whether a ``true``/``false`` occurs anywhere; with
    ``layout`` asked for, where the root's containers and their elements lie (None when the
    text holds more than the ``max_elements`` asked for, or brackets that do not pair)."""

    depth: int
    objects: int
    members: int
    booleans: bool
    layout: Layout | None = field(default=None, compare=False)


STRUCTURE_CHUNK = 1 << 19  # bytes looked at at once: its arrays take about 16 times this
_STEP = np.zeros(256, dtype=np.int8)
_STEP[[ord("["), ord("{")]] = 1
_STEP[[ord("]"), ord("}")]] = -1


def structure(
    data: bytes, chunk: int = STRUCTURE_CHUNK, layout: bool = False, max_elements: int = 0
) -> Structure:
    """:class:`Structure` of JSON ``data``, vectorised over its bytes, ``chunk`` bytes at a
    time (what a chunk ends in — inside a string or not, after an odd run of backslashes, at
    which depth — carries into the next). A quote preceded by an odd run of backslashes is
    escaped; a byte lies inside a string when an odd number of unescaped quotes precede it.
    UTF-8 continuation bytes are never ASCII, so bytes do. With ``layout``, the
    :class:`Layout` too, given up (None) past ``max_elements`` commas or containers — its
    memory is then bounded by the limit, not by the file."""
    view = np.frombuffer(data, dtype=np.uint8)
    inside, odd_slashes, depth, deepest = False, False, 0, 0
    objects = members = 0
    booleans = False
    parts: dict[str, list[np.ndarray]] | None = (
        {name: [] for name in ("opens", "closes", "kinds", "oc", "cc", "commas", "mc")}
        if layout
        else None
    )
    recorded = 0
    for at in range(0, len(view), chunk):
        b = view[at : at + chunk]
        quote = (b == ord('"')) & ~_escaped(b, odd_slashes)
        odd_slashes = _ends_in_odd_slashes(b, odd_slashes)
        within = np.bitwise_xor.accumulate(quote.view(np.uint8)).view(bool) ^ inside
        inside = bool(within[-1])
        outside = ~within & ~quote
        where = np.flatnonzero(_structural(b) & outside)
        chars = b[where]
        step = _STEP[chars].astype(np.int64)
        after = depth + np.cumsum(step)
        is_object, is_member = chars == ord("{"), chars == ord(":")
        objects_upto = objects + np.cumsum(is_object)  # counting the character itself
        members_upto = members + np.cumsum(is_member)
        if len(step):
            deepest, depth = max(deepest, int(after.max())), int(after[-1])
            objects, members = int(objects_upto[-1]), int(members_upto[-1])
        if not booleans:
            letters = (b == ord("t")) | (b == ord("f"))
            booleans = bool(np.any(letters & outside))
        if parts is not None:
            before = after - step
            opened = (step == 1) & (before == 1)
            closed = (step == -1) & (after == 1)
            comma = (chars == ord(",")) & (before == 2)
            recorded += int(opened.sum() + comma.sum())
            if recorded > max_elements:
                parts = None
                continue
            counts = np.column_stack((objects_upto - is_object, members_upto))
            parts["opens"].append(at + where[opened])
            parts["kinds"].append(chars[opened])
            parts["oc"].append(counts[opened])
            parts["closes"].append(at + where[closed])
            parts["cc"].append(counts[closed])
            parts["commas"].append(at + where[comma])
            parts["mc"].append(counts[comma])
    return Structure(max(deepest, 0), objects, members, booleans, _layout(parts))


def _structural(b: np.ndarray) -> np.ndarray:
    """Where ``b`` holds one of ``[]{}:,`` (compared byte by byte: faster than a table)."""
    found = b == ord(",")
    for char in b"[]{}:":
        found |= b == char
    return found


def _layout(parts: dict[str, list[np.ndarray]] | None) -> Layout | None:
    """The recorded pieces joined; None when none were kept or the brackets do not pair
    (every container opened inside the root closed before the next opens)."""
    if parts is None:
        return None

    def joined(name: str, shape: tuple[int, ...] = (0,)) -> np.ndarray:
        pieces = parts[name]
        return np.concatenate(pieces) if pieces else np.zeros(shape, dtype=np.int64)

    found = Layout(
        joined("opens"),
        joined("closes"),
        joined("kinds"),
        joined("oc", (0, 2)),
        joined("cc", (0, 2)),
        joined("commas"),
        joined("mc", (0, 2)),
    )
    if len(found.opens) != len(found.closes) or (found.closes < found.opens).any():
        return None
    if (found.opens[1:] < found.closes[:-1]).any():
        return None
    return found


def _escaped(b: np.ndarray, odd_before: bool = False) -> np.ndarray:
    """True at each byte preceded by an odd-length run of backslashes (``odd_before``: the
    bytes before ``b`` end in an odd run, which a run at the start of ``b`` continues — the
    same as one more backslash in front)."""
    if odd_before:
        return _escaped(np.concatenate(([ord("\\")], b)).astype(np.uint8))[1:]
    out = np.zeros(len(b), dtype=bool)
    slash = b == ord("\\")
    if not slash.any():
        return out
    edges = np.diff(np.concatenate(([0], slash.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    after = ends[((ends - starts) % 2 == 1) & (ends < len(b))]
    out[after] = True
    return out


def _ends_in_odd_slashes(b: np.ndarray, odd_before: bool) -> bool:
    """Whether ``b`` (after bytes ending in an odd run of backslashes or not) ends in one."""
    other = b[::-1] != ord("\\")
    run = int(np.argmax(other))  # the backslashes b ends in (argmax: the first other byte)
    if not other[run]:  # b is all backslashes
        return (int(odd_before) + len(b)) % 2 == 1
    return run % 2 == 1


def nesting_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in JSON ``text`` (strings ignored)."""
    return structure(text.encode("utf-8")).depth


def json_sequence(text: str) -> list | None:
    """GeoJSON Text Sequences (RS-separated) or GeoJSON Lines: one object per line."""
    chunks = [c for c in re.split(r"[\x1e\n]", text) if c.strip()]
    if len(chunks) < 2:
        return None
    out = []
    for chunk in chunks:
        try:
            out.append(strict_loads(chunk))
        except json.JSONDecodeError:
            return None
    return out


@dataclass
class JsonText:
    """What the bytes held: one document, or a sequence of them; ``findings`` so far (a BOM
    is a warning); ``failed`` when neither could be read (the findings say why). The text is
    decoded from ``data`` only when asked for (a sound file is parsed from its bytes, so its
    decoded copy — twice the file's size — is never held)."""

    document: object = None
    sequence: list | None = None
    data: bytes = b""
    structure: Structure | None = None
    findings: list[Finding] = field(default_factory=list)
    failed: bool = False

    @property
    def text(self) -> str:
        return self.data.decode("utf-8")


def read_json_text(data: bytes, max_depth: int) -> JsonText:
    """Bytes → JSON, with every refusal as an error finding (never an exception)."""
    out = scan_json_text(data, max_depth)
    return out if out.failed else parse_json_text(out, max_depth)


def scan_json_text(data: bytes, max_depth: int, max_elements: int = 0) -> JsonText:
    """The first half of :func:`read_json_text`: a byte-order mark dropped (with a warning)
    and the structure scanned — its :class:`Layout` too, up to ``max_elements`` — and
    refused when nested deeper than ``max_depth``; nothing parsed yet."""
    out = JsonText()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
        out.findings.append(
            warning(
                "utf8_bom",
                "文件以 UTF-8 BOM 开头（RFC 8259 不允许）；已忽略",
                "the file starts with a UTF-8 byte-order mark (not allowed by RFC 8259); ignored",
                "保存为“UTF-8（无 BOM）”。",
                "Save as UTF-8 without BOM.",
            )
        )
    scan = structure(data, layout=max_elements > 0, max_elements=max_elements)
    out.data, out.structure = data, scan
    if scan.depth > max_depth:
        return _failed(out, _too_deep(scan.depth, max_depth))
    return out


def parse_json_text(out: JsonText, max_depth: int) -> JsonText:
    """The second half of :func:`read_json_text`: the scanned text parsed whole."""
    data = out.data
    try:  # sound text, parsed in C (which refuses text that is not UTF-8); names given twice
        out.document = orjson.loads(data)  # are looked for later (reader.py)
        return out
    except orjson.JSONDecodeError:
        pass  # NaN, a sequence, a syntax error, an integer over 64 bits: the stdlib says which
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _failed(out, _not_utf8(exc))
    try:
        out.document = json.loads(text, parse_constant=_no_constants)
    except NotJsonNumber as exc:
        return _failed(out, _not_a_number(text, str(exc)))
    except RecursionError:
        return _failed(out, _too_deep(None, max_depth))
    except json.JSONDecodeError as exc:
        try:
            out.sequence = json_sequence(text)
        except NotJsonNumber as bad:
            return _failed(out, _not_a_number(text, str(bad)))
        if out.sequence is None:
            return _failed(out, _syntax_error(exc))
    return out


def _failed(out: JsonText, finding: Finding) -> JsonText:
    out.findings.append(finding)
    out.failed = True
    return out


def _position(text: str, needle: str) -> tuple[int, int]:
    at = text.find(needle)
    if at < 0:
        return 0, 0
    line = text.count("\n", 0, at) + 1
    return line, at - (text.rfind("\n", 0, at) + 1) + 1


def _syntax_error(exc: json.JSONDecodeError) -> Finding:
    return error(
        "json_syntax",
        f"JSON 语法错误：{exc.msg}",
        f"JSON syntax error: {exc.msg}",
        "用文本编辑器或 geojson.io 打开，修正该位置的括号、逗号或引号后重新上传。",
        "Open the file in a text editor (or geojson.io), fix the bracket, comma or quote at "
        "that position, and upload again.",
        line=exc.lineno,
        column=exc.colno,
    )


def _not_a_number(text: str, name: str) -> Finding:
    line, column = _position(text, name)
    return error(
        "json_not_a_number",
        f"JSON 中不允许 {name}（不是数字）",
        f"{name} is not allowed in JSON (it is not a number)",
        "填写实际数值，或留空表示未知。",
        "Write the real value, or leave the field empty when unknown.",
        line=line or None,
        column=column or None,
    )


def _not_utf8(exc: UnicodeDecodeError) -> Finding:
    return error(
        "not_utf8",
        f"文件不是 UTF-8 编码（第 {exc.start} 个字节无法解码）",
        f"the file is not UTF-8 (byte {exc.start} cannot be decoded)",
        "GeoJSON 必须是 UTF-8：在编辑器中“另存为 UTF-8”。",
        "GeoJSON must be UTF-8: save it as UTF-8 in your editor.",
    )


def _too_deep(depth: int | None, max_depth: int) -> Finding:
    if depth is None:  # the parser's own stack gave out first
        return error(
            "too_deep",
            "JSON 嵌套层数过多，无法读取",
            "the JSON is nested too deeply to read",
            "检查文件是否损坏。",
            "Check whether the file is damaged.",
        )
    return error(
        "too_deep",
        f"JSON 嵌套 {depth} 层，超过上限 {max_depth}（GeoJSON 最多约 8 层）",
        f"the JSON is nested {depth} levels deep, over the limit of {max_depth} "
        "(GeoJSON needs about 8)",
        "检查文件是否损坏，或是否真是 GeoJSON。",
        "Check whether the file is damaged, or is GeoJSON at all.",
    )

"""The office's procedure guide: what a citizen must bring for each procedure.

The most common reason a citizen is sent home from a counter is a missing
document. The office keeps a list of its procedures in a TOML file beside the
site file (``[guide] file``, docs/guide.md); the kiosk lets a citizen find one
by typing (with or without diacritics: "ho tich" finds "hộ tịch") or by field,
shows what to bring, and prints that checklist with a QR code of the procedure's
page on the online public-service portal.

Pure: no pygame, no store. The file is validated like the site file: every
problem at once, each naming the file, the line, the key, what was expected and
what was found, raised as :class:`kiosk.core.config.ConfigError`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kiosk.core.config import Config, ConfigError, _Locator, read_toml

#: Keys of one ``[[procedures]]`` entry; all but ``name_en`` are required.
KEYS = ("id", "name", "name_en", "service", "field", "documents", "fee", "time_limit", "url")
OPTIONAL = frozenset({"name_en"})
ID_PATTERN = re.compile(r"^[a-z0-9_-]{1,40}$")
#: More documents than this do not fit a kiosk page or a short ticket.
MAX_DOCUMENTS = 12


@dataclass(frozen=True)
class Procedure:
    """One administrative procedure the office handles."""

    id: str
    name: str
    service: str
    field: str
    documents: tuple[str, ...]
    fee: str
    time_limit: str
    url: str
    name_en: str = ""

    @property
    def folded(self) -> str:
        """Name, English name, field and id, folded for search (see :func:`fold`)."""
        return fold(f"{self.name} {self.name_en} {self.field} {self.id}")


def fold(text: str) -> str:
    """Lower case without diacritics and with single spaces: "Hộ tịch" → "ho tich".

    NFD splits a letter from its marks, which are then dropped; "đ" is a letter of
    its own in Unicode (no decomposition), so it is mapped to "d" by hand.
    """
    nfd = unicodedata.normalize("NFD", text)
    bare = "".join(c for c in nfd if not unicodedata.combining(c))
    bare = bare.replace("đ", "d").replace("Đ", "D")
    return " ".join(bare.casefold().split())


@dataclass(frozen=True)
class Guide:
    """The office's procedures, in file order."""

    procedures: tuple[Procedure, ...]
    source: str = ""

    def __len__(self) -> int:
        return len(self.procedures)

    def get(self, procedure_id: str) -> Procedure | None:
        return next((p for p in self.procedures if p.id == procedure_id), None)

    def fields(self) -> list[str]:
        """The fields (Hộ tịch, Chứng thực, …) in order of first appearance."""
        out: list[str] = []
        for p in self.procedures:
            if p.field not in out:
                out.append(p.field)
        return out

    def in_field(self, field: str) -> list[Procedure]:
        return [p for p in self.procedures if p.field == field]

    def search(self, query: str) -> list[Procedure]:
        """Procedures whose name, field or id contain every typed word, diacritics
        or not; names that start with the query first, then file order. An empty
        query finds everything."""
        words = fold(query).split()
        if not words:
            return list(self.procedures)
        q = " ".join(words)
        hits = [p for p in self.procedures if all(w in p.folded for w in words)]

        def rank(p: Procedure) -> int:
            name = fold(p.name)
            return 0 if name.startswith(q) else 1 if q in name else 2

        return sorted(hits, key=rank)


def guide_path(cfg: Config) -> Path | None:
    """Where the configured guide file is (relative to the site file), or None."""
    f = cfg.guide.file
    if not f:
        return None
    p = Path(f)
    if not p.is_absolute():
        p = Path(cfg.source).resolve().parent / p
    return p


def load_guide(cfg: Config) -> Guide | None:
    """The configured guide, validated against the site's services; None when
    ``[guide] file`` is empty. Raises ConfigError naming every problem."""
    p = guide_path(cfg)
    if p is None:
        return None
    site = f"{cfg.source}: [guide] file"
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            [
                f'{site}: "{cfg.guide.file}" not found (looked for {p}); put the procedure list '
                'there or set [guide] file = "" to turn the guide off'
            ]
        ) from None
    except OSError as e:
        raise ConfigError([f"{site}: {p} cannot be read: {e.strerror}"]) from None
    return parse_guide(data, [s.id for s in cfg.services], str(p))


def parse_guide(
    data: bytes | str, services: Sequence[str], source: str = "<procedures file>"
) -> Guide:
    """Read and validate a procedure list; ``services`` are the site's service ids."""
    raw, text = read_toml(data, source)
    return validate_guide(raw, services, source, text)


def _show(v: Any) -> str:
    if isinstance(v, str):
        return f'"{v}"' if v else "an empty text"
    if isinstance(v, list):
        return f"a list of {len(v)}"
    if isinstance(v, dict):
        return "a table"
    return f"{type(v).__name__} {v!r}"


def validate_guide(
    raw: dict[str, Any], services: Sequence[str], source: str, text: str = ""
) -> Guide:
    """The procedures of a parsed file, or ConfigError listing every problem."""
    loc = _Locator(text)
    problems: list[str] = []

    def where(path: str) -> str:
        line = loc.line(path)
        return f"{source}:{line}: {path}" if line else f"{source}: {path}"

    for k in raw:
        if k != "procedures":
            problems.append(f"{where(k)}: unknown key; the file holds only [[procedures]] tables")
    entries = raw.get("procedures")
    if not isinstance(entries, list) or not entries:
        problems.append(
            f"{source}: expected at least one [[procedures]] table, found "
            f"{'none' if entries is None else _show(entries)}"
        )
        raise ConfigError(problems)
    out: list[Procedure] = []
    seen: set[str] = set()
    for i, e in enumerate(entries):
        base = f"procedures[{i}]"
        if not isinstance(e, dict):
            problems.append(f"{where(base)}: expected a table, found {_show(e)}")
            continue
        bad = len(problems)
        for k in e:
            if k not in KEYS:
                problems.append(
                    f"{where(f'{base}.{k}')}: unknown key; expected one of {', '.join(KEYS)}"
                )
        for k in KEYS:
            if k not in e and k not in OPTIONAL:
                problems.append(f"{where(base)}: missing key {base}.{k}")
        vals: dict[str, Any] = {}
        for k in ("id", "name", "name_en", "service", "field", "fee", "time_limit", "url"):
            if k not in e:
                continue
            v = e[k]
            if not isinstance(v, str) or (not v.strip() and k not in OPTIONAL):
                problems.append(
                    f"{where(f'{base}.{k}')}: expected a non-empty text, found {_show(v)}"
                )
                continue
            vals[k] = unicodedata.normalize("NFC", v.strip())
        pid = vals.get("id")
        if pid is not None:
            if not ID_PATTERN.match(pid):
                problems.append(
                    f"{where(f'{base}.id')}: expected lower-case letters, digits, - or _ "
                    f"(at most 40), found {_show(pid)}"
                )
            elif pid in seen:
                problems.append(f'{where(f"{base}.id")}: "{pid}" is used by an earlier procedure')
            seen.add(pid)
        svc = vals.get("service")
        if svc is not None and svc not in services:
            problems.append(
                f"{where(f'{base}.service')}: expected one of the site's services "
                f"({', '.join(services)}), found {_show(svc)}"
            )
        url = vals.get("url")
        if url is not None:
            parts = urlsplit(url)
            if parts.scheme not in ("https", "http") or not parts.hostname or " " in url:
                problems.append(
                    f"{where(f'{base}.url')}: expected the procedure's page on the online "
                    f"public-service portal (https://…), found {_show(url)}"
                )
        docs = e.get("documents")
        if "documents" in e:
            if (
                not isinstance(docs, list)
                or not docs
                or not all(isinstance(d, str) and d.strip() for d in docs)
            ):
                problems.append(
                    f"{where(f'{base}.documents')}: expected a list of non-empty texts "
                    f'(["Tờ khai …", "Giấy tờ tùy thân"]), found {_show(docs)}'
                )
            elif len(docs) > MAX_DOCUMENTS:
                problems.append(
                    f"{where(f'{base}.documents')}: expected at most {MAX_DOCUMENTS} "
                    f"documents (a kiosk page), found {len(docs)}; merge related ones"
                )
        if len(problems) > bad:
            continue
        assert isinstance(docs, list)
        out.append(
            Procedure(
                id=vals["id"],
                name=vals["name"],
                name_en=vals.get("name_en", ""),
                service=vals["service"],
                field=vals["field"],
                documents=tuple(unicodedata.normalize("NFC", d.strip()) for d in docs),
                fee=vals["fee"],
                time_limit=vals["time_limit"],
                url=vals["url"],
            )
        )
    if problems:
        raise ConfigError(problems)
    return Guide(tuple(out), source)

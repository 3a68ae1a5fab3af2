"""Languages of the web pages: Simplified Chinese (the msgids themselves) and English from a gettext catalog.

The catalog ``locale/en/LC_MESSAGES/messages.po`` is read at startup with babel — no compile step.
In templates, ``_("中文", name=value)`` translates and then fills the ``{name}`` fields.

Commands (``python -m civicgrid.web.i18n …``):
- ``extract``: add every ``_("…")`` of the templates and web modules, and the domain labels (states,
  actions, roles, categories, streets), to the catalog; existing translations are kept.
- ``compile``: check the catalog parses and report untranslated entries (nothing is written).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po
from fastapi import Request

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"
HERE = Path(__file__).parent
LOCALE_DIR = HERE / "locale"
# _("…") in templates, N_("…") marks in Python, and the message of flash(response, "…").
_CALL = re.compile(r"""(?:\bN?_\(|\bflash\(\s*\w+,)\s*(?:"((?:[^"\\]|\\.)+)"|'((?:[^'\\]|\\.)+)')""")


def N_(message: str) -> str:
    """Marks a Chinese string for the catalog where it is defined; it is translated where it is shown."""
    return message


class Translator(Protocol):
    def gettext(self, message: str) -> str: ...


class Identity:
    """Chinese: the msgid is the text."""

    def gettext(self, message: str) -> str:
        return message


class CatalogTranslations:
    """A gettext-like object over a babel catalog (only translated, non-fuzzy entries are used)."""

    def __init__(self, catalog: Catalog) -> None:
        self.messages: dict[str, str] = {
            str(m.id): str(m.string)
            for m in catalog
            if m.id and m.string and not m.fuzzy and isinstance(m.id, str)
        }

    def gettext(self, message: str) -> str:
        return self.messages.get(message, message)


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"


@cache
def translations(lang: str) -> Translator:
    if lang == DEFAULT_LANG or lang not in LANGS:
        return Identity()
    path = po_path(lang)
    if not path.is_file():
        return Identity()
    with path.open("rb") as fh:
        return CatalogTranslations(read_po(fh, locale=lang))


def translate(lang: str, message: str, **values: Any) -> str:
    text = translations(lang).gettext(message)
    if values:
        try:
            return text.format(**values)
        except (KeyError, IndexError, ValueError):
            return message.format(**values)
    return text


def gettext_for(lang: str) -> Any:
    def _(message: str, **values: Any) -> str:
        return translate(lang, message, **values)

    return _


def request_lang(request: Request) -> str:
    """``?lang=`` wins (``render`` remembers it in the ``lang`` cookie), then the cookie, then Chinese."""
    asked = request.query_params.get("lang")
    if asked in LANGS:
        return str(asked)
    cookie = request.cookies.get("lang")
    return cookie if cookie in LANGS else DEFAULT_LANG


# --- Catalog maintenance ------------------------------------------------------------------------------------


def _sources() -> Iterable[Path]:
    """The web's templates and modules, and each domain's template folders and page modules."""
    from importlib import resources
    from importlib.util import find_spec

    from civicgrid import domains

    yield from sorted((HERE / "templates").rglob("*.html"))
    yield from sorted(HERE.glob("*.py"))
    for ref in domains.each("templates"):
        package, _, folder = ref.partition(":")
        yield from sorted(Path(str(resources.files(package).joinpath(folder or "templates"))).rglob("*.html"))
    for ref in domains.each("pages"):
        spec = find_spec(ref.partition(":")[0])
        if spec is not None and spec.origin:
            yield Path(spec.origin)


def _place(path: Path) -> str:
    """Where a message was found, relative to the package (web/… or the domain's folder)."""
    root = HERE.parent
    return str(path.relative_to(HERE)) if path.is_relative_to(HERE) else str(path.relative_to(root))


def found_messages() -> dict[str, list[str]]:
    """msgid → places, from the templates, the web modules and the domain's label tables."""
    out: dict[str, list[str]] = {}
    for path in _sources():
        text = path.read_text(encoding="utf-8")
        for m in _CALL.finditer(text):
            msg = (m.group(1) or m.group(2)).replace('\\"', '"').replace("\\'", "'")
            out.setdefault(msg, []).append(_place(path))
    for place, labels in _domain_labels().items():
        for label in labels:
            out.setdefault(label, []).append(place)
    return out


def _domain_labels() -> dict[str, list[str]]:
    """Labels that the domains declare (states, roles, categories, nav links, …), by group."""
    from civicgrid import domains

    labels: dict[str, list[str]] = {"nav": [item.label for item in domains.each("nav")]}
    for declared in domains.callables("labels"):
        for group, names in declared().items():
            labels.setdefault(group, []).extend(names)
    return labels


def extract(lang: str = "en") -> tuple[int, int]:
    """Merge found messages into the catalog. Returns (entries, untranslated)."""
    path = po_path(lang)
    if path.is_file():
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=lang)
    else:
        catalog = Catalog(locale=lang, project="CivicGrid")
    found = found_messages()
    for msgid, places in found.items():
        existing = catalog.get(msgid)
        locations = [(p, 0) for p in sorted(set(places))][:3]
        if existing is None:
            catalog.add(msgid, "", locations=locations)
        else:
            existing.locations = locations
    for msg in list(catalog):
        if msg.id and msg.id not in found:
            catalog.delete(msg.id)
    catalog.fuzzy = False
    catalog.project = "CivicGrid"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        write_po(fh, catalog, width=0, sort_output=False, omit_header=False)
    untranslated = sum(1 for m in catalog if m.id and not m.string)
    return len([m for m in catalog if m.id]), untranslated


def check(lang: str = "en") -> list[str]:
    """Messages used by the pages that have no translation yet."""
    tr = translations(lang)
    have = tr.messages if isinstance(tr, CatalogTranslations) else {}
    return sorted(m for m in found_messages() if m not in have)


def main(argv: list[str]) -> int:
    cmd = argv[0] if argv else "compile"
    if cmd == "extract":
        total, untranslated = extract()
        print(f"messages.po: {total} entries, {untranslated} untranslated")
        return 0
    if cmd in {"compile", "check"}:
        missing = check()
        print(f"en: {len(missing)} untranslated")
        for m in missing[:50]:
            print("  -", m)
        return 1 if (cmd == "check" and missing) else 0
    print("usage: python -m civicgrid.web.i18n [extract|compile|check]")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Dangerous medicine pairs (``education/interactions.yaml``) and a pure lookup over them.

The table is for detecting and routing, never for advice. :func:`find_interactions`
never says a pair is safe: an empty list only means "not in our table", and the caller
must treat it that way (a person still checks anything new the patient reports).

Names resolve in two steps: the medication library (generic names, brands, misspellings)
and this file's ``members`` and ``products`` tables (other medicines, brands like Advil or
Sudafed, and combination products like NyQuil). Each resolved ingredient contributes its
own name and its classes; a row matches when one side's terms meet ``a`` and the other's
meet ``b``, either way round.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal, get_args

import yaml

from education.library import (
    DRUG_CLASSES,
    ContentError,
    Library,
    check_sms_text,
    load_library,
    normalise_name,
)
from education.readability import sentence_count

Severity = Literal["contraindicated", "major", "moderate"]
Tier = Literal["urgent", "prompt"]
SEVERITIES: tuple[Severity, ...] = get_args(Severity)
TIERS: tuple[Tier, ...] = get_args(Tier)
REASON_LIMIT = 200
PAIR_FIELDS = ("id", "a", "b", "severity", "tier", "reason", "source")
TOP_FIELDS = ("classes", "members", "products", "pairs")
DEFAULT_PATH = Path(__file__).resolve().parent / "interactions.yaml"
_DOSE = re.compile(r"\b\d+(?:\.\d+)?\s*(?:mg|mcg|g|ml|milligrams?|micrograms?)?\b")


@dataclass(frozen=True)
class Interaction:
    id: str
    a: tuple[str, ...]
    b: tuple[str, ...]
    severity: Severity
    tier: Tier
    reason: str
    source: str

    def matches(self, one: frozenset[str], other: frozenset[str]) -> bool:
        a, b = set(self.a), set(self.b)
        return bool((a & one and b & other) or (b & one and a & other))


@dataclass(frozen=True)
class Member:
    """An ingredient outside the library (or extra classes for a library medicine)."""

    name: str
    classes: tuple[str, ...]
    names: tuple[str, ...]


class InteractionTable:
    def __init__(
        self,
        classes: Mapping[str, str],
        members: Mapping[str, Member],
        products: Mapping[str, tuple[str, ...]],
        pairs: Sequence[Interaction],
        file: str = DEFAULT_PATH.name,
    ) -> None:
        self.file = file
        self.classes = dict(classes)
        self.members = dict(members)
        self.products = dict(products)
        self.pairs = tuple(pairs)
        self._index: dict[str, tuple[str, ...]] = {}
        for member in self.members.values():
            for raw in (member.name, *member.names):
                self._add(normalise_name(raw), (member.name,), f"members.{member.name}")
        for product, ingredients in self.products.items():
            self._add(normalise_name(product), ingredients, f"products.{product}")

    def _add(self, key: str, ingredients: tuple[str, ...], field: str) -> None:
        if not key:
            raise ContentError(self.file, field, "a name is empty once normalised")
        if self._index.setdefault(key, ingredients) != ingredients:
            raise ContentError(self.file, field, f"{key!r} already names {self._index[key]}")

    def known_terms(self, library: Library) -> frozenset[str]:
        """Every name or class a pair may use."""
        return frozenset({*self.classes, *DRUG_CLASSES, *self.members, *library.names()})

    def check_against(self, library: Library) -> None:
        """Raise ContentError if a pair uses an unknown term or a name is ambiguous."""
        known = self.known_terms(library)
        for i, row in enumerate(self.pairs):
            for side in ("a", "b"):
                for term in getattr(row, side):
                    if term not in known:
                        raise ContentError(self.file, f"pairs[{i}].{side}", f"unknown {term!r}")
        for key, ingredients in self._index.items():
            med = library.get(key)
            if med is not None and ingredients != (med.name,):
                raise ContentError(
                    self.file, f"members or products: {key}", f"already names {med.name!r}"
                )
        for member in self.members.values():
            if member.name in library and member.names:
                raise ContentError(
                    self.file,
                    f"members.{member.name}.names",
                    "a library medicine takes its names from the library",
                )

    def terms_for(self, name: str, library: Library) -> frozenset[str]:
        """The ingredient names and classes a free-text drug name resolves to (or none)."""
        key = normalise_name(name)
        ingredients = self._ingredients(key, library)
        if not ingredients:
            without_dose = " ".join(_DOSE.sub(" ", key).split())
            if without_dose and without_dose != key:
                ingredients = self._ingredients(without_dose, library)
        terms: set[str] = set()
        for ingredient in ingredients:
            terms.add(ingredient)
            med = library.get(ingredient)
            if med is not None:
                terms.add(med.drug_class)
            member = self.members.get(ingredient)
            if member is not None:
                terms.update(member.classes)
        return frozenset(terms)

    def _ingredients(self, key: str, library: Library) -> list[str]:
        found: list[str] = []
        med = library.get(key) if key else None
        if med is not None:
            found.append(med.name)
        found.extend(i for i in self._index.get(key, ()) if i not in found)
        return found


def find_interactions(
    current: list[str],
    other: str,
    library: Library,
    table: InteractionTable | None = None,
) -> list[Interaction]:
    """Rows of the table that pair ``other`` with any of ``current``; urgent tier first.

    Names may be generics, brands, known misspellings or combination products. An empty
    list means only "not in our table", never "safe together".
    """
    table = table or load_interactions(library=library)
    other_terms = table.terms_for(other, library)
    if not other_terms:
        return []
    found: dict[str, Interaction] = {}
    for name in current:
        terms = table.terms_for(name, library)
        for row in table.pairs:
            if terms and row.matches(terms, other_terms):
                found.setdefault(row.id, row)
    order = {row.id: i for i, row in enumerate(table.pairs)}
    return sorted(
        found.values(),
        key=lambda r: (TIERS.index(r.tier), SEVERITIES.index(r.severity), order[r.id]),
    )


def load_interactions(path: Path | None = None, library: Library | None = None) -> InteractionTable:
    """Load and validate the interaction table (cached per file and library)."""
    return _load_interactions((path or DEFAULT_PATH).resolve(), library or load_library())


@lru_cache(maxsize=8)
def _load_interactions(path: Path, library: Library) -> InteractionTable:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ContentError(path.name, "*", f"not valid YAML: {exc}") from exc
    table = parse_table(path.name, data)
    table.check_against(library)
    return table


def parse_table(file: str, data: object) -> InteractionTable:
    top = _mapping(file, "*", data)
    _exact_keys(file, "*", top, TOP_FIELDS)
    classes = {
        _name(file, "classes", k): _text(file, f"classes.{k}", v)
        for k, v in _mapping(file, "classes", top["classes"]).items()
    }
    class_names = {*classes, *DRUG_CLASSES}
    members: dict[str, Member] = {}
    for key, raw in _mapping(file, "members", top["members"]).items():
        field = f"members.{key}"
        body = _mapping(file, field, raw)
        unknown = sorted(set(body) - {"classes", "names"})
        if unknown or "classes" not in body:
            raise ContentError(file, field, "needs classes (and optional names) only")
        member_classes = _names(file, f"{field}.classes", body["classes"], allow_empty=True)
        for c in member_classes:
            if c not in class_names:
                raise ContentError(file, f"{field}.classes", f"unknown class {c!r}")
        names = _names(file, f"{field}.names", body.get("names", []), allow_empty=True)
        members[_name(file, "members", key)] = Member(key, member_classes, names)
    products: dict[str, tuple[str, ...]] = {}
    for key, raw in _mapping(file, "products", top["products"]).items():
        ingredients = _names(file, f"products.{key}", raw, allow_empty=False)
        for ingredient in ingredients:
            if ingredient not in members:
                raise ContentError(file, f"products.{key}", f"unknown ingredient {ingredient!r}")
        products[_name(file, "products", key)] = ingredients
    if not isinstance(top["pairs"], list) or not top["pairs"]:
        raise ContentError(file, "pairs", "must be a non-empty list")
    pairs: list[Interaction] = []
    for i, raw in enumerate(top["pairs"]):
        pairs.append(_pair(file, f"pairs[{i}]", raw))
    ids = [p.id for p in pairs]
    duplicate = next((x for x in ids if ids.count(x) > 1), None)
    if duplicate:
        raise ContentError(file, "pairs", f"duplicate id {duplicate!r}")
    return InteractionTable(classes, members, products, pairs, file)


def _pair(file: str, field: str, raw: object) -> Interaction:
    body = _mapping(file, field, raw)
    _exact_keys(file, field, body, PAIR_FIELDS)
    reason = check_sms_text(file, f"{field}.reason", body["reason"], limit=REASON_LIMIT)
    if sentence_count(reason) != 1 or not reason.endswith("."):
        raise ContentError(file, f"{field}.reason", "must be exactly one sentence")
    severity = next((s for s in SEVERITIES if s == body["severity"]), None)
    tier = next((t for t in TIERS if t == body["tier"]), None)
    if severity is None:
        raise ContentError(file, f"{field}.severity", f"{body['severity']!r} is not allowed")
    if tier is None:
        raise ContentError(file, f"{field}.tier", f"{body['tier']!r} is not allowed")
    return Interaction(
        id=_text(file, f"{field}.id", body["id"]),
        a=_names(file, f"{field}.a", body["a"], allow_empty=False),
        b=_names(file, f"{field}.b", body["b"], allow_empty=False),
        severity=severity,
        tier=tier,
        reason=reason,
        source=_text(file, f"{field}.source", body["source"]),
    )


def _mapping(file: str, field: str, value: object) -> dict[str, object]:
    if not isinstance(value, dict):
        raise ContentError(file, field, f"must be a mapping, not {type(value).__name__}")
    return {str(k): v for k, v in value.items()}


def _exact_keys(file: str, field: str, body: Mapping[str, object], keys: tuple[str, ...]) -> None:
    prefix = "" if field == "*" else f"{field}."
    for key in body:
        if key not in keys:
            raise ContentError(file, f"{prefix}{key}", "unknown field")
    for key in keys:
        if key not in body:
            raise ContentError(file, f"{prefix}{key}", "missing field")


def _text(file: str, field: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ContentError(file, field, "must be a non-empty string")
    return value


def _name(file: str, field: str, value: str) -> str:
    if value != normalise_name(value) and not re.fullmatch(r"[a-z0-9_]+", value):
        raise ContentError(file, f"{field}.{value}", "keys must be written in normalised form")
    return value


def _names(file: str, field: str, value: object, *, allow_empty: bool) -> tuple[str, ...]:
    if not isinstance(value, list) or (not value and not allow_empty):
        raise ContentError(file, field, "must be a list" + ("" if allow_empty else " of names"))
    return tuple(_text(file, f"{field}[{i}]", item) for i, item in enumerate(value))

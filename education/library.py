"""The medication education library: typed loader for ``education/medications/*.yaml``.

Every text is one SMS of general, approved education (no individual dosing advice). The
files are read only when :func:`load_library` is called, never at import. The content is
a draft until a clinician has reviewed it: see each file's ``reviewed`` block.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal, TypeVar, get_args

import yaml

from medfollow.datafiles import DataFileError
from messaging.segments import MAX_GSM_UNITS, encode_info

DrugClass = Literal[
    "ssri",
    "snri",
    "atypical_antidepressant",
    "tricyclic",
    "maoi",
    "mood_stabiliser",
    "antipsychotic",
    "benzodiazepine",
    "anxiolytic",
    "stimulant",
    "non_stimulant_adhd",
]
MissedDoseRule = Literal["take_if_remembered_unless_close", "skip_and_resume", "contact_team"]
ReviewStatus = Literal["draft", "reviewed"]
TextKey = Literal[
    "purpose",
    "onset",
    "common_side_effects",
    "side_effect_tips",
    "red_flags",
    "food_timing",
    "stopping",
    "alcohol",
    "otc",
    "missed_dose",
]

DRUG_CLASSES: tuple[DrugClass, ...] = get_args(DrugClass)
MISSED_DOSE_RULES: tuple[MissedDoseRule, ...] = get_args(MissedDoseRule)
REVIEW_STATUSES: tuple[ReviewStatus, ...] = get_args(ReviewStatus)
TEXT_KEYS: tuple[TextKey, ...] = get_args(TextKey)
MEDICATION_FIELDS = (
    "name",
    "brands",
    "aliases",
    "drug_class",
    "never_stop_suddenly",
    "missed_dose_rule",
    "reviewed",
    "sources",
    "texts",
)
DEFAULT_DIR = Path(__file__).resolve().parent / "medications"

_L = TypeVar("_L", bound=str)


class ContentError(DataFileError):
    """A content file does not match its schema; names the file and the field."""


@dataclass(frozen=True)
class Source:
    title: str
    url: str


@dataclass(frozen=True)
class Review:
    status: ReviewStatus
    by: str | None
    date: str | None


@dataclass(frozen=True)
class Texts:
    purpose: str
    onset: str
    common_side_effects: str
    side_effect_tips: str
    red_flags: str
    food_timing: str
    stopping: str
    alcohol: str
    otc: str
    missed_dose: str

    def get(self, key: TextKey) -> str:
        value: str = getattr(self, key)
        return value

    def items(self) -> list[tuple[TextKey, str]]:
        return [(key, self.get(key)) for key in TEXT_KEYS]


@dataclass(frozen=True)
class Medication:
    name: str
    brands: tuple[str, ...]
    aliases: tuple[str, ...]
    drug_class: DrugClass
    never_stop_suddenly: bool
    missed_dose_rule: MissedDoseRule
    reviewed: Review
    sources: tuple[Source, ...]
    texts: Texts

    def text(self, key: TextKey) -> str:
        return self.texts.get(key)


def normalise_name(name: str) -> str:
    """The lookup form of a drug name: lower case, no punctuation, single spaces.

    "St. John's Wort" -> "st johns wort"; "Claritin-D" -> "claritin d".
    """
    text = unicodedata.normalize("NFKC", name).lower().replace("\u2019", "'")
    text = re.sub(r"['.\u00ae\u2122]", "", text)
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return " ".join(text.split())


class Library:
    """Medications by generic name; brands, misspellings and aliases resolve to them."""

    def __init__(
        self, medications: list[Medication], origin: Mapping[str, str] | None = None
    ) -> None:
        origin = origin or {}
        self._by_name: dict[str, Medication] = {}
        self._index: dict[str, str] = {}
        for med in medications:
            file = origin.get(med.name, med.name)
            if med.name in self._by_name:
                raise ContentError(file, "name", f"duplicate medication {med.name!r}")
            self._by_name[med.name] = med
        for med in medications:
            file = origin.get(med.name, med.name)
            keys = [("name", med.name)]
            keys += [("brands", b) for b in med.brands] + [("aliases", a) for a in med.aliases]
            for field, raw in keys:
                key = normalise_name(raw)
                if not key:
                    raise ContentError(file, field, f"{raw!r} is empty once normalised")
                owner = self._index.setdefault(key, med.name)
                if owner != med.name:
                    raise ContentError(file, field, f"{raw!r} already names {owner!r}")

    def get(self, name_or_brand_or_misspelling: str) -> Medication | None:
        """The medication for a generic name, brand, known misspelling or alias."""
        owner = self._index.get(normalise_name(name_or_brand_or_misspelling))
        return self._by_name[owner] if owner else None

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def lookup_keys(self) -> list[str]:
        """Every normalised name, brand and alias the library resolves."""
        return sorted(self._index)

    def __iter__(self) -> Iterator[Medication]:
        return iter(self._by_name[n] for n in self.names())

    def __len__(self) -> int:
        return len(self._by_name)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None


def load_library(path: Path | None = None) -> Library:
    """Load and validate every ``*.yaml`` in ``path`` (default: the packaged medications).

    Cached per resolved directory; raises :class:`ContentError` on any schema problem.
    """
    return _load_library((path or DEFAULT_DIR).resolve())


@lru_cache(maxsize=8)
def _load_library(directory: Path) -> Library:
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise ContentError(str(directory), "*", "no medication files found")
    meds: list[Medication] = []
    origin: dict[str, str] = {}
    for file in files:
        med = parse_medication(file.name, _read_yaml(file))
        if med.name != file.stem:
            raise ContentError(file.name, "name", f"{med.name!r} does not match the file name")
        meds.append(med)
        origin[med.name] = file.name
    return Library(meds, origin)


def _read_yaml(file: Path) -> object:
    try:
        return yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ContentError(file.name, "*", f"not valid YAML: {exc}") from exc


def parse_medication(file: str, data: object) -> Medication:
    """Validate one file's parsed YAML against the schema and build the Medication."""
    top = _mapping(file, "*", data, MEDICATION_FIELDS)
    name = _string(file, "name", top["name"])
    if name != name.lower() or name != name.strip():
        raise ContentError(file, "name", "must be the lower-case generic name")
    return Medication(
        name=name,
        brands=_string_list(file, "brands", top["brands"]),
        aliases=_string_list(file, "aliases", top["aliases"]),
        drug_class=_choice(file, "drug_class", top["drug_class"], DRUG_CLASSES),
        never_stop_suddenly=_bool(file, "never_stop_suddenly", top["never_stop_suddenly"]),
        missed_dose_rule=_choice(
            file, "missed_dose_rule", top["missed_dose_rule"], MISSED_DOSE_RULES
        ),
        reviewed=_review(file, top["reviewed"]),
        sources=_sources(file, top["sources"]),
        texts=_texts(file, top["texts"]),
    )


def _mapping(file: str, field: str, value: object, keys: tuple[str, ...]) -> dict[str, object]:
    if not isinstance(value, dict):
        raise ContentError(file, field, f"must be a mapping, not {type(value).__name__}")
    unknown = sorted(str(k) for k in value if k not in keys)
    if unknown:
        raise ContentError(file, _sub(field, unknown[0]), "unknown field")
    missing = [k for k in keys if k not in value]
    if missing:
        raise ContentError(file, _sub(field, missing[0]), "missing field")
    return {str(k): v for k, v in value.items()}


def _sub(field: str, key: str) -> str:
    return key if field == "*" else f"{field}.{key}"


def _string(file: str, field: str, value: object) -> str:
    if not isinstance(value, str):
        raise ContentError(file, field, f"must be a string, not {type(value).__name__}")
    if not value.strip():
        raise ContentError(file, field, "must not be empty")
    return value


def _bool(file: str, field: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ContentError(file, field, f"must be true or false, not {type(value).__name__}")
    return value


def _string_list(file: str, field: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ContentError(file, field, f"must be a list, not {type(value).__name__}")
    return tuple(_string(file, f"{field}[{i}]", item) for i, item in enumerate(value))


def _choice(file: str, field: str, value: object, allowed: tuple[_L, ...]) -> _L:
    for option in allowed:
        if value == option:
            return option
    raise ContentError(file, field, f"{value!r} is not one of {', '.join(allowed)}")


def _review(file: str, value: object) -> Review:
    data = _mapping(file, "reviewed", value, ("status", "by", "date"))
    status = _choice(file, "reviewed.status", data["status"], REVIEW_STATUSES)
    by = _optional_string(file, "reviewed.by", data["by"])
    raw_date = data["date"]
    if isinstance(raw_date, dt.date):
        date: str | None = raw_date.isoformat()
    else:
        date = _optional_string(file, "reviewed.date", raw_date)
    if status == "reviewed" and (by is None or date is None):
        raise ContentError(file, "reviewed", "a reviewed file needs both by and date")
    return Review(status=status, by=by, date=date)


def _optional_string(file: str, field: str, value: object) -> str | None:
    return None if value is None else _string(file, field, value)


def _sources(file: str, value: object) -> tuple[Source, ...]:
    if not isinstance(value, list) or not value:
        raise ContentError(file, "sources", "must be a non-empty list")
    out: list[Source] = []
    for i, item in enumerate(value):
        field = f"sources[{i}]"
        data = _mapping(file, field, item, ("title", "url"))
        url = _string(file, f"{field}.url", data["url"])
        if not url.startswith("https://"):
            raise ContentError(file, f"{field}.url", "must be an https:// address")
        out.append(Source(title=_string(file, f"{field}.title", data["title"]), url=url))
    return tuple(out)


def _texts(file: str, value: object) -> Texts:
    data = _mapping(file, "texts", value, TEXT_KEYS)
    checked: dict[str, str] = {
        key: check_sms_text(file, f"texts.{key}", data[key]) for key in TEXT_KEYS
    }
    return Texts(**checked)


def check_sms_text(file: str, field: str, value: object, limit: int = MAX_GSM_UNITS) -> str:
    """A single-SMS patient text: non-empty, trimmed, GSM-7 only, at most ``limit`` units."""
    text = _string(file, field, value)
    if text != text.strip() or "\n" in text:
        raise ContentError(file, field, "must be one trimmed line")
    info = encode_info(text)
    if info.encoding != "GSM-7":
        bad = next(c for c in text if encode_info(c).encoding != "GSM-7")
        raise ContentError(file, field, f"non-GSM-7 character {bad!r} (U+{ord(bad):04X})")
    if info.units > limit:
        raise ContentError(file, field, f"too long: {info.units} GSM-7 units, limit {limit}")
    return text

"""Archive numbers (档号) from configurable rules; gap-free sequences that survive races."""
from __future__ import annotations

import string

import sqlalchemy as sa
from flask import current_app

from ..core.errors import ValidationError
from ..extensions import db
from .models import NumberSequence

RULE_FIELDS = {
    "DOSSIER_NUMBER_RULE": {"fonds", "project", "building", "unit"},
    "DOCUMENT_NUMBER_RULE": {"dossier", "category", "seq"},
    "LITIGATION_NUMBER_RULE": {"fonds", "project", "seq"},
}
# The field that makes each number of a rule distinct; a rule without it would repeat numbers.
DISTINCT_FIELD = {"DOSSIER_NUMBER_RULE": "unit", "DOCUMENT_NUMBER_RULE": "seq", "LITIGATION_NUMBER_RULE": "seq"}


def check_rules(config) -> None:
    """Fail at start-up, not at the first filing, when a configured rule names an unknown field."""
    for key, allowed in RULE_FIELDS.items():
        used = {name for _, name, _, _ in string.Formatter().parse(config[key]) if name}
        if not used <= allowed or DISTINCT_FIELD[key] not in used:
            raise RuntimeError(
                f"ARCHIVE_{key} = {config[key]!r}: use only {sorted(allowed)}, including {{{DISTINCT_FIELD[key]}}}"
            )


def next_in_sequence(key: str) -> int:
    """Take the next number of a sequence inside the current transaction.

    The UPDATE locks the sequence row until commit (PostgreSQL row lock; SQLite write lock), so a racing
    filing waits, and a rolled-back filing gives its number back: no duplicates, no gaps.
    """
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    db.session.execute(insert(NumberSequence).values(key=key, last_value=0).on_conflict_do_nothing())
    return db.session.execute(
        sa.update(NumberSequence)
        .where(NumberSequence.key == key)
        .values(last_value=NumberSequence.last_value + 1)
        .returning(NumberSequence.last_value)
    ).scalar_one()


def _fill(rule_key: str, **fields) -> str:
    return current_app.config[rule_key].format(fonds=current_app.config["FONDS"], **fields)


def _valid(number: str) -> str:
    if not number or any(c.isspace() for c in number):
        raise ValidationError("The archive number rule produced an invalid number.")
    return number


def _format(rule_key: str, **fields) -> str:
    return _valid(_fill(rule_key, **fields))


def dossier_number(project_code: str, building_code: str, unit_code: str) -> str:
    return _format("DOSSIER_NUMBER_RULE", project=project_code, building=building_code, unit=unit_code)


def litigation_number(project_code: str) -> str:
    seq = next_in_sequence(f"litigation:{project_code}")
    return _format("LITIGATION_NUMBER_RULE", project=project_code, seq=seq)


def document_sequence_key(dossier_number_: str, category: str) -> str:
    """The sequence a dossier's documents of one category are numbered in."""
    return f"document:{dossier_number_}:{category}"


def format_document_number(dossier_number_: str, category: str, seq: int) -> str:
    """The number the rule gives, unchecked: the integrity check compares stored numbers with it."""
    return _fill("DOCUMENT_NUMBER_RULE", dossier=dossier_number_, category=category, seq=seq)


def document_number(dossier_number_: str, category: str) -> tuple[str, int]:
    seq = next_in_sequence(document_sequence_key(dossier_number_, category))
    return _valid(format_document_number(dossier_number_, category, seq)), seq

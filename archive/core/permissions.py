"""The one permission policy. Every path — lists, pages, downloads, previews, search, CLI — asks it.

An action on a model is a rule built from generators. Each generator answers two questions:
`allows(identity, obj)` for one object and `where(identity)` for a SQL clause that selects exactly the
objects it allows, so a listing and a download can never disagree. Deny is the default: an action
with no rule allows nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from .enums import Level, Role
from .errors import AccessDenied, NotFound


class Identity(Protocol):
    id: int
    department_id: int
    clearance: Level

    def has_role(self, *roles: Role) -> bool: ...


def _acting(identity: Any) -> bool:
    """An anonymous or disabled identity acts on nothing."""
    return identity is not None and getattr(identity, "is_authenticated", False) and identity.is_active


class Generator:
    def allows(self, identity: Identity, obj: Any) -> bool:
        raise NotImplementedError

    def where(self, identity: Identity) -> ColumnElement[bool]:
        raise NotImplementedError

    def alternatives(self, identity: Identity) -> list[ColumnElement[bool]]:
        """Clauses whose OR is `where` and whose parts are plain ANDs (an empty list allows nothing)."""
        return [self.where(identity)]


@dataclass(frozen=True)
class RoleIn(Generator):
    roles: frozenset[Role]

    def allows(self, identity, obj):
        return identity.has_role(*self.roles)

    def where(self, identity):
        return sa.true() if identity.has_role(*self.roles) else sa.false()

    def alternatives(self, identity):
        return [sa.true()] if identity.has_role(*self.roles) else []


@dataclass(frozen=True)
class ClearanceCovers(Generator):
    """Clearance at least the object's level."""

    level_column: Any

    def allows(self, identity, obj):
        return identity.clearance.rank >= Level(getattr(obj, self.level_column.key)).rank

    def where(self, identity):
        return self.level_column.in_([lvl.value for lvl in identity.clearance.covered()])


@dataclass(frozen=True)
class OwnDepartment(Generator):
    department_column: Any

    def allows(self, identity, obj):
        return getattr(obj, self.department_column.key) == identity.department_id

    def where(self, identity):
        return self.department_column == identity.department_id


@dataclass(frozen=True)
class Related(Generator):
    """A condition over a related table (an EXISTS or an IN list), e.g. the knowledge scope or an active loan.

    `condition(identity)` builds the clause; `allows` runs it for the one object,
    so both questions are answered by the same SQL.
    """

    model: Any
    condition: Any  # Callable[[Identity], ColumnElement[bool]]

    def allows(self, identity, obj):
        from ..extensions import db

        stmt = sa.select(sa.literal(1)).select_from(self.model.__table__).where(
            self.condition(identity), self.model.id == obj.id
        )
        return db.session.execute(stmt.limit(1)).first() is not None

    def where(self, identity):
        return self.condition(identity)


@dataclass(frozen=True)
class All(Generator):
    parts: tuple[Generator, ...]

    def allows(self, identity, obj):
        return all(p.allows(identity, obj) for p in self.parts)

    def where(self, identity):
        return sa.and_(*(p.where(identity) for p in self.parts))

    def alternatives(self, identity):
        combined: list[ColumnElement[bool]] = [sa.true()]
        for part in self.parts:
            combined = [choice if isinstance(done, sa.True_) else done if isinstance(choice, sa.True_)
                        else sa.and_(done, choice)
                        for done in combined for choice in part.alternatives(identity)]
        return combined


@dataclass(frozen=True)
class Any_(Generator):
    parts: tuple[Generator, ...]

    def allows(self, identity, obj):
        return any(p.allows(identity, obj) for p in self.parts)

    def where(self, identity):
        return sa.or_(*(p.where(identity) for p in self.parts))

    def alternatives(self, identity):
        choices = [choice for p in self.parts for choice in p.alternatives(identity)]
        return [sa.true()] if any(isinstance(choice, sa.True_) for choice in choices) else choices


def all_of(*parts: Generator) -> All:
    return All(tuple(parts))


def any_of(*parts: Generator) -> Any_:
    return Any_(tuple(parts))


class Policy:
    def __init__(self) -> None:
        self._rules: dict[tuple[Any, str], Generator] = {}

    def register(self, target: Any, action: str, rule: Generator) -> None:
        """`target` is a model class, or None for actions on the system (manage_users, read_audit)."""
        self._rules[(target, action)] = rule

    def _rule(self, target: Any, action: str) -> Generator | None:
        return self._rules.get((target, action))

    def can(self, identity: Any, action: str, obj: Any = None) -> bool:
        if not _acting(identity):
            return False
        target = type(obj) if obj is not None else None
        rule = self._rule(target, action)
        return rule is not None and rule.allows(identity, obj)

    def require(self, identity: Any, action: str, obj: Any = None) -> None:
        if not self.can(identity, action, obj):
            raise AccessDenied(action, obj)

    def fetch(self, identity: Any, action: str, model: Any, obj_id: Any) -> Any:
        """Load one object to act on. A missing object and a forbidden one end alike: as a 404."""
        from ..extensions import db

        obj = db.session.get(model, obj_id)
        if obj is None:
            raise NotFound("Not found.")
        self.require(identity, action, obj)
        return obj

    def where(self, identity: Any, action: str, model: Any) -> ColumnElement[bool]:
        """A SQL clause selecting exactly the rows of `model` the identity may `action`."""
        if not _acting(identity):
            return sa.false()
        rule = self._rule(model, action)
        return rule.where(identity) if rule is not None else sa.false()

    def alternatives(self, identity: Any, action: str, model: Any) -> list[ColumnElement[bool]]:
        """The same rows as `where`, as clauses without OR, one per reason to allow: a listing of every
        allowed row can read each from its own index and join the lists (UNION ALL; a row may come twice)
        instead of asking the database to merge the reasons row by row. None at all: nothing is allowed."""
        if not _acting(identity):
            return []
        rule = self._rule(model, action)
        return rule.alternatives(identity) if rule is not None else []


policy = Policy()

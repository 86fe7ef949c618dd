"""Users, departments, log-in with throttling. Services take the acting identity first."""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache

import argon2.profiles
import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from ..audit import services as audit
from ..audit.models import AuditEvent
from ..core.enums import Level, Role
from ..core.errors import Conflict, NotFound, ValidationError
from ..core.permissions import policy
from ..core.types import utcnow
from ..core.uow import unit_of_work
from ..extensions import db
from .models import Department, User

@cache
def _hasher_for(profile: str) -> PasswordHasher:
    return PasswordHasher.from_parameters(getattr(argon2.profiles, profile))


def _hasher() -> PasswordHasher:
    """Argon2id (memory-hard) with RFC 9106's second recommendation (PASSWORD_HASH_PROFILE); the test suite
    alone picks argon2-cffi's CHEAPEST profile, the same algorithm at a cost that lets it create thousands of
    users. A hash records its own parameters, so it verifies under any profile and is renewed at log-in."""
    return _hasher_for(current_app.config["PASSWORD_HASH_PROFILE"])
MIN_PASSWORD_LENGTH = 10

# The departments of DOMAIN.md; the general manager's office is the central archive.
DEFAULT_DEPARTMENTS = [
    ("GMO", "总经理办公室", "General manager's office", True),
    ("SALES", "项目销售组", "Project sales group", False),
    ("CA", "销售经营部客户事务组", "Customer affairs group", False),
    ("COM", "销售经营部商业组", "Commercial group", False),
    ("CSC", "客户服务中心", "Customer service centre", False),
    ("LEGAL", "法律室", "Legal office", False),
    ("FIN", "财务管理部", "Finance department", False),
]


@dataclass(frozen=True)
class SystemIdentity:
    """The operator at the shell running `archive` commands: an administrator, reading no documents."""

    id: None = None
    username: str = "cli"
    display_name: str = "command line"
    department_id: None = None
    clearance: Level = Level.C
    roles: frozenset[Role] = field(default_factory=lambda: frozenset({Role.ADMIN}))
    is_authenticated: bool = True
    is_active: bool = True

    def has_role(self, *roles: Role) -> bool:
        return not self.roles.isdisjoint(roles)


SYSTEM = SystemIdentity()


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def _check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError("The password must have at least %(n)s characters.", n=MIN_PASSWORD_LENGTH)


def department_by_code(code: str) -> Department:
    dept = db.session.scalar(sa.select(Department).where(Department.code == code))
    if dept is None:
        raise NotFound("No department with code %(code)s.", code=code)
    return dept


def list_departments() -> list[Department]:
    return list(db.session.scalars(sa.select(Department).order_by(Department.id)))


def create_department(identity, code: str, name: str, name_en: str = "", is_archive: bool = False) -> Department:
    policy.require(identity, "manage_users")
    code = code.strip().upper()
    if not code or not name.strip():
        raise ValidationError("A department needs a code and a name.")
    with unit_of_work():
        if db.session.scalar(sa.select(Department.id).where(Department.code == code)):
            raise Conflict("A department with code %(code)s already exists.", code=code)
        dept = Department(code=code, name=name.strip(), name_en=name_en.strip(), is_archive=is_archive)
        db.session.add(dept)
        db.session.flush()
        audit.record("department.create", actor=identity, obj=dept, code=code, name=dept.name)
    return dept


def ensure_default_departments() -> None:
    with unit_of_work():
        existing = set(db.session.scalars(sa.select(Department.code)))
        for code, name, name_en, is_archive in DEFAULT_DEPARTMENTS:
            if code not in existing:
                db.session.add(Department(code=code, name=name, name_en=name_en, is_archive=is_archive))


def list_users(identity) -> list[User]:
    policy.require(identity, "manage_users")
    return list(db.session.scalars(sa.select(User).order_by(User.username)))


def get_user(identity, user_id: int) -> User:
    policy.require(identity, "manage_users")
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


def create_user(
    identity,
    *,
    username: str,
    display_name: str,
    department_code: str,
    roles: set[Role],
    clearance: Level = Level.C,
    password: str | None = None,
    email: str | None = None,
) -> tuple[User, str]:
    """Create an account; returns it with its password (generated when none is given)."""
    policy.require(identity, "manage_users")
    username = username.strip().lower()
    if not username or not username.replace("_", "").replace(".", "").replace("-", "").isalnum():
        raise ValidationError("A login may contain letters, digits, '.', '-' and '_' only.")
    if not roles:
        raise ValidationError("Give the user at least one role.")
    password = password or generate_password()
    _check_password_strength(password)
    with unit_of_work():
        if db.session.scalar(sa.select(User.id).where(User.username == username)):
            raise Conflict("The login %(username)s is taken.", username=username)
        dept = department_by_code(department_code)
        user = User(
            username=username,
            display_name=display_name.strip() or username,
            email=(email or "").strip() or None,
            department=dept,
            clearance=clearance,
            password_hash=hash_password(password),
        )
        user.set_roles(roles)
        db.session.add(user)
        db.session.flush()
        audit.record(
            "user.create",
            actor=identity,
            obj=user,
            username=username,
            department=dept.code,
            roles=sorted(r.value for r in roles),
            clearance=clearance.value,
        )
    return user, password


def update_user(identity, user_id: int, *, display_name: str, department_code: str, roles: set[Role],
                clearance: Level, active: bool, email: str | None = None) -> User:
    policy.require(identity, "manage_users")
    if not roles:
        raise ValidationError("Give the user at least one role.")
    with unit_of_work():
        user = get_user(identity, user_id)
        if user.id == identity.id and (not active or Role.ADMIN not in roles):
            # An administrator locking themselves out could leave the archive with nobody to manage it.
            raise ValidationError("You cannot disable your own account or take away your own administrator role.")
        before = _user_snapshot(user)
        user.display_name = display_name.strip() or user.username
        user.email = (email or "").strip() or None
        user.department = department_by_code(department_code)
        user.set_roles(roles)
        user.clearance = clearance
        user.active = active
        after = _user_snapshot(user)
        changed = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
        if changed:
            audit.record("user.update", actor=identity, obj=user, changes=changed)
    return user


def _user_snapshot(user: User) -> dict:
    return {
        "display_name": user.display_name,
        "email": user.email,
        "department": user.department.code,
        "roles": sorted(r.value for r in user.roles),
        "clearance": user.clearance.value,
        "active": user.active,
    }


def set_active(identity, username: str, active: bool) -> User:
    policy.require(identity, "manage_users")
    with unit_of_work():
        user = db.session.scalar(sa.select(User).where(User.username == username.strip().lower()))
        if user is None:
            raise NotFound("No user with login %(username)s.", username=username)
        user.active = active
        audit.record("user.enable" if active else "user.disable", actor=identity, obj=user, username=user.username)
    return user


def reset_password(identity, user_id: int) -> str:
    """An administrator sets a new random password and tells the user; returns it once."""
    policy.require(identity, "manage_users")
    password = generate_password()
    with unit_of_work():
        user = get_user(identity, user_id)
        user.password_hash = hash_password(password)
        audit.record("user.password_reset", actor=identity, obj=user, username=user.username)
    return password


def change_password(user: User, current: str, new: str) -> None:
    if not _verify(user, current):
        raise ValidationError("The current password is not right.")
    _check_password_strength(new)
    with unit_of_work():
        user.password_hash = hash_password(new)
        audit.record("user.password_change", actor=user, obj=user)


def set_locale(user: User, locale: str) -> None:
    with unit_of_work():
        user.locale = locale


class LoginThrottled(Exception):
    def __init__(self, minutes: int) -> None:
        super().__init__(minutes)
        self.minutes = minutes


def _verify(user: User, password: str) -> bool:
    try:
        return _hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _recent_failures(username: str, ip: str) -> tuple[int, int]:
    """Failed log-ins in the lock-out window, for this login and for this address."""
    since = utcnow() - timedelta(minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"])
    base = sa.select(sa.func.count()).where(
        AuditEvent.action == "auth.login", AuditEvent.outcome == audit.FAILURE, AuditEvent.occurred_at >= since
    )
    by_login = db.session.scalar(base.where(AuditEvent.object_type == "login", AuditEvent.object_id == username))
    by_ip = db.session.scalar(base.where(AuditEvent.ip == ip)) if ip else 0
    return by_login or 0, by_ip or 0


def locked_out_logins(identity) -> list[str]:
    """Logins refused at the moment: as many failed log-ins within the lock-out window as allowed."""
    policy.require(identity, "manage_users")
    since = utcnow() - timedelta(minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"])
    return list(db.session.scalars(
        sa.select(AuditEvent.object_id).where(
            AuditEvent.action == "auth.login", AuditEvent.outcome == audit.FAILURE, AuditEvent.object_type == "login",
            AuditEvent.occurred_at >= since)
        .group_by(AuditEvent.object_id).having(sa.func.count() >= current_app.config["LOGIN_MAX_FAILURES"])
        .order_by(AuditEvent.object_id)
    ))


def authenticate(username: str, password: str, ip: str) -> User | None:
    """Check a log-in. Refuses, without checking the password, while too many recent attempts failed."""
    username = username.strip().lower()[:64]
    limit = current_app.config["LOGIN_MAX_FAILURES"]
    by_login, by_ip = _recent_failures(username, ip)
    if by_login >= limit or by_ip >= limit * 4:
        audit.record_now("auth.login", object_type="login", object_id=username, outcome=audit.DENIED, ip=ip,
                         reason="throttled")
        raise LoginThrottled(current_app.config["LOGIN_LOCKOUT_MINUTES"])
    user = db.session.scalar(sa.select(User).where(User.username == username))
    # Hash even for an unknown login, so timing does not tell which logins exist.
    ok = _verify(user, password) if user else (_hasher().hash(password) and False)
    with unit_of_work():
        if ok and user.active:
            user.last_login_at = utcnow()
            if _hasher().check_needs_rehash(user.password_hash):
                user.password_hash = hash_password(password)
            audit.record("auth.login", actor=user, object_type="login", object_id=username, ip=ip)
            return user
        audit.record("auth.login", actor=user, object_type="login", object_id=username, ip=ip,
                     outcome=audit.FAILURE, reason="disabled" if ok else "bad credentials")
    return None


def record_logout(user: User, ip: str) -> None:
    with unit_of_work():
        audit.record("auth.logout", actor=user, object_type="login", object_id=user.username, ip=ip)

"""Creating, listing, revoking and checking personal API tokens.

A token is 32 random bytes (256 bits) from `secrets`, shown to its owner once. Only its SHA-256 is stored:
a slow password hash (Argon2) protects guessable passwords, but nobody can guess 256 random bits, so a fast
hash is as safe here and lets every API request find its token by an indexed lookup instead of trying each
stored hash in turn. A copy of the database therefore holds no usable token.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import LazyString, lazy_gettext as _l

from ..audit import services as audit
from ..auth.models import User
from ..core.errors import ValidationError
from ..core.permissions import policy
from ..core.types import utcnow
from ..core.uow import unit_of_work
from ..extensions import db
from .models import ApiToken

TOKEN_PREFIX = "pa_"
MAX_DAYS = 365
SHOWN_PREFIX_LENGTH = 10  # "pa_" and 7 characters of the secret: enough to tell tokens apart, useless to guess
LAST_USED_PRECISION = timedelta(minutes=1)  # at most one write per token and minute, however busy


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # the whole token; shown once, never stored


def create_token(identity, *, name: str, days: int, owner: User | None = None) -> NewToken:
    """A token for the identity itself (`owner` is for the command line, which acts as the system)."""
    owner = owner or identity
    policy.require(owner, "create_api_token")
    name = name.strip()
    if not name:
        raise ValidationError("Give the token a name that says where it is used.")
    if len(name) > 100:
        raise ValidationError("The name is too long: at most %(max)s characters.", max=100)
    if not 1 <= days <= MAX_DAYS:
        raise ValidationError("A token expires after 1 to %(max)s days.", max=MAX_DAYS)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    with unit_of_work():
        token = ApiToken(user_id=owner.id, name=name, prefix=secret[:SHOWN_PREFIX_LENGTH], token_hash=token_hash(secret),
                         created_at=now, expires_at=now + timedelta(days=days))
        db.session.add(token)
        db.session.flush()
        audit.record("api_token.create", actor=identity, obj=token, owner=owner.username, name=name,
                     prefix=token.prefix, expires=token.expires_at.isoformat())
    return NewToken(token, secret)


def tokens_of(identity, user_id: int | None = None) -> list[ApiToken]:
    """The identity's own tokens; with `user_id` (or None for everyone's) an administrator's view."""
    stmt = sa.select(ApiToken).where(policy.where(identity, "read", ApiToken)).order_by(ApiToken.id.desc())
    if user_id is not None:
        stmt = stmt.where(ApiToken.user_id == user_id)
    return list(db.session.scalars(stmt))


def all_tokens(identity) -> list[ApiToken]:
    policy.require(identity, "manage_api_tokens")
    return tokens_of(identity)


def revoke(identity, token_id: int) -> ApiToken:
    token = policy.fetch(identity, "revoke", ApiToken, token_id)
    if token.revoked_at is None:
        with unit_of_work():
            token.revoked_at = utcnow()
            token.revoked_by_id = identity.id
            audit.record("api_token.revoke", actor=identity, obj=token, owner=token.user.username,
                         prefix=token.prefix)
    return token


class TokenRefused(Exception):
    """The request's token does not authenticate anyone; the message (translated when shown) says why."""

    def __init__(self, message: LazyString) -> None:
        super().__init__(message)
        self.message = message


def authenticate(secret: str) -> User:
    """The user a bearer token stands for, or TokenRefused: unknown, revoked, expired, or a disabled account."""
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == token_hash(secret.strip())))
    if token is None:
        raise TokenRefused(_l("The token is not valid."))
    now = utcnow()
    if token.revoked_at is not None:
        raise TokenRefused(_l("The token was revoked."))
    if now >= token.expires_at:
        raise TokenRefused(_l("The token has expired."))
    if not token.user.is_active:
        raise TokenRefused(_l("The account of this token is disabled."))
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        with unit_of_work():
            token.last_used_at = now
    return token.user

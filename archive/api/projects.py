"""Projects and dossiers."""
from __future__ import annotations

import sqlalchemy as sa
from flask_login import current_user

from ..core.permissions import policy
from ..units import services as units
from ..units.models import Dossier
from .framework import ROW_ID, ApiBlueprint
from .pagination import keyset_page
from .schemas import (DossierListArgs, DossierPageSchema, DossierSchema, ProjectListSchema, ProjectSchema,
                      ProjectUnitListSchema)

blp = ApiBlueprint("api_projects", __name__, description="Projects and their dossiers")


@blp.get("/projects")
@blp.response(200, ProjectListSchema)
def list_projects():
    """The projects (every reader of dossiers sees the register)."""
    return {"items": units.list_projects(current_user)}


@blp.get(f"/projects/<{ROW_ID}:project_id>")
@blp.response(200, ProjectSchema)
def get_project(project_id: int):
    return units.get_project(current_user, project_id)


@blp.get(f"/projects/<{ROW_ID}:project_id>/units")
@blp.response(200, ProjectUnitListSchema)
def list_units(project_id: int):
    """The project's units (房号), building by building, each with the id of its dossier (一户一档)."""
    return {"items": units.project_units(current_user, project_id)}


@blp.get("/dossiers")
@blp.arguments(DossierListArgs, location="query")
@blp.response(200, DossierPageSchema)
def list_dossiers(args):
    """The dossiers the caller may read, optionally of one project, in the order they were opened."""
    policy.require(current_user, "browse_dossiers")
    stmt = sa.select(Dossier).where(policy.where(current_user, "read", Dossier))
    if args["project_id"]:
        stmt = stmt.where(Dossier.project_id == args["project_id"])
    page = keyset_page(stmt, Dossier.id, args["cursor"], args["limit"])
    return {"items": page.items, "next_cursor": page.next_cursor, "next": page.next}


@blp.get(f"/dossiers/<{ROW_ID}:dossier_id>")
@blp.response(200, DossierSchema)
def get_dossier(dossier_id: int):
    """One dossier; the view is audited, as on its page."""
    return units.get_dossier(current_user, dossier_id)

"""Full-text search, through the same service (and so the same policy and audit) as the search page."""
from __future__ import annotations

from flask_login import current_user

from ..search import services as search_services
from .framework import ApiBlueprint
from .pagination import CursorPage, decode_cursor, encode_cursor
from .schemas import SearchArgs, SearchResultSchema

blp = ApiBlueprint("api_search", __name__, description="Full-text search")


@blp.get("/search")
@blp.arguments(SearchArgs, location="query")
@blp.response(200, SearchResultSchema)
def search(args):
    """Documents the caller may read that match `q` (words, "phrases", OR, -word, title:…) and the filters.
    The cursor stands for a result page: ranking does not allow keyset paging."""
    query = search_services.SearchQuery(
        text=args["q"], category=args["category"], level=args["level"], project_id=args["project_id"],
        date_from=args["date_from"], date_to=args["date_to"], sort=args["sort"],
    )
    page_number = decode_cursor(args["cursor"], "page") or 1
    found = search_services.search(current_user, query, page=page_number, per_page=args["limit"])
    page = CursorPage(found.hits, encode_cursor(page=page_number + 1) if found.has_next else None)
    return {"total": found.total, "items": page.items, "next_cursor": page.next_cursor, "next": page.next}

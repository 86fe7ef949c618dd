"""Schemathesis against the running app (in-process WSGI): generated requests to every operation, with a token
of a user who has data, must get no server error and only answers the OpenAPI document describes."""
from __future__ import annotations

import re
import time

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from archive.core.enums import Category, Level, Role
from archive.extensions import db
from archive.handovers import services as handovers
from archive.handovers.deadlines import ensure_default_rules
from archive.handovers.models import HandoverRule
from archive.loans.services import local_today
from tests.api.conftest import API, bearer
from tests.factories import make_pdf
from tests.loans.conftest import request_loan

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES_PER_OPERATION = 6


@pytest.mark.slow
def test_generated_requests_find_no_server_error_and_no_answer_outside_the_schema(app, factory, clock, staff):
    clerk = factory.user("sales-fuzz", roles=(Role.CLERK, Role.DEPT_HEAD), clearance=Level.B)
    dossier = factory.dossier()
    document = factory.document(dossier, title="房地产买卖合同", content=make_pdf("押金 5,000 元"))
    borrower = factory.user("csc-fuzz", department="CSC")
    loan = request_loan(borrower, [document])
    ensure_default_rules()
    batch = handovers.create_batch(clerk, db.session.scalar(sa.select(HandoverRule.id).where(
        HandoverRule.category == Category.XS)))
    (line,) = handovers.add_documents(clerk, batch.id, [document.id])
    real_ids = {"project_id": dossier.project_id, "dossier_id": dossier.id, "document_id": document.id,
                "loan_id": loan.id, "step_id": loan.steps[0].id, "handover_id": batch.id, "item_id": line.id}
    headers = bearer(clerk)
    db.session.commit()  # the requests run in contexts of their own; SQLite allows one writer
    schema = schemathesis.openapi.from_wsgi(f"{API}/openapi.json", app)

    started, operations = time.monotonic(), 0
    for result in schema.get_all_operations():
        operation = result.ok()
        names = set(re.findall(r"{(\w+)}", operation.path))
        for path_parameters in ({name: real_ids[name] for name in names}, None) if names else (None,):
            @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
                      phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(headers=headers, path_parameters=path_parameters))
            def call(case):
                case.call_and_validate(checks=CHECKS)

            call()
        operations += 1
    assert operations >= 18
    assert time.monotonic() - started < 60

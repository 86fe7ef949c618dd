"""Loans: requests, approval steps and every transition, through the loan services."""
from __future__ import annotations

from flask_login import current_user

from ..core.errors import ValidationError
from ..loans import services as loans
from .framework import ROW_ID, ApiBlueprint
from .schemas import (DecisionArgs, IssueArgs, LoanListSchema, LoanRequestArgs, LoanSchema, LoanStepListSchema,
                      RenewArgs, ReturnArgs)

blp = ApiBlueprint("api_loans", __name__, description="Loans (借阅) and their approval steps")


@blp.get("/loans")
@blp.response(200, LoanListSchema)
def my_loans():
    """The caller's requests and loans, newest first."""
    return {"items": loans.my_loans(current_user)}


@blp.post("/loans")
@blp.arguments(LoanRequestArgs)
@blp.response(201, LoanSchema)
def request_loan(args):
    """Put the documents and whole dossiers into the caller's basket and send it as one request (anything
    already in the basket from the pages goes with it)."""
    if not args["document_ids"] and not args["dossier_ids"]:
        raise ValidationError("Choose at least one document.")
    draft = None
    if args["document_ids"]:
        draft = loans.add_documents(current_user, args["document_ids"])
    for dossier_id in dict.fromkeys(args["dossier_ids"]):
        draft = loans.add_dossier(current_user, dossier_id)
    return loans.submit(current_user, draft.id, purpose=args["purpose"], use=args["use"],
                        start_date=args["start_date"], due_date=args["due_date"])


@blp.get(f"/loans/<{ROW_ID}:loan_id>")
@blp.response(200, LoanSchema)
def get_loan(loan_id: int):
    return loans.get_loan(current_user, loan_id)


@blp.get("/loan-steps/waiting")
@blp.response(200, LoanStepListSchema)
def waiting_steps():
    """The approval steps waiting for the caller's decision, oldest request first."""
    return {"items": loans.inbox(current_user)}


@blp.post(f"/loan-steps/<{ROW_ID}:step_id>/decision")
@blp.arguments(DecisionArgs)
@blp.response(200, LoanSchema)
def decide(args, step_id: int):
    """Approve or reject one step (a rejection needs a comment); nobody decides their own request."""
    return loans.decide(current_user, step_id, args["decision"], args["comment"])


@blp.post(f"/loans/<{ROW_ID}:loan_id>/cancel")
@blp.response(200, LoanSchema)
def cancel(loan_id: int):
    """Withdraw a request until it is issued."""
    return loans.cancel(current_user, loan_id)


@blp.post(f"/loans/<{ROW_ID}:loan_id>/issue")
@blp.arguments(IssueArgs)
@blp.response(200, LoanSchema)
def issue(args, loan_id: int):
    """Hand out the paper items of an approved loan (the archive), with the pages counted per item."""
    pages = args["pages"]
    if pages is not None:
        try:
            pages = {int(item_id): count for item_id, count in pages.items()}
        except ValueError:
            raise ValidationError("These items are not part of this loan.") from None
    return loans.issue(current_user, loan_id, pages)


@blp.post(f"/loans/<{ROW_ID}:loan_id>/return")
@blp.arguments(ReturnArgs)
@blp.response(200, LoanSchema)
def check_return(args, loan_id: int):
    """Check paper items back one by one (the archive); the loan closes when all are back in order."""
    checks = {check["item_id"]: loans.ItemCheck(check["state"], check["pages"], check["note"])
              for check in args["items"]}
    return loans.check_return(current_user, loan_id, checks)


@blp.post(f"/loans/<{ROW_ID}:loan_id>/end-access")
@blp.response(200, LoanSchema)
def end_access(loan_id: int):
    """End an electronic loan before its time."""
    return loans.end_access(current_user, loan_id)


@blp.post(f"/loans/<{ROW_ID}:loan_id>/renewal")
@blp.arguments(RenewArgs)
@blp.response(201, LoanSchema)
def renew(args, loan_id: int):
    """Ask for a longer period: a new request, approved like any other."""
    return loans.request_renewal(current_user, loan_id, due_date=args["due_date"], purpose=args["purpose"])

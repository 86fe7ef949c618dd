"""Loan pages: the basket, requests, approvals, the archivist's desk, watermarked viewing, slips, statistics."""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, to_user_timezone
from flask_login import current_user, login_required

from ..core.errors import ArchiveError, NotFound, ValidationError
from ..core.forms import PeriodForm
from ..core.types import utcnow
from ..core.web import error_text, perform_step, safe_next, send_private
from ..documents.services import Upload
from . import services, viewing
from .forms import ConsultationForm, DecideForm, RenewForm, SubmitForm, item_values
from .models import Decision, ItemState, LoanUse

bp = Blueprint("loans", __name__, url_prefix="/loans")


def _back(default: str) -> Response:
    return redirect(safe_next(request.form.get("next"), default))


# The basket: the borrower's draft request -------------------------------------------------------------


@bp.get("/basket")
@login_required
def basket():
    return _basket_page(SubmitForm(formdata=None))


def _basket_page(form: SubmitForm, error: str | None = None, status: int = 200):
    loan = services.basket(current_user)
    chain = services.approval_chain_preview(current_user, loan.id) if loan and loan.items else []
    return render_template("loans/basket.html", loan=loan, form=form, chain=chain, error=error), status


@bp.post("/basket/documents")
@login_required
def add_documents():
    ids = [int(v) for v in request.form.getlist("document_id") if v.isdigit()]
    return _into_basket(lambda: services.add_documents(current_user, ids))


@bp.post("/basket/dossiers/<int:dossier_id>")
@login_required
def add_dossier(dossier_id: int):
    return _into_basket(lambda: services.add_dossier(current_user, dossier_id))


def _into_basket(add) -> Response:
    try:
        loan = add()
    except ValidationError as exc:
        flash(error_text(exc), "error")
    else:
        flash(_("Added to your loan request (%(count)s item(s) in it).", count=len(loan.items)), "success")
    return _back(url_for(".basket"))


@bp.post("/basket/items/<int:item_id>/remove")
@login_required
def remove_item(item_id: int):
    services.remove_item(current_user, item_id)
    return redirect(url_for(".basket"))


@bp.post("/basket/submit")
@login_required
def submit():
    form = SubmitForm()
    loan = services.basket(current_user)
    if loan is None:
        return redirect(url_for(".basket"))
    if not form.validate():
        return _basket_page(form, status=400)
    try:
        loan = services.submit(
            current_user, loan.id, purpose=form.purpose.data, use=LoanUse(form.use.data),
            start_date=form.start_date.data, due_date=form.due_date.data,
        )
    except ValidationError as exc:
        return _basket_page(form, error=error_text(exc), status=400)
    flash(_("Loan request %(number)s is sent for approval.", number=loan.number), "success")
    return redirect(url_for(".loan", loan_id=loan.id))


@bp.get("/dossiers/<int:dossier_id>")
@login_required
def catalogue(dossier_id: int):
    """A dossier's documents this person may ask to borrow: titles and numbers only, never content."""
    dossier, documents = viewing.catalogue(current_user, dossier_id)
    draft = services.basket(current_user)
    basket_ids = {item.document_id for item in draft.items} if draft else set()
    return render_template("loans/catalogue.html", dossier=dossier, documents=documents, basket_ids=basket_ids)


# One loan and its transitions -------------------------------------------------------------------------


@bp.get("/")
@login_required
def mine():
    return render_template("loans/mine.html", loans=services.my_loans(current_user))


@bp.get("/<int:loan_id>")
@login_required
def loan(loan_id: int):
    return _loan_page(loan_id)


def _loan_page(loan_id: int, *, error: str | None = None, status: int = 200,
               decide_form: DecideForm | None = None, renew_form: RenewForm | None = None):
    loan = services.get_loan(current_user, loan_id)
    decidable = [step for step in loan.steps if services.may_decide(current_user, step)]
    viewable = {d.id for d in viewing.viewable_documents(current_user, loan)}
    return render_template(
        "loans/loan.html", loan=loan, decidable=decidable, viewable=viewable, error=error,
        decide_form=decide_form or DecideForm(formdata=None), renew_form=renew_form or RenewForm(formdata=None),
        item_states=[ItemState.RETURNED, ItemState.DAMAGED, ItemState.MISSING],
        actions=services.actions(current_user, loan),
    ), status


def _transition(loan_id: int, action, success: str, **page) -> Response:
    return perform_step(action, success, done=url_for(".loan", loan_id=loan_id),
                        refused=lambda exc: _loan_page(loan_id, error=error_text(exc), status=exc.status_code, **page))


@bp.post("/<int:loan_id>/steps/<int:step_id>")
@login_required
def decide(loan_id: int, step_id: int):
    # The step must belong to the loan the page is about: the answer shows that loan.
    if step_id not in {step.id for step in services.get_loan(current_user, loan_id).steps}:
        raise NotFound("Not found.")
    form = DecideForm()
    if not form.validate():
        return _loan_page(loan_id, decide_form=form, status=400)
    decision = Decision(form.decision.data)
    message = _("You approved this request.") if decision is Decision.APPROVED else _("You rejected this request.")
    return _transition(
        loan_id, lambda: services.decide(current_user, step_id, decision, form.comment.data or ""), message,
        decide_form=form,
    )


@bp.post("/<int:loan_id>/cancel")
@login_required
def cancel(loan_id: int):
    return _transition(loan_id, lambda: services.cancel(current_user, loan_id), _("The request is cancelled."))


@bp.post("/<int:loan_id>/issue")
@login_required
def issue(loan_id: int):
    loan = services.get_loan(current_user, loan_id)
    try:
        pages = {item_id: _count(value) for item_id, value in
                 item_values(request.form, "pages", [i.id for i in loan.items]).items()}
    except ValidationError as exc:
        return _loan_page(loan_id, error=error_text(exc), status=400)
    return _transition(loan_id, lambda: services.issue(current_user, loan_id, pages), _("The items are issued."))


@bp.post("/<int:loan_id>/return")
@login_required
def check_return(loan_id: int):
    loan = services.get_loan(current_user, loan_id)
    ids = [i.id for i in loan.items]
    states = item_values(request.form, "state", ids)
    pages = item_values(request.form, "pages", ids)
    notes = item_values(request.form, "note", ids)
    try:
        checks = {
            item_id: services.ItemCheck(ItemState(state), _count(pages.get(item_id)), notes.get(item_id, ""))
            for item_id, state in states.items() if state in {s.value for s in ItemState}
        }
    except ValidationError as exc:
        return _loan_page(loan_id, error=error_text(exc), status=400)
    return _transition(
        loan_id, lambda: services.check_return(current_user, loan_id, checks), _("The return is recorded.")
    )


def _count(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    if not value.isdigit():
        raise ValidationError("Page counts are whole numbers.")
    return int(value)


@bp.post("/<int:loan_id>/end")
@login_required
def end_access(loan_id: int):
    return _transition(loan_id, lambda: services.end_access(current_user, loan_id), _("Access is ended."))


@bp.post("/<int:loan_id>/renew")
@login_required
def renew(loan_id: int):
    form = RenewForm()
    if not form.validate():
        return _loan_page(loan_id, renew_form=form, status=400)
    try:
        renewal = services.request_renewal(
            current_user, loan_id, due_date=form.due_date.data, purpose=form.purpose.data
        )
    except ArchiveError as exc:
        return _loan_page(loan_id, renew_form=form, error=error_text(exc), status=exc.status_code)
    flash(_("Renewal %(number)s is sent for approval.", number=renewal.number), "success")
    return redirect(url_for(".loan", loan_id=renewal.id))


@bp.get("/<int:loan_id>/slip.pdf")
@login_required
def slip(loan_id: int):
    pdf = viewing.slip(current_user, loan_id)
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="loan-{loan_id}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/<int:loan_id>/documents/<int:document_id>/view")
@login_required
def view(loan_id: int, document_id: int):
    """The watermarked rendition a borrower reads under an electronic loan."""
    to_send = viewing.watermarked_view(current_user, loan_id, document_id)
    return send_private(to_send.stream, media_type=to_send.media_type, filename=to_send.filename, size=to_send.size)


# Work lists -------------------------------------------------------------------------------------------


@bp.get("/inbox")
@login_required
def inbox():
    return render_template("loans/inbox.html", steps=services.inbox(current_user))


@bp.get("/desk")
@login_required
def desk():
    return render_template("loans/desk.html", desk=services.desk(current_user))


@bp.get("/statistics")
@login_required
def statistics():
    form = PeriodForm(formdata=request.args)
    form.validate()
    today = to_user_timezone(utcnow()).date()
    start = form.start.data or today.replace(month=1, day=1)
    end = form.end.data or today
    form.start.data, form.end.data = start, end
    stats = services.statistics(current_user, start, end)
    return render_template("loans/statistics.html", form=form, stats=stats)


@bp.route("/consultations", methods=["GET", "POST"])
@login_required
def consultations():
    form = ConsultationForm()
    error = None
    if request.method == "GET":
        form.consulted_on.data = to_user_timezone(utcnow()).date()
    elif form.validate():
        letter = form.letter.data
        try:
            consultation = services.register_consultation(
                current_user,
                agency_kind=form.agency_kind.data,
                agency_name=form.agency_name.data,
                letter_reference=form.letter_reference.data,
                officer_names=form.officer_names.data,
                officer_ids=form.officer_ids.data,
                purpose=form.purpose.data,
                consulted_on=form.consulted_on.data,
                archive_numbers=form.archive_numbers.data.split(),
                letter=Upload(letter.filename, letter.stream) if letter and letter.filename else None,
            )
        except ValidationError as exc:
            error = error_text(exc)
        else:
            flash(_("Consultation %(number)s is registered.", number=consultation.number), "success")
            return redirect(url_for(".consultations"))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "loans/consultations.html", form=form, error=error, consultations=services.consultations(current_user)
    ), status

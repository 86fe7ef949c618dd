"""Deadlines in Chinese working days (the 2026 Spring Festival and National Day with their adjusted working
days), what each department sees as overdue / due soon / due later, and on-time rates per month."""
from __future__ import annotations

from datetime import date

import chinese_calendar
import pytest
import sqlalchemy as sa

from archive.core.enums import Category, Level
from archive.core.errors import AccessDenied
from archive.core.workdays import CalendarNotCovered
from archive.extensions import db
from archive.handovers import services
from archive.handovers.deadlines import deadlines, due_date, ensure_default_rules, on_time_rates, rule_for
from archive.handovers.models import Handover, HandoverRule, Schedule
from archive.units.models import Dossier
from tests.handovers.conftest import check_all, department_id, local, sent_batch, subscription


def test_the_calendar_the_tests_rely_on():
    """Spring Festival 2026: 15–23 February off, Saturdays 14 and 28 February worked; National Day 2026:
    1–7 October off, Sunday 20 September and Saturday 10 October worked (State Council notice, as packaged)."""
    assert chinese_calendar.is_workday(date(2026, 2, 14)) and chinese_calendar.is_workday(date(2026, 2, 28))
    assert not any(chinese_calendar.is_workday(date(2026, 2, d)) for d in range(15, 24))
    assert chinese_calendar.is_workday(date(2026, 9, 20)) and chinese_calendar.is_workday(date(2026, 10, 10))
    assert not any(chinese_calendar.is_workday(date(2026, 10, d)) for d in range(1, 8))


def test_default_rules_are_seeded_once_and_edits_are_kept(app):
    ensure_default_rules()
    rules = {r.category: r for r in db.session.scalars(sa.select(HandoverRule))}
    assert set(rules) == {Category(c) for c in ("XS", "QY", "BZ", "RH", "WX", "PF", "SS", "ZL")}
    assert (rules[Category.XS].from_department.code, rules[Category.XS].to_department.code,
            rules[Category.XS].workdays) == ("SALES", "CA", 5)
    assert rules[Category.SS].schedule is Schedule.WORKDAYS_AFTER_CASE_CLOSED and rules[Category.SS].workdays == 10
    rules[Category.SS].workdays = 15
    db.session.commit()
    ensure_default_rules()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(HandoverRule)) == 8
    assert db.session.get(HandoverRule, rules[Category.SS].id).workdays == 15


@pytest.mark.parametrize("signed, due", [
    (date(2026, 2, 12), date(2026, 2, 26)),  # Fri 13, Sat 14 (worked), then 24, 25, 26 after the festival
    (date(2026, 2, 13), date(2026, 2, 27)),
    (date(2026, 2, 16), date(2026, 2, 28)),  # signed in the holiday: 24, 25, 26, 27 and Saturday 28 (worked)
    (date(2026, 9, 29), date(2026, 10, 12)),  # 30 Sep, 8, 9, Sat 10 (worked), 12 October
    (date(2026, 9, 18), date(2026, 9, 24)),  # Sun 20 September is worked: 20, 21, 22, 23, 24
])
def test_subscriptions_are_due_five_working_days_after_signing(app, factory, rules, signed, due):
    document = subscription(factory, factory.dossier(), doc_date=signed)
    assert rule_for(document) == rules[Category.XS]
    assert due_date(document, rules[Category.XS]) == due


def test_contract_papers_are_due_a_month_after_move_in_then_quarterly(app, factory, rules):
    dossier = factory.dossier()
    early = factory.document(dossier, category="QY", department="CA", title="房地产买卖合同", doc_date=date(2026, 1, 20))
    later = factory.document(dossier, category="RH", department="CA", title="交房结算单", doc_date=date(2026, 5, 6))
    assert due_date(early, rules[Category.QY]) is None  # no collective move-in recorded: the clock has not started
    dossier.project.move_in_date = date(2026, 1, 15)  # a month later is 15 February, in the holiday
    db.session.commit()
    assert due_date(early, rules[Category.QY]) == date(2026, 2, 24)  # the first working day after it
    assert due_date(later, rules[Category.RH]) == date(2026, 6, 30)  # end of its quarter, a Tuesday
    dossier.project.move_in_date = date(2026, 1, 14)
    assert due_date(early, rules[Category.QY]) == date(2026, 2, 14)  # a worked Saturday stays


def test_periodic_and_litigation_deadlines(app, factory, rules):
    dossier = factory.dossier()
    repair = factory.document(dossier, category="WX", department="CSC", title="维修单", doc_date=date(2026, 3, 9))
    lease = factory.document(dossier, category="ZL", department="COM", title="租赁合同", doc_date=date(2026, 8, 3))
    assert due_date(repair, rules[Category.WX]) == date(2026, 6, 30)
    assert due_date(lease, rules[Category.ZL]) == date(2026, 9, 30)
    autumn_repair = factory.document(dossier, category="WX", department="CSC", title="维修单", doc_date=date(2026, 7, 1))
    assert due_date(autumn_repair, rules[Category.WX]) == date(2026, 12, 31)

    from archive.units import services as units

    case = units.create_litigation_file(factory.archivist, dossier.id, "业主诉物业服务合同纠纷")
    judgment = factory.document(case, category="SS", department="LEGAL", title="民事判决书", doc_date=date(2026, 9, 1))
    assert due_date(judgment, rules[Category.SS]) is None  # the case is still open
    db.session.get(Dossier, case.id).closed_on = date(2026, 9, 25)  # Mid-Autumn holiday, a Friday
    db.session.commit()
    # 28, 29, 30 September, 8, 9, Sat 10, 12, 13, 14, 15 October.
    assert due_date(judgment, rules[Category.SS]) == date(2026, 10, 15)


def test_a_year_the_calendar_does_not_cover_fails_loudly(app, factory, rules):
    document = subscription(factory, factory.dossier(), doc_date=date(2026, 12, 28))
    with pytest.raises(CalendarNotCovered):
        due_date(document, rules[Category.XS])


def test_each_department_sees_its_overdue_due_soon_and_later_documents(clock, factory, rules, people):
    dossier = factory.dossier()
    overdue = subscription(factory, dossier, title="排号协议", doc_date=date(2026, 2, 3))  # due 10 Feb
    soon = subscription(factory, dossier, title="认购书", doc_date=date(2026, 2, 12))  # due 26 Feb
    id_copy = subscription(factory, dossier, title="身份证复印件", doc_date=date(2026, 2, 13))  # due 27 Feb
    later = subscription(factory, dossier, title="换房审批", doc_date=date(2026, 2, 27))  # due 5 March
    secret = subscription(factory, dossier, title="折扣审批", doc_date=date(2026, 2, 3), level=Level.B)
    done = subscription(factory, dossier, title="已移交认购书", doc_date=date(2026, 2, 3))
    handover = sent_batch(people, rules["XS"], [done])
    check_all(people.ca_clerk, handover)
    services.confirm_sending(people.sales_clerk, handover.id)
    draft = services.create_batch(people.sales_clerk, rules["XS"].id)
    services.add_documents(people.sales_clerk, draft.id, [soon.id])
    repair = factory.document(dossier, category="WX", department="CSC", title="维修单", doc_date=date(2026, 1, 5))

    (sales,) = deadlines(people.sales_clerk)  # today: Wednesday 25 February 2026
    assert sales.department.code == "SALES"
    assert [d.document.id for d in sales.overdue] == [overdue.id]  # not the B one: above the clerk's clearance
    assert sales.overdue[0].due == date(2026, 2, 10) and sales.overdue[0].workdays_left < 0
    # Within three working days: 26, 27 and Saturday 28 February.
    assert [(d.document.id, d.due) for d in sales.due_soon] == [(soon.id, date(2026, 2, 26)),
                                                                (id_copy.id, date(2026, 2, 27))]
    assert sales.due_soon[0].open_handover.number == draft.number  # already on a batch, not yet sent
    assert [(d.document.id, d.due) for d in sales.due_later] == [(later.id, date(2026, 3, 5))]

    (head_view,) = deadlines(people.sales_head)
    assert [d.document.id for d in head_view.overdue] == [overdue.id, secret.id]
    with pytest.raises(AccessDenied):
        deadlines(people.sales_clerk, department_id("CSC"))

    everything = {d.department.code: d for d in deadlines(people.archivist)}
    assert set(everything) == {"SALES", "CA", "CSC", "LEGAL", "COM"}  # every handing department
    assert [d.document.id for d in everything["CSC"].due_soon + everything["CSC"].due_later] == [repair.id]
    (csc,) = deadlines(people.archivist, department_id("CSC"))
    assert csc.due_later[0].due == date(2026, 6, 30)


def test_on_time_rates_per_department_and_month(clock, factory, rules, people):
    dossier = factory.dossier()
    on_time = subscription(factory, dossier, title="认购书 一", doc_date=date(2026, 2, 3))  # due 10 Feb
    late = subscription(factory, dossier, title="认购书 二", doc_date=date(2026, 2, 12))  # due 26 Feb
    subscription(factory, dossier, title="认购书 三", doc_date=date(2026, 2, 5))  # due 12 Feb
    returned = subscription(factory, dossier, title="认购书 四", doc_date=date(2026, 2, 2))  # due 9 Feb
    subscription(factory, dossier, title="认购书 五", doc_date=date(2026, 3, 20))  # due 27 March: not yet counted

    clock.move_to(local(2026, 2, 9, 16), tick=True)
    first = sent_batch(people, rules["XS"], [on_time, returned])
    for item in db.session.get(Handover, first.id).items:
        reason = "缺页" if item.document_id == returned.id else ""
        services.check_item(people.ca_clerk, item.id, counted_items=1, counted_pages=item.pages, reason=reason)
    services.confirm_receipt(people.ca_clerk, first.id)
    services.confirm_sending(people.sales_clerk, first.id)
    clock.move_to(local(2026, 3, 2, 10), tick=True)
    second = sent_batch(people, rules["XS"], [late])
    check_all(people.ca_clerk, second)
    services.confirm_sending(people.sales_clerk, second.id)
    clock.move_to(local(2026, 3, 10, 10), tick=True)

    rates = on_time_rates(people.archivist, start=date(2026, 1, 1), end=date(2026, 3, 31))
    assert [(r.department.code, r.month, r.fell_due, r.on_time) for r in rates] == [
        ("SALES", date(2026, 2, 1), 4, 1)]  # the returned one and the one never sent were late as well
    assert rates[0].rate == 0.25
    assert on_time_rates(people.sales_clerk, start=date(2026, 2, 1), end=date(2026, 2, 28))[0].fell_due == 4
    with pytest.raises(AccessDenied):
        on_time_rates(people.sales_clerk, start=date(2026, 2, 1), end=date(2026, 2, 28),
                      department_id=department_id("CA"))

"""Bulk import: check a whole manifest first, then file its documents one by one, resumably.

Each document is filed through the documents service in a transaction of its own, so an interruption loses at
most the one in hand; a second run recognises what is already filed by the file's SHA-256 in its dossier and
files only the rest.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from ..audit import services as audit
from ..core.errors import AccessDenied, ArchiveError, ValidationError
from ..core.permissions import policy
from ..core.types import utcnow
from ..core.uow import locked, unit_of_work
from ..documents.models import Document, FileVersion
from ..documents.services import Upload, file_documents
from ..extensions import db
from ..shelving.services import put_documents
from .manifest import CheckResult, ImportItem, Problem, check_rows, read_manifest
from .models import ImportJob, JobState

FILED, SKIPPED, FAILED = "filed", "skipped", "failed"


def check_import(identity, manifest_name: str, data: bytes, folder: Path) -> CheckResult:
    """Every problem of the manifest and its files, each with its row; nothing is stored."""
    policy.require(identity, "import_documents")
    if not folder.is_dir():
        return CheckResult(problems=[Problem(0, ValidationError("The folder %(folder)s does not exist.",
                                                                folder=str(folder)))])
    try:
        rows = read_manifest(manifest_name, data)
    except ValidationError as exc:
        return CheckResult(problems=[Problem(0, exc)])
    return check_rows(identity, rows, folder)


@dataclass(frozen=True)
class RowOutcome:
    row: int
    status: str  # FILED, SKIPPED (already filed) or FAILED
    archive_number: str = ""
    error: ArchiveError | None = None


@dataclass
class ImportSummary:
    filed: int = 0
    skipped: int = 0
    failed: list[RowOutcome] = field(default_factory=list)


def _already_filed(item: ImportItem) -> Document | None:
    return db.session.scalar(
        sa.select(Document).join(FileVersion, FileVersion.document_id == Document.id)
        .where(Document.dossier_id == item.dossier_id, FileVersion.plain_sha256 == item.sha256).limit(1))


def _import_one(identity, item: ImportItem) -> RowOutcome:
    document = _already_filed(item)
    status = SKIPPED
    if document is None:
        try:
            with item.path.open("rb") as stream:
                (document,) = file_documents(identity, item.dossier_id, item.meta, [Upload(item.path.name, stream)])
        except ValidationError as exc:  # the file changed since the check
            return RowOutcome(item.row, FAILED, error=exc)
        except OSError:
            return RowOutcome(item.row, FAILED, error=ValidationError(
                "The file %(path)s cannot be read.", path=item.path.name))
        status = FILED
    if item.box_id is not None and document.box_id != item.box_id:  # also finishes a run cut off here
        put_documents(identity, item.box_id, [document.archive_number])
    return RowOutcome(item.row, status, document.archive_number)


def run_import(identity, manifest_name: str, checked: CheckResult,
               on_row: Callable[[RowOutcome], None] | None = None) -> ImportSummary:
    """File every checked row in manifest order; refuses a manifest with any problem (nothing is filed)."""
    policy.require(identity, "import_documents")
    if not checked.ok:
        raise ValidationError("The manifest has %(count)s problem(s); nothing was filed.",
                              count=len(checked.problems))
    summary = ImportSummary()
    for item in checked.items:
        outcome = _import_one(identity, item)
        if outcome.status == FILED:
            summary.filed += 1
        elif outcome.status == SKIPPED:
            summary.skipped += 1
        else:
            summary.failed.append(outcome)
        if on_row is not None:
            on_row(outcome)
    with unit_of_work():
        audit.record("import.run", actor=identity, manifest=manifest_name, rows=len(checked.items),
                     filed=summary.filed, skipped=summary.skipped, failed=len(summary.failed))
    return summary


# The import page: jobs run by the worker ---------------------------------------------------------------------


def import_root() -> Path | None:
    root = current_app.config.get("IMPORT_ROOT")
    return Path(root).resolve() if root else None


def import_folders() -> list[str]:
    """The folders on the server the page offers: the import root and its subfolders, relative to the root."""
    root = import_root()
    if root is None or not root.is_dir():
        return []
    return ["."] + sorted(str(p.relative_to(root)) for p in root.iterdir() if p.is_dir())


def _folder(relative: str) -> Path:
    if relative not in import_folders():  # the page offers only these: anything else is refused by name
        raise ValidationError("Choose one of the import folders on the server.")
    return import_root() / relative


def import_page_jobs(identity) -> list[ImportJob]:
    policy.require(identity, "import_page")
    return list(db.session.scalars(
        sa.select(ImportJob).where(policy.where(identity, "read", ImportJob))
        .order_by(ImportJob.id.desc()).limit(20)))


def check_upload(identity, manifest_name: str, data: bytes, folder: str) -> ImportJob:
    """Check an uploaded manifest against a folder on the server and keep the result as a job."""
    policy.require(identity, "import_page")
    checked = check_import(identity, manifest_name, data, _folder(folder))
    with unit_of_work():
        job = ImportJob(created_by_id=identity.id, manifest_name=manifest_name[:255], manifest=data, folder=folder,
                        state=JobState.CHECKED if checked.ok else JobState.INVALID, total=checked.rows,
                        problems=[p.as_dict() for p in checked.problems])
        db.session.add(job)
        db.session.flush()
        audit.record("import.check", actor=identity, obj=job, manifest=job.manifest_name, folder=folder,
                     rows=checked.rows, problems=len(checked.problems))
    return job


def get_job(identity, job_id: int) -> ImportJob:
    return policy.fetch(identity, "read", ImportJob, job_id)


def start_job(identity, job_id: int) -> ImportJob:
    """Queue a checked job for the worker. A stopped job starts again and files only what is missing."""
    from .tasks import run_import_job

    get_job(identity, job_id)
    with unit_of_work() as uow:
        job = locked(ImportJob, job_id)
        if job.state not in (JobState.CHECKED, JobState.FAILED) and not job.stalled:
            raise ValidationError("This import cannot be started now (%(state)s).", state=job.state.label)
        job.state, job.updated_at = JobState.QUEUED, utcnow()  # a stalled job is queued afresh
        audit.record("import.start", actor=identity, obj=job, manifest=job.manifest_name, folder=job.folder)
        uow.after_commit(lambda: run_import_job(job_id))
    return job


def _update_job(job_id: int, **values) -> None:
    with unit_of_work():
        db.session.execute(sa.update(ImportJob).where(ImportJob.id == job_id).values(**values))


def run_job(job_id: int) -> None:
    """The worker's part: check the manifest again (the folder may have changed), then file, counting as it goes."""
    job = db.session.get(ImportJob, job_id)
    if job is None or job.state is not JobState.QUEUED:
        return
    identity, name, data, folder = job.created_by, job.manifest_name, job.manifest, job.folder
    _update_job(job_id, state=JobState.RUNNING, started_at=utcnow(), finished_at=None, filed=0, skipped=0, failed=0,
                problems=[])
    try:
        checked = check_import(identity, name, data, _folder(folder))
    except ValidationError as exc:
        checked = CheckResult(problems=[Problem(0, exc)])
    except AccessDenied:  # the account was disabled or lost its role since it started the import
        checked = CheckResult(problems=[Problem(0, ValidationError("You may not import documents."))])
    if not checked.ok:
        _update_job(job_id, state=JobState.FAILED, finished_at=utcnow(),
                    problems=[p.as_dict() for p in checked.problems])
        return
    _update_job(job_id, total=len(checked.items))
    failures: list[dict] = []

    def count(outcome: RowOutcome) -> None:
        column = {FILED: ImportJob.filed, SKIPPED: ImportJob.skipped, FAILED: ImportJob.failed}[outcome.status]
        values = {column.key: column + 1}
        if outcome.error is not None:
            failures.append(Problem(outcome.row, outcome.error).as_dict())
            values["problems"] = list(failures)
        _update_job(job_id, **values)

    try:
        run_import(identity, name, checked, on_row=count)
    except BaseException:
        _update_job(job_id, state=JobState.FAILED, finished_at=utcnow())
        raise
    _update_job(job_id, state=JobState.FAILED if failures else JobState.DONE, finished_at=utcnow())

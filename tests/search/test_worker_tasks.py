"""The worker runs every task the archive queues: a task module the worker never imports would leave its
messages on the queue, unknown (the tests run tasks where they are queued, so nothing else would notice)."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import archive

PACKAGE = Path(archive.__file__).parent
DECLARED = re.compile(r"@huey\.(?:periodic_)?task\([^\n]*\)\n(?:@[^\n]*\n)*def (\w+)")

# What `archive worker` has loaded when it starts consuming: the app with its commands, then the tasks it
# imports itself (archive/search/cli.py). In a process of its own, so no other test's imports count.
WORKER_VIEW = """
import json
from archive import create_app
app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x", "MASTER_KEY": "%s"})
from archive.search import tasks  # noqa: F401
from archive.search.queue import huey
print(json.dumps(sorted(huey._registry._registry)))  # Huey keeps no public list of its tasks
"""


def test_the_worker_knows_every_task_the_archive_queues(tmp_path):
    declared = {f"{'.'.join(path.relative_to(PACKAGE.parent).with_suffix('').parts)}.{name}"
                for path in PACKAGE.rglob("*.py") for name in DECLARED.findall(path.read_text(encoding="utf-8"))}
    assert {"archive.imports.tasks.run_import_job", "archive.search.tasks.extract_text"} <= declared

    from tests.conftest import TEST_MASTER_KEY

    known = subprocess.run([sys.executable, "-c", WORKER_VIEW % TEST_MASTER_KEY], capture_output=True, text=True,
                           check=True, env={"ARCHIVE_INSTANCE_PATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert declared <= set(json.loads(known.stdout.strip().splitlines()[-1])), known.stdout

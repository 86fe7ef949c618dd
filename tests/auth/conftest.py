import logging

import pytest
from flask.testing import FlaskClient


def browser(app) -> FlaskClient:
    """A new browser (the shared BrowserLikeClient) that asks for English pages, so assertions read the
    source messages whatever the Chinese catalogue says."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def client(app):
    return browser(app)


@pytest.fixture
def app_logs(caplog, monkeypatch):
    """Every log record of the app, SQL statements with their parameters included.

    Alembic's fileConfig (run by the migrations) disables every logger that existed before it,
    the app's own among them; they are switched back on so that nothing escapes the capture.
    """
    for logger in list(logging.root.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger) and logger.disabled:
            monkeypatch.setattr(logger, "disabled", False)
    # Each call also sets the capture handler's level, so the most verbose comes last.
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    caplog.set_level(logging.DEBUG, logger="archive")
    caplog.set_level(logging.DEBUG)
    return caplog

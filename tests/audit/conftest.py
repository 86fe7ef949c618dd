import pytest

from tests.auth.conftest import browser


@pytest.fixture
def client(app):
    return browser(app)

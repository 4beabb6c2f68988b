"""/readyz: ready only when the database and Redis answer and the schema is at the migrations' head."""

import dataclasses

import pytest
from flask_migrate import downgrade, upgrade

from supportdesk.app import create_app
from tests.conftest import make_config
from tests.databases import redis_test_url


def test_ready_when_database_is_reachable_and_migrated(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "database": "ok",
        "redis": "not configured",
        "migrations": "ok",
    }


@pytest.fixture
def with_redis(clean_app):
    def use(url):
        clean_app.config["SUPPORTDESK"] = dataclasses.replace(settings, redis_url=url)
        return clean_app.test_client()

    settings = clean_app.config["SUPPORTDESK"]
    yield use
    clean_app.config["SUPPORTDESK"] = settings


def test_redis_is_checked_when_configured(with_redis):
    response = with_redis(redis_test_url(0)).get("/readyz")
    if response.get_json()["redis"] != "ok":
        pytest.skip("Redis does not answer (TEST_REDIS_URL)")
    assert response.status_code == 200
    down = with_redis("redis://127.0.0.1:1/0").get("/readyz")
    assert down.status_code == 503
    assert down.get_json()["redis"] == "unavailable"


def test_not_ready_until_migrations_have_run(tmp_path):
    application = create_app(make_config(f"sqlite:///{tmp_path / 'fresh.db'}", tmp_path))
    client = application.test_client()
    assert client.get("/readyz").get_json()["migrations"] == "unavailable"  # no schema at all
    with application.app_context():
        upgrade()
        downgrade(revision="-1")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["migrations"] == "pending"
    with application.app_context():
        upgrade()
    assert client.get("/readyz").status_code == 200


def test_not_ready_without_a_database(tmp_path):
    application = create_app(make_config("postgresql+psycopg://nobody@127.0.0.1:1/none", tmp_path))
    response = application.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unavailable"

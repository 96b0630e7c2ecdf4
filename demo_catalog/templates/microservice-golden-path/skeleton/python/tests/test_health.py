from fastapi.testclient import TestClient

from app.main import app


def test_healthz_answers_ok() -> None:
    with TestClient(app) as client:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_ready_once_started() -> None:
    with TestClient(app) as client:
        assert client.get("/readyz").status_code == 200

from tests.conftest import login


def test_health(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok", "storage": "ok"}


def test_login_and_home(client) -> None:
    login(client, "xa-manager")
    response = client.get("/", follow_redirects=True)
    assert response.status_code == 200
    assert "甲团便民服务中心" in response.text

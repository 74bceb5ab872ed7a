"""Each of the studio's safety rules, through Starlette's test client."""

from __future__ import annotations

import io
import zipfile

import pytest

from tests.studio.conftest import BASE, PORT, TOKEN, studio_of

PAGES = ["/", "/static/studio.js", "/api/songs", "/api/info", "/api/models", "/api/jobs"]


# the token


@pytest.mark.parametrize("path", PAGES)
def test_no_token_is_403(anon, path):
    response = anon.get(path)
    assert response.status_code == 403
    assert "access token" in response.text


def test_a_wrong_token_is_403(anon):
    assert anon.get("/api/songs", headers={"X-Studio-Token": "guess"}).status_code == 403
    assert anon.get("/api/songs?token=guess").status_code == 403
    anon.cookies.set(f"melodynet-studio-{PORT}", "guess")
    assert anon.get("/api/songs").status_code == 403


def test_post_without_token_is_403_and_does_nothing(anon, settings):
    response = anon.post("/api/songs?name=a.txt", content=b"g8 e8 e4")
    assert response.status_code == 403
    assert not list((settings.data / "uploads").iterdir())


def test_the_token_in_the_address_becomes_a_cookie(anon):
    response = anon.get(f"/?token={TOKEN}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"melodynet-studio-{PORT}={TOKEN};")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    anon.cookies.set(f"melodynet-studio-{PORT}", TOKEN)
    assert anon.get("/").status_code == 200
    assert anon.get("/api/songs").status_code == 200


def test_the_token_in_a_header_or_query(anon):
    assert anon.get("/api/info", headers={"Authorization": f"token {TOKEN}"}).status_code == 200
    assert anon.get("/api/info", headers={"X-Studio-Token": TOKEN}).status_code == 200
    assert anon.get(f"/api/info?token={TOKEN}").status_code == 200


# the Host header (DNS rebinding)


@pytest.mark.parametrize(
    "host", ["evil.example:8765", "evil.example", "127.0.0.1:9999", "localhost", "127.0.0.2:8765"]
)
def test_a_foreign_host_is_403(client, host):
    response = client.get("/api/info", headers={"Host": host})
    assert response.status_code == 403
    assert "answers to" in response.text


@pytest.mark.parametrize("host", ["127.0.0.1:8765", "localhost:8765", "LOCALHOST:8765"])
def test_loopback_hosts_with_the_port_are_served(client, host):
    assert client.get("/api/info", headers={"Host": host}).status_code == 200


def test_the_bound_address_is_served(tmp_path):
    from starlette.testclient import TestClient

    from melodynet.studio.app import create_app
    from melodynet.studio.config import Settings

    settings = Settings(data=tmp_path, token=TOKEN, host="192.0.2.7", port=9000)
    app = create_app(settings, warm=False)
    with TestClient(app, base_url="http://192.0.2.7:9000", headers={"X-Studio-Token": TOKEN}) as c:
        assert c.get("/api/info").status_code == 200
        assert c.get("/api/info", headers={"Host": "localhost:9000"}).status_code == 200
        assert c.get("/api/info", headers={"Host": "192.0.2.8:9000"}).status_code == 403


async def _call(app, headers):
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/api/info",
        "raw_path": b"/api/info",
        "query_string": b"",
        "headers": headers,
    }
    await app(scope, receive, send)
    return sent[0]["status"], sent[1]["body"].decode()


def test_no_host_or_two_hosts_is_400(app):
    import asyncio

    token = (b"x-studio-token", TOKEN.encode())
    assert asyncio.run(_call(app, [token]))[0] == 400
    two = [(b"host", b"127.0.0.1:8765"), (b"host", b"evil.example:8765"), token]
    assert asyncio.run(_call(app, two))[0] == 400


def test_a_request_from_another_site_is_refused(client):
    for origin in ("http://evil.example", "null"):
        response = client.post("/api/corpus", json={"reference": "x"}, headers={"Origin": origin})
        assert response.status_code == 403
    response = client.post(
        "/api/songs?name=a.txt", content=b"g8 e8 e4 f8 d8", headers={"Origin": BASE}
    )
    assert response.status_code == 201


# uploads: size, names, paths


def test_an_upload_over_10_mb_is_413_with_a_message(client, settings):
    response = client.post("/api/songs?name=big.mid", content=b"x" * (10 * 1024 * 1024 + 1))
    assert response.status_code == 413
    assert response.json() == {"error": "the file is larger than the 10 MB upload limit"}
    assert not list((settings.data / "uploads").iterdir())


def test_an_upload_without_a_length_is_counted(client, settings):
    def chunks():
        for _ in range(11):
            yield b"x" * (1024 * 1024)

    response = client.post("/api/songs?name=big.mid", content=chunks())
    assert response.status_code == 413
    assert "10 MB upload limit" in response.json()["error"]
    assert not list((settings.data / "uploads").iterdir())
    assert not list((settings.data / "tmp").iterdir())


def test_an_upload_is_stored_under_a_generated_name(client, settings, tmp_path):
    response = client.post(
        "/api/songs?name=../../../outside/evil.txt", content=b"g8 e8 e4 f8 d8 d4"
    )
    assert response.status_code == 201, response.text
    found = response.json()
    assert found["label"] == "evil.txt"
    assert found["songs"][0]["name"] == "evil"
    assert not (tmp_path / "outside").exists()
    stored = sorted(p.name for p in (settings.data / "uploads").iterdir())
    upload_id = found["ref"].split(":")[1]
    assert stored == [f"{upload_id}.json", f"{upload_id}.txt"]
    assert len(upload_id) == 16 and int(upload_id, 16) >= 0


@pytest.mark.parametrize(
    "path",
    [
        "/api/score.svg?ref=upload:../../../etc/passwd",
        "/api/score.svg?ref=upload:..%2F..%2Fetc%2Fpasswd",
        "/api/score.svg?ref=bundled:../../etc/passwd",
        "/api/score.svg?ref=bundled:butterfly%23..",
        "/api/audio.wav?ref=result:../jobs/x",
        "/api/song?ref=corpus:../../etc/passwd",
        "/api/song?ref=/etc/passwd",
        "/api/download?ref=bundled:butterfly&format=../../x",
        "/api/download?ref=file:///etc/passwd&format=mid",
        "/static/../app.py",
        "/static/%2e%2e/app.py",
        "/static/..%2fapp.py",
        "/../../etc/passwd",
    ],
)
def test_paths_outside_the_data_directory_are_404(client, path):
    response = client.get(path)
    assert response.status_code == 404, (path, response.text[:200])


@pytest.mark.parametrize("name", ["..", "../x", "x%2F..%2F..", "%2e%2e"])
def test_bundle_names_that_leave_models_are_404(client, name):
    assert client.post(f"/api/models/{name}/resume", json={}).status_code == 404
    assert client.post("/api/generate", json={"model": name}).status_code == 404


def test_removing_an_upload_by_a_path_is_404(client, settings):
    (settings.data / "keep.json").write_text("{}")
    for name in ("..%2Fkeep", "..", "keep"):
        # ".." is resolved by the client to DELETE /api/songs: not a route (405)
        assert client.delete(f"/api/songs/upload/{name}").status_code in (404, 405)
    assert (settings.data / "keep.json").exists()


# compressed files


def _bomb(expanded: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("META-INF/container.xml", "<container/>")
        with archive.open("score.musicxml", "w", force_zip64=True) as member:
            chunk = b"<" * (1024 * 1024)
            for _ in range(expanded // len(chunk)):
                member.write(chunk)
    return buffer.getvalue()


def test_a_zip_bomb_upload_is_refused_with_one_line(client, settings):
    bomb = _bomb(200 * 1024 * 1024)  # 200 MB of MusicXML in a few hundred kB
    assert len(bomb) < 1024 * 1024
    response = client.post("/api/songs?name=bomb.mxl", content=bomb)
    assert response.status_code == 400
    assert response.json() == {
        "error": "bomb.mxl: the archive expands to 210 MB (limit 20 MB for a compressed song)"
    }
    assert not list((settings.data / "uploads").iterdir())
    assert client.get("/api/info").status_code == 200  # and the studio goes on


def test_check_archive_counts_what_really_expands(tmp_path, monkeypatch):
    from melodynet.errors import SongError
    from melodynet.songs import archive

    path = tmp_path / "lying.mxl"
    path.write_bytes(_bomb(3 * 1024 * 1024))
    archive.check_archive(path)  # 3 MB: fine
    with pytest.raises(SongError, match=r"lying\.mxl: the archive expands to 3 MB \(limit 1 MB"):
        archive.check_archive(path, limit=1_000_000)
    # were the directory to claim less than the archive holds, the counting stops it
    monkeypatch.setattr(archive, "_declared", lambda members: 0)
    with pytest.raises(SongError, match="expands to more than 1 MB"):
        archive.check_archive(path, limit=1_000_000)


def test_check_archive_refuses_garbage_and_many_members(tmp_path):
    from melodynet.errors import SongError
    from melodynet.songs import archive

    garbage = tmp_path / "garbage.mxl"
    garbage.write_bytes(b"not a zip at all")
    with pytest.raises(SongError, match=r"^garbage\.mxl: not a readable compressed MusicXML"):
        archive.check_archive(garbage, label="garbage.mxl")
    many = tmp_path / "many.mxl"
    with zipfile.ZipFile(many, "w") as z:
        for i in range(20):
            z.writestr(f"{i}.xml", "x")
    with pytest.raises(SongError, match="holds 20 files"):
        archive.check_archive(many, max_members=10)


def test_a_real_mxl_upload_is_read(client, tmp_path):
    import melodynet
    from tests.conftest import BUTTERFLY

    [song] = melodynet.read(BUTTERFLY)
    path = song.write(tmp_path / "butterfly.mxl")
    response = client.post("/api/songs?name=mine.mxl", content=path.read_bytes())
    assert response.status_code == 201, response.text
    assert response.json()["songs"][0]["notes"] == len(song)


def test_garbage_uploads_are_one_line_and_kept_nowhere(client, settings):
    for name, data in [
        ("noise.mid", bytes(range(256)) * 10),
        ("noise.mxl", b"PK\x03\x04" + b"\x00" * 100),
        ("noise.abc", b"\x00\xff" * 500),
        ("noise.exe", b"MZ"),
        ("empty.txt", b""),
    ]:
        response = client.post(f"/api/songs?name={name}", content=data)
        assert response.status_code == 400, (name, response.text)
        error = response.json()["error"]
        assert "\n" not in error and "Traceback" not in error
        assert str(settings.data) not in error  # the stored name never shows
    assert not list((settings.data / "uploads").iterdir())


def test_settings_url_and_loopback():
    from melodynet.studio.config import Settings, is_loopback

    settings = Settings(data=".", token="abc", port=8765)
    assert settings.url == "http://127.0.0.1:8765/?token=abc"
    assert "127.0.0.1:8765" in settings.allowed_hosts
    assert "localhost:8765" in settings.allowed_hosts
    assert all(is_loopback(h) for h in ("127.0.0.1", "localhost", "::1", "127.1.2.3"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "192.168.1.2", "example.com"))


def test_the_data_directory_default(monkeypatch, tmp_path):
    from melodynet.studio import config

    monkeypatch.setenv("MELODYNET_STUDIO_DATA", str(tmp_path / "mine"))
    assert config.default_data_dir() == tmp_path / "mine"
    monkeypatch.delenv("MELODYNET_STUDIO_DATA")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    monkeypatch.setattr(config.sys, "platform", "linux")
    assert config.default_data_dir() == tmp_path / "share" / "melodynet-studio"


def test_studio_of(app):
    assert studio_of(app).settings.token == TOKEN

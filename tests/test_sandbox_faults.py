"""Each fault knob produces what it says, and the stats count it."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import pytest
import requests

from conftest import RECORDINGS

TOO_MANY = (RECORDINGS / "oauth.request_token.http-429.1.html").read_bytes()


def raw_get(url: str) -> tuple[int, bytes, bool]:
    """GET over a bare socket: (Content-Length, body bytes received, reset seen)."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as conn:
        conn.sendall(f"GET {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                     "Connection: close\r\n\r\n".encode())
        data, reset = b"", False
        try:
            while chunk := conn.recv(65536):
                data += chunk
        except ConnectionResetError:
            reset = True
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    return length, body, reset


def test_api_rate_limit_answers_429_with_flickrs_page(make_sandbox):
    sb = make_sandbox(photos=2, videos=0, albums=1, rate_limit=(3, 60.0))
    answers = [sb.rest("flickr.test.login") for _ in range(5)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    assert answers[-1].content == TOO_MANY and "Retry-After" not in answers[-1].headers
    stats = sb.stats()
    assert stats["rate_limited"] == 2 and stats["faults"]["api_429"] == 2
    assert stats["api_calls_total"] == 5 and stats["api_calls"]["flickr.test.login"] == 5


def test_retry_after_and_the_window_sliding_open_again(make_sandbox):
    sb = make_sandbox(photos=2, videos=0, albums=1, rate_limit=(2, 0.3), retry_after=True)
    sb.rest("flickr.test.echo")
    sb.rest("flickr.test.echo")
    refused = sb.rest("flickr.test.echo")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    deadline = time.monotonic() + 10
    while sb.rest("flickr.test.echo").status_code == 429:  # polls; the window reopens by itself
        assert time.monotonic() < deadline, "the quota window never reopened"


def test_cdn_rate_limit(make_sandbox):
    sb = make_sandbox(photos=4, videos=0, albums=1, cdn_rate_limit=(2, 60.0))
    urls = [p["url_o"] for p in sb.all_photos()]
    codes = [requests.get(u, timeout=30).status_code for u in urls[:3]]
    assert codes == [200, 200, 429]
    assert requests.get(urls[3], timeout=30).content == TOO_MANY
    assert sb.stats()["faults"]["cdn_429"] == 2


@pytest.mark.parametrize("kind,status", [("http_5xx", 502), ("code_105", 105), ("code_201", 201)])
def test_api_error_faults(make_sandbox, kind, status):
    sb = make_sandbox(photos=2, videos=0, albums=1, fault_rate=1.0, fault_kinds=(kind,))
    answer = sb.rest("flickr.test.login")
    if kind == "http_5xx":
        assert answer.status_code == 502 and answer.headers["Content-Type"].startswith("text/html")
    else:
        assert answer.status_code == 200 and answer.json()["code"] == status
    assert sb.stats()["faults"] == {f"api_{kind}": 1}


@pytest.mark.parametrize("kind", ["reset", "short_body"])
def test_broken_cdn_bodies(make_sandbox, kind):
    sb = make_sandbox(photos=3, videos=0, albums=1, media_size=(300_000, 300_000))
    urls = [p["url_o"] for p in sb.all_photos()]
    sb.control("faults", fault_rate=1.0, fault_kinds=[kind])
    for url in urls:
        length, body, reset = raw_get(url)
        assert length == 300_000 and len(body) < length
        assert reset == (kind == "reset")
    assert sb.stats()["faults"] == {f"cdn_{kind}": 3}


def test_broken_api_bodies_fail_the_client(make_sandbox):
    sb = make_sandbox(photos=2, videos=0, albums=1, fault_rate=1.0, fault_kinds=("reset", "short_body"))
    for _ in range(4):
        with pytest.raises((requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
            sb.rest("flickr.people.getPhotos", user_id="me", extras="description,tags,url_o")
    faults = sb.stats()["faults"]
    assert sum(faults.values()) == 4 and set(faults) <= {"api_reset", "api_short_body"}


def test_cdn_5xx(make_sandbox):
    sb = make_sandbox(photos=2, videos=0, albums=1)
    url = sb.all_photos()[0]["url_o"]
    sb.control("faults", fault_rate=1.0, fault_kinds=["http_5xx"])
    assert requests.get(url, timeout=30).status_code == 503
    assert sb.stats()["faults"] == {"cdn_http_5xx": 1}


def test_fault_rate_mixes_kinds_at_about_the_rate(make_sandbox):
    sb = make_sandbox(photos=2, videos=0, albums=1, fault_rate=0.3, fault_kinds=("code_105", "code_201"))
    codes = [sb.rest("flickr.test.echo").json().get("code") for _ in range(300)]
    failed = sum(1 for c in codes if c)
    assert 50 <= failed <= 130  # 90 expected; binomial sd ~8
    assert set(codes) == {None, 105, 201}
    assert sum(sb.stats()["faults"].values()) == failed


def test_control_endpoints_are_never_faulted(make_sandbox):
    sb = make_sandbox(photos=2, videos=0, albums=1, fault_rate=1.0, rate_limit=(1, 60.0), latency_ms=0)
    for _ in range(20):
        assert sb.stats()["api_calls_total"] == 0


def test_page_drop_shifts_items_off_a_page_while_total_stays(make_sandbox):
    sb = make_sandbox(photos=30, videos=0, albums=1)

    def page(n):
        return sb.call("flickr.people.getPhotos", user_id="me", per_page="10", page=str(n),
                       safe_search="3")["photos"]

    true_page = page(2)
    sb.control("faults", page_drop_rate=1.0)
    dropped = page(2)
    assert str(dropped["total"]) == str(true_page["total"])
    got = [p["id"] for p in dropped["photo"]]
    want = [p["id"] for p in true_page["photo"]]
    assert 7 <= len(got) < 10 and got == want[10 - len(got):]
    assert sb.stats()["faults"]["page_drop"] == 1


@pytest.mark.parametrize("mode", ["repeat", "empty"])
def test_a_page_past_the_end(make_sandbox, mode):
    sb = make_sandbox(photos=25, videos=0, albums=1, past_end=mode)
    last = sb.call("flickr.people.getPhotos", user_id="me", per_page="10", page="3", safe_search="3")["photos"]
    past = sb.call("flickr.people.getPhotos", user_id="me", per_page="10", page="9", safe_search="3")["photos"]
    if mode == "repeat":
        assert past["photo"] == last["photo"] and past["page"] == 3
    else:
        assert past["photo"] == [] and past["page"] == 9


def test_latency_is_added_to_every_answer(make_sandbox):
    sb = make_sandbox(photos=1, videos=0, albums=1, latency_ms=200)
    url = sb.all_photos()[0]["url_o"]
    started = time.monotonic()
    sb.rest("flickr.test.echo")
    requests.get(url, timeout=30)
    assert time.monotonic() - started >= 0.4  # a lower bound: never flaky


def test_bandwidth_cap_is_shared_by_all_downloads(make_sandbox):
    sb = make_sandbox(photos=2, videos=0, albums=1, media_size=(150_000, 150_000), bandwidth=400_000)
    urls = [p["url_o"] for p in sb.all_photos()]
    started = time.monotonic()
    total = sum(len(requests.get(u, timeout=30).content) for u in urls)
    # At most a tenth of a second of burst: the rest must take total/cap seconds.
    assert time.monotonic() - started >= (total - 40_000) / 400_000


def test_same_seed_same_account_other_seed_another(make_sandbox):
    first = make_sandbox(photos=12, videos=2, albums=3, seed=5).manifest()
    again = make_sandbox(photos=12, videos=2, albums=3, seed=5).manifest()
    other = make_sandbox(photos=12, videos=2, albums=3, seed=6).manifest()
    assert first == again
    assert {i["sha256"] for i in first.values()}.isdisjoint({i["sha256"] for i in other.values()})

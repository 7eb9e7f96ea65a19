"""OAuth as Flickr enforces it: signatures over oauth params, query and body; perms levels."""

from __future__ import annotations

import requests
from requests_oauthlib import OAuth1


def tampered_delete(sb, photo_id: str, other_id: str) -> requests.Response:
    """Sign a delete of `photo_id`, then change the body to `other_id` after signing."""
    request = requests.Request("POST", f"{sb.base}/services/rest/", data={
        "method": "flickr.photos.delete", "photo_id": photo_id, "format": "json", "nojsoncallback": "1"})
    prepared = sb.auth().__call__(request.prepare())
    body = prepared.body.decode() if isinstance(prepared.body, bytes) else prepared.body
    prepared.body = body.replace(f"photo_id={photo_id}", f"photo_id={other_id}")
    prepared.headers["Content-Length"] = str(len(prepared.body))
    return requests.Session().send(prepared, timeout=30)


def test_a_parameter_changed_after_signing_is_refused_before_the_method_runs(make_sandbox):
    sb = make_sandbox(photos=6, videos=0, albums=1)
    first, second = [p["id"] for p in sb.all_photos()[:2]]
    sb.control("reset-stats")
    answer = tampered_delete(sb, first, second)
    assert answer.status_code == 401
    assert answer.headers["Content-Type"] == "text/plain;charset=UTF-8"
    assert answer.text.startswith("oauth_problem=signature_invalid&debug_sbs=POST&")
    assert f"photo_id%3D{second}" in answer.text  # the base string the server computed
    live = {i["id"]: i["deleted"] for i in sb.manifest().values()}
    assert live[first] is False and live[second] is False
    assert sb.stats()["deleted"] == 0


def test_a_query_parameter_is_part_of_the_signature(sb):
    prepared = sb.auth().__call__(requests.Request(
        "GET", f"{sb.base}/services/rest/",
        params={"method": "flickr.test.login", "format": "json", "nojsoncallback": "1"}).prepare())
    prepared.url = prepared.url.replace("format=json", "format=rest")
    answer = requests.Session().send(prepared, timeout=30)
    assert answer.status_code == 401 and "signature_invalid" in answer.text


def test_a_read_token_cannot_delete(sb):
    read = sb.token("read")
    victim = sb.all_photos()[0]["id"]
    answer = sb.rest("flickr.photos.delete", token=read, photo_id=victim).json()
    assert answer == {"stat": "fail", "code": 99,
                      "message": "Insufficient permissions. Method requires delete privileges; read granted."}
    write = sb.token("write")
    answer = sb.rest("flickr.photos.delete", token=write, photo_id=victim).json()
    assert answer["code"] == 99 and "write granted" in answer["message"]
    assert sb.manifest()[victim]["deleted"] is False


def test_write_methods_need_write(sb):
    photo = sb.all_photos()[0]["id"]
    answer = sb.rest("flickr.photos.licenses.setLicense", token=sb.token("read"), photo_id=photo,
                     license_id="0").json()
    assert answer["code"] == 99 and "requires write privileges" in answer["message"]


def test_unsigned_calls_use_the_api_key(sb):
    assert sb.rest("flickr.test.echo", anonymous=True, foo="bar").json()["foo"] == {"_content": "bar"}
    assert sb.rest("flickr.test.login", anonymous=True).json() == {
        "stat": "fail", "code": 99,
        "message": "Insufficient permissions. Method requires read privileges; none granted."}
    bad = sb.rest("flickr.test.echo", anonymous=True, api_key="nope").json()
    assert (bad["code"], bad["message"]) == (100, "Invalid API Key (Key has invalid format)")


def test_signed_without_a_token_on_a_login_method(sb):
    answer = requests.post(f"{sb.base}/services/rest/", timeout=30,
                           data={"method": "flickr.test.login", "format": "json", "nojsoncallback": "1"},
                           auth=OAuth1(sb.info["api_key"], sb.info["api_secret"]))
    assert (answer.status_code, answer.text) == (
        400, "oauth_problem=parameter_absent&oauth_parameters_absent=oauth_token")


def test_unknown_consumer_key_and_token(sb):
    answer = requests.post(f"{sb.base}/services/rest/", data={"method": "flickr.test.login"}, timeout=30,
                           auth=OAuth1("0" * 32, "f" * 16, sb.info["oauth_token"], sb.info["oauth_token_secret"]))
    assert (answer.status_code, answer.text) == (401, "oauth_problem=consumer_key_unknown")
    answer = sb.rest("flickr.test.login", token=("72157000000000000-0000000000000000", "0" * 16))
    assert (answer.status_code, answer.text) == (401, "oauth_problem=token_rejected")


def test_a_replayed_nonce_is_refused(sb):
    prepared = sb.auth().__call__(requests.Request("POST", f"{sb.base}/services/rest/", data={
        "method": "flickr.test.login", "format": "json", "nojsoncallback": "1"}).prepare())
    session = requests.Session()
    assert session.send(prepared, timeout=30).status_code == 200
    again = session.send(prepared, timeout=30)
    assert (again.status_code, again.text) == (401, "oauth_problem=nonce_used")


def test_oauth_params_in_the_query_string_are_accepted(sb):
    answer = requests.get(f"{sb.base}/services/rest/", timeout=30,
                          params={"method": "flickr.test.login", "format": "json", "nojsoncallback": "1"},
                          auth=sb.auth(signature_type="query"))
    assert answer.json()["user"]["id"] == sb.info["user_nsid"]


def test_the_authorize_page_rejects_unknown_tokens(sb):
    answer = requests.get(f"{sb.base}/services/oauth/authorize?oauth_token=nope&perms=read", timeout=30)
    assert answer.status_code == 400

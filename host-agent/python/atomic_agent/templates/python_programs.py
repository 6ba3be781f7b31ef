"""Python templates: a REST API on http.server and a command-line tool on argparse."""

from __future__ import annotations

import json
import posixpath

from .common import INTRO, Program, SourceFile, fill, module_stem, python_entry, sibling
from .resources import example_body, example_fields, other_fields, required_fields

_REST = '''"""In-memory REST API for __RESOURCE__ on the standard library's http.server.

Routes:
  GET /health: {"status": "ok"}
  GET /__RESOURCE__: list every record
  POST /__RESOURCE__: create one (JSON body; required: __FIELDS_DOC__)
  GET /__RESOURCE__/<id>: read one
  PUT /__RESOURCE__/<id>: replace one (same body as create)
  DELETE /__RESOURCE__/<id>: delete one

Run: PORT=8000 python3 __PATH__  (HOST defaults to 127.0.0.1; PORT=0 picks a free port)
Importing this file starts nothing: tests make their own `Server(("127.0.0.1", 0))`.
"""

import json
import os
import re
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RESOURCE = "__RESOURCE__"
REQUIRED_FIELDS = __FIELDS_LIST__
MAX_BODY_BYTES = 1_000_000


class Store:
    """Records by id, safe to share between the server's threads."""

    def __init__(self):
        self._lock = threading.Lock()
        self._records = {}
        self._next_id = 1

    def list(self):
        with self._lock:
            return [dict(record) for record in self._records.values()]

    def get(self, record_id):
        with self._lock:
            record = self._records.get(record_id)
            return None if record is None else dict(record)

    def create(self, fields):
        with self._lock:
            record = {"id": self._next_id, **fields}
            self._records[self._next_id] = record
            self._next_id += 1
            return dict(record)

    def replace(self, record_id, fields):
        with self._lock:
            if record_id not in self._records:
                return None
            record = {"id": record_id, **fields}
            self._records[record_id] = record
            return dict(record)

    def delete(self, record_id):
        with self._lock:
            return self._records.pop(record_id, None) is not None


def validate(body):
    """(fields, None) for a valid body, else (None, what is wrong)."""
    if not isinstance(body, dict):
        return None, "the body must be a JSON object"
    for name in REQUIRED_FIELDS:
        value = body.get(name)
        if not isinstance(value, str) or not value.strip():
            return None, f"'{name}' is required and must be a non-empty string"
    if "email" in REQUIRED_FIELDS and "@" not in body["email"]:
        return None, "'email' must be an email address"
    return {key: value for key, value in body.items() if key != "id"}, None


class Handler(BaseHTTPRequestHandler):
    server: "Server"

    def _send(self, status, payload=None):
        body = b"" if payload is None else json.dumps(payload).encode("utf-8")
        self.send_response(status)
        if payload is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _route(self):
        """("collection", None) or ("record", id) for this path, or None when nothing matches."""
        parts = [part for part in self.path.split("?", 1)[0].split("/") if part]
        if parts == [RESOURCE]:
            return "collection", None
        if len(parts) == 2 and parts[0] == RESOURCE and re.fullmatch(r"[0-9]{1,18}", parts[1]):
            return "record", int(parts[1])
        return None

    def _read_body(self):
        """(parsed JSON, None) or (None, error message)."""
        try:
            length = int(self.headers.get("Content-Length") or "0")
        except ValueError:
            return None, "invalid Content-Length"
        if length > MAX_BODY_BYTES:
            return None, "the body is too large"
        try:
            return json.loads(self.rfile.read(length) or b"null"), None
        except ValueError:
            return None, "the body is not valid JSON"

    def _handle(self):
        if self.path.split("?", 1)[0] == "/health" and self.command == "GET":
            return self._send(HTTPStatus.OK, {"status": "ok"})
        route = self._route()
        if route is None:
            return self._send(HTTPStatus.NOT_FOUND, {"error": "not found"})
        kind, record_id = route
        store = self.server.store
        allowed = {"collection": ("GET", "POST"), "record": ("GET", "PUT", "DELETE")}[kind]
        if self.command not in allowed:
            return self._send(HTTPStatus.METHOD_NOT_ALLOWED, {"error": f"use {', '.join(allowed)}"})
        if self.command == "GET" and kind == "collection":
            return self._send(HTTPStatus.OK, store.list())
        if self.command == "GET":
            record = store.get(record_id)
            if record is None:
                return self._send(HTTPStatus.NOT_FOUND, {"error": "not found"})
            return self._send(HTTPStatus.OK, record)
        if self.command == "DELETE":
            if not store.delete(record_id):
                return self._send(HTTPStatus.NOT_FOUND, {"error": "not found"})
            return self._send(HTTPStatus.NO_CONTENT)
        body, problem = self._read_body()
        fields, invalid = (None, problem) if problem else validate(body)
        if invalid:
            return self._send(HTTPStatus.BAD_REQUEST, {"error": invalid})
        if self.command == "POST":
            return self._send(HTTPStatus.CREATED, store.create(fields))
        record = store.replace(record_id, fields)
        if record is None:
            return self._send(HTTPStatus.NOT_FOUND, {"error": "not found"})
        return self._send(HTTPStatus.OK, record)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

    def log_message(self, format, *args):
        return None  # no line on stderr per request


class Server(ThreadingHTTPServer):
    """The API on `address`, with a store of its own."""

    daemon_threads = True

    def __init__(self, address, store=None):
        super().__init__(address, Handler)
        self.store = Store() if store is None else store


def main():
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8000"))
    server = Server((host, port))
    print(f"Listening on http://{host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
'''

_CLI = '''"""Count the lines, words and characters of files or of standard input (a small `wc`).

Usage: python3 __PATH__ [--lines] [--words] [--chars] [FILE ...]
Without options it prints all three counts; with several files, a total as well.
"""

import argparse
import sys

FIELDS = ("lines", "words", "chars")


def count(text):
    return {"lines": text.count("\\n"), "words": len(text.split()), "chars": len(text)}


def show(counts, fields, name=None):
    line = " ".join(f"{field}={counts[field]}" for field in fields)
    print(line if name is None else f"{line} {name}")


def main(argv=None):
    parser = argparse.ArgumentParser(description="Count lines, words and characters.")
    for field in FIELDS:
        parser.add_argument(f"--{field}", action="store_true", help=f"print the {field} count")
    parser.add_argument("files", nargs="*", metavar="FILE", help="files to read (default: standard input)")
    args = parser.parse_args(argv)
    fields = [field for field in FIELDS if getattr(args, field)] or list(FIELDS)

    if not args.files:
        show(count(sys.stdin.buffer.read().decode("utf-8", "replace")), fields)
        return 0
    total = dict.fromkeys(FIELDS, 0)
    status = 0
    for path in args.files:
        try:
            with open(path, encoding="utf-8", errors="replace", newline="") as handle:
                counts = count(handle.read())
        except OSError as exc:
            print(f"{path}: {exc.strerror}", file=sys.stderr)
            status = 1
            continue
        show(counts, fields, path)
        for field in FIELDS:
            total[field] += counts[field]
    if len(args.files) > 1:
        show(total, fields, "total")
    return status


if __name__ == "__main__":
    sys.exit(main())
'''


_REST_TEST = '''"""Tests of the API in __FILE__: each test serves it on a free port of 127.0.0.1."""

import http.client
import json
import threading

import pytest

from __MODULE__ import Server, validate

VALID = __VALID__
OTHER = __OTHER__


@pytest.fixture
def api():
    """call(method, path, body=None, raw=None) -> (status, parsed JSON or None), on a fresh server."""
    server = Server(("127.0.0.1", 0))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    port = server.server_address[1]

    def call(method, path, body=None, raw=None):
        data = raw if raw is not None else None if body is None else json.dumps(body).encode()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            headers = {"Content-Type": "application/json"} if data is not None else {}
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            text = response.read().decode()
            return response.status, json.loads(text) if text else None
        finally:
            connection.close()

    yield call
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_health(api):
    assert api("GET", "/health") == (200, {"status": "ok"})


def test_create_read_list_replace_delete(api):
    assert api("GET", "/__RESOURCE__") == (200, [])
    status, created = api("POST", "/__RESOURCE__", VALID)
    assert (status, created) == (201, {"id": 1, **VALID})
    assert api("GET", "/__RESOURCE__/1") == (200, created)
    status, replaced = api("PUT", "/__RESOURCE__/1", OTHER)
    assert (status, replaced) == (200, {"id": 1, **OTHER})
    status, second = api("POST", "/__RESOURCE__", VALID)
    assert (status, second["id"]) == (201, 2)
    assert api("GET", "/__RESOURCE__") == (200, [replaced, second])
    assert api("DELETE", "/__RESOURCE__/1") == (204, None)
    assert api("GET", "/__RESOURCE__/1")[0] == 404
    assert api("DELETE", "/__RESOURCE__/1")[0] == 404


def test_invalid_bodies_are_400(api):
    for field in VALID:
        incomplete = {key: value for key, value in VALID.items() if key != field}
        assert api("POST", "/__RESOURCE__", incomplete)[0] == 400
    assert api("POST", "/__RESOURCE__", [VALID])[0] == 400
    assert api("POST", "/__RESOURCE__", raw=b"{not json")[0] == 400
    assert api("GET", "/__RESOURCE__") == (200, [])


def test_unknown_paths_and_methods(api):
    assert api("GET", "/nothing-here")[0] == 404
    assert api("GET", "/__RESOURCE__/42")[0] == 404
    assert api("PUT", "/__RESOURCE__/42", VALID)[0] == 404
    assert api("DELETE", "/__RESOURCE__")[0] == 405


def test_validate():
    assert validate({**VALID, "id": 7}) == (VALID, None)
    fields, problem = validate({})
    assert fields is None and problem
__EMAIL_TEST__'''

_EMAIL_TEST = '''

def test_an_email_needs_an_at_sign(api):
    assert api("POST", "/__RESOURCE__", {**VALID, "email": "not-an-email"})[0] == 400
'''

_CLI_TEST = '''"""Tests of __FILE__: run them with `python3 -m pytest`."""

import subprocess
import sys
from pathlib import Path

from __MODULE__ import count, main

PROGRAM = Path(__file__).with_name("__FILE__")


def test_count():
    assert count("one two\\nthree\\n") == {"lines": 2, "words": 3, "chars": 14}
    assert count("") == {"lines": 0, "words": 0, "chars": 0}


def test_files_then_a_total(tmp_path, capsys):
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("one two\\nthree\\n", encoding="utf-8")
    second.write_text("four", encoding="utf-8")
    assert main(["--words", str(first), str(second)]) == 0
    assert capsys.readouterr().out == f"words=3 {first}\\nwords=1 {second}\\nwords=4 total\\n"


def test_every_count_by_default(tmp_path, capsys):
    path = tmp_path / "a.txt"
    path.write_text("one two\\nthree\\n", encoding="utf-8")
    assert main([str(path)]) == 0
    assert capsys.readouterr().out == f"lines=2 words=3 chars=14 {path}\\n"


def test_a_missing_file_is_an_error(tmp_path, capsys):
    assert main([str(tmp_path / "missing.txt")]) == 1
    assert "missing.txt" in capsys.readouterr().err


def test_standard_input_when_no_file_is_given():
    done = subprocess.run(
        [sys.executable, str(PROGRAM)], input="hello world\\n", capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "lines=1 words=2 chars=12\\n"
'''


def _test_file(path: str, template: str, **values: str) -> SourceFile:
    source = template.replace("__MODULE__", module_stem(path)).replace("__FILE__", posixpath.basename(path))
    return SourceFile(sibling(path, f"test_{module_stem(path)}.py"), "python", fill(source, **values))


def python_rest_api(resource: str, framework: str | None, requested_entry: str) -> Program:
    path = python_entry(requested_entry)
    fields = required_fields(resource)
    source = _REST.replace("__FIELDS_LIST__", json.dumps(fields))
    source = source.replace("__FIELDS_DOC__", ", ".join(fields)).replace("__RESOURCE__", resource)
    source = source.replace("__PATH__", path)
    note = ""
    if framework not in (None, "", "none", "http.server"):
        note = f" The offline provider has no {framework} template, so it uses the standard library instead."
    email_test = _EMAIL_TEST if "email" in fields else ""
    test = _test_file(
        path,
        _REST_TEST.replace("__EMAIL_TEST__", email_test),
        RESOURCE=resource,
        VALID=json.dumps(example_fields(resource)),
        OTHER=json.dumps(other_fields(resource)),
    )
    return Program(
        intro=INTRO + f"an in-memory REST API for {resource} in Python on http.server, with its tests.{note}",
        files=[SourceFile(path, "python", source), test],
        outro=(
            f"Run it with `PORT=8000 python3 {path}`, then for example "
            f"`curl -X POST localhost:8000/{resource} -d '{example_body(resource)}'`; "
            "test it with `python3 -m pytest`."
        ),
    )


def python_cli(requested_entry: str) -> Program:
    path = python_entry(requested_entry)
    return Program(
        intro=INTRO + "a Python command-line tool that counts lines, words and characters, with its tests.",
        files=[SourceFile(path, "python", _CLI.replace("__PATH__", path)), _test_file(path, _CLI_TEST)],
        outro=(
            f"Run it with `python3 {path} FILE...` or `echo hello world | python3 {path}`; "
            "test it with `python3 -m pytest`."
        ),
    )

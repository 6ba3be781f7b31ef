"""Which sources make up a JavaScript or TypeScript REST API: the app module (what tests import),
the entry file (starts the server when run directly) and the tests."""

from __future__ import annotations

from dataclasses import dataclass

from .node_rest_express import (
    EXPRESS_APP_JS,
    EXPRESS_APP_TS,
    EXPRESS_EMAIL_TEST,
    EXPRESS_MAIN_JS,
    EXPRESS_MAIN_TS,
    EXPRESS_TEST,
)
from .node_rest_http import HTTP_APP_JS, HTTP_APP_TS, HTTP_EMAIL_TEST, HTTP_MAIN_JS, HTTP_MAIN_TS, HTTP_TEST_JS, HTTP_TEST_TS

ROUTES_DOC = """// Routes:
//   GET /health: {"status": "ok"}
//   GET /__RESOURCE__: list every record
//   POST /__RESOURCE__: create one (JSON body; required: __FIELDS_DOC__)
//   GET /__RESOURCE__/:id: read one
//   PUT /__RESOURCE__/:id: replace one (same body as create)
//   DELETE /__RESOURCE__/:id: delete one
// Start it with: PORT=3000 __RUN__  (HOST defaults to 127.0.0.1; PORT=0 picks a free port)
"""


@dataclass(frozen=True)
class RestSources:
    app: str
    main: str
    test: str
    email_test: str  # appended to `test` when the resource has an email field


def rest_sources(language: str, express: bool) -> RestSources:
    typescript = language == "typescript"
    if express:
        return RestSources(
            EXPRESS_APP_TS if typescript else EXPRESS_APP_JS,
            EXPRESS_MAIN_TS if typescript else EXPRESS_MAIN_JS,
            EXPRESS_TEST,
            EXPRESS_EMAIL_TEST,
        )
    return RestSources(
        HTTP_APP_TS if typescript else HTTP_APP_JS,
        HTTP_MAIN_TS if typescript else HTTP_MAIN_JS,
        HTTP_TEST_TS if typescript else HTTP_TEST_JS,
        HTTP_EMAIL_TEST,
    )

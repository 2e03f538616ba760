"""Property-based fuzzing of the return-risk API from its own OpenAPI schema (Schemathesis).

Every operation gets requests that fit the schema and requests that break it (wrong types,
missing fields, values out of range); a share of the bodies also get one value replaced by
something JSON parsers let through but the schema cannot state (NaN, infinities, integers of
hundreds of digits, unpaired surrogates). None may answer 5xx, and every 4xx is JSON with a
message that echoes no input. Seeded and short, so it runs in seconds.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from segmentation_pipeline.serving.app import create_app
from segmentation_pipeline_tests.serving_fixtures import publish, train_model, write_recommendations, write_state
from segmentation_pipeline_tests.test_serving import HEADERS, KEY

HOSTILE_VALUES = st.one_of(
    st.floats(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.booleans(),
    st.text(st.characters(categories=["Cs", "Ll", "Nd"]), max_size=80),
)


@pytest.fixture(scope="module")
def requests_to_the_api(tmp_path_factory):
    """Schemathesis cases for every operation of the app's schema, fitting it or breaking it."""
    root = tmp_path_factory.mktemp("fuzz")
    write_state(root / "serving")
    write_recommendations(root / "serving")
    publish(root / "models", train_model("20260101T000000", seed=1))
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(root / "models", root / "serving", KEY))
    return st.one_of(schema.as_strategy(GenerationMode.POSITIVE), schema.as_strategy(GenerationMode.NEGATIVE))


def places(value, path=()):
    """The path of every value inside a JSON document, the document's own (empty) path first."""
    yield path
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, inner in items:
        yield from places(inner, (*path, key))


@settings(max_examples=300, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_no_request_answers_5xx_and_every_error_is_short_json(requests_to_the_api, data):
    case = data.draw(requests_to_the_api)
    if isinstance(case.body, dict) and data.draw(st.booleans()):
        *parents, last = data.draw(st.sampled_from(list(places(case.body))[1:]))
        target = case.body
        for key in parents:
            target = target[key]
        target[last] = data.draw(HOSTILE_VALUES)
    response = case.call(headers=HEADERS)
    assert response.status_code < 500, response.text[:500]
    if response.status_code >= 400:
        body = response.json()
        assert isinstance(body["message"], str) and body["message"]
        assert len(response.content) < 5_000
        if isinstance(body["detail"], list):
            assert all("input" not in error for error in body["detail"])

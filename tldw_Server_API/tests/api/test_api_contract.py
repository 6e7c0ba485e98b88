"""What the OpenAPI schema promises, request by request: one error body, one instant form,
numbers that are numbers, documented media types, conflicts as 409."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tldw_Server_API.tests.api.conftest import create_media


def test_a_validation_error_detail_is_a_string_and_errors_a_list(client: TestClient) -> None:
    files = [("files", ("a.txt", b"c", "text/plain"))]
    response = client.post("/api/v1/media/add", data={"title": "t"}, files=files)

    assert response.status_code == 422
    body = response.json()
    assert isinstance(body["detail"], str) and "media_type" in body["detail"]
    assert body["errors"][0]["loc"] == ["body", "media_type"]


def test_the_schema_declares_our_error_body_for_422_and_other_client_errors(
    client: TestClient,
) -> None:
    schema = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for code in ("422", "4XX"):
                declared = operation["responses"][code]["content"]["application/json"]
                assert declared["schema"] == {"$ref": "#/components/schemas/ErrorBody"}, (
                    method,
                    path,
                    code,
                )


def test_a_workflow_definition_error_has_the_shape_of_every_validation_error(
    client: TestClient,
) -> None:
    response = client.post("/api/v1/workflows", json={"name": "w", "steps": [{"id": "a"}]})

    assert response.status_code == 422
    assert set(response.json()) == {"detail", "errors"}
    assert response.json()["detail"] == "body.steps.0.type: Field required"
    assert response.json()["errors"] == [
        {"loc": ["body", "steps", 0, "type"], "msg": "Field required", "type": "missing"}
    ]


def test_year_one_comes_back_with_a_four_digit_year(client: TestClient) -> None:
    response = client.get("/api/v1/analytics/summary", params={"since": "0001-01-01T00:00:00Z"})

    assert response.status_code == 200
    assert response.json()["since"] == "0001-01-01T00:00:00.000Z"


def test_since_must_be_an_iso_instant_not_a_number(client: TestClient) -> None:
    response = client.get("/api/v1/analytics/summary", params={"since": "1.5"})

    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["query", "since"]


def test_workflow_instants_use_the_api_form(client: TestClient) -> None:
    created = client.post(
        "/api/v1/workflows",
        json={"name": "w", "steps": [{"id": "a", "type": "delay", "config": {"seconds": 0}}]},
    )

    assert created.status_code == 201, created.text
    stamp = created.json()["created_at"]
    assert stamp.endswith("Z") and len(stamp) == len("2025-10-08T12:34:56.789Z"), stamp


@pytest.mark.parametrize("confidence", [True, False, "0.5"])
def test_a_claim_confidence_must_be_a_number(client: TestClient, confidence: object) -> None:
    media = create_media(client)
    response = client.post(
        f"/api/v1/media/{media['media_id']}/claims",
        json={"claims": [{"claim_text": "x", "confidence": confidence}]},
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"][-1] == "confidence"


def test_a_whole_number_is_a_valid_claim_confidence(client: TestClient) -> None:
    media = create_media(client)
    response = client.post(
        f"/api/v1/media/{media['media_id']}/claims",
        json={"claims": [{"claim_text": "x", "confidence": 1, "chunk_index": 2.0}]},
    )

    assert response.status_code in (200, 201), response.text


def test_a_page_size_given_as_text_is_refused(client: TestClient) -> None:
    response = client.get("/api/v1/media/", params={"results_per_page": "ten"})

    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["query", "results_per_page"]


def test_the_media_type_is_documented_with_the_known_types(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()["components"]["schemas"]["MediaUpdate"]
    media_type = schema["properties"]["type"]

    assert {"video", "audio", "pdf", "document", "article", "ebook"} <= set(media_type["examples"])
    assert media_type["pattern"].startswith("^")


@pytest.mark.parametrize("kind", ["video", "obsidian_note", "Web Page", "mediawiki_article"])
def test_media_types_existing_databases_hold_are_accepted(client: TestClient, kind: str) -> None:
    assert create_media(client, type=kind)["source"]["type"] == kind


@pytest.mark.parametrize("kind", ["<script>", " video", "vidéo"])
def test_an_undocumented_media_type_is_refused(client: TestClient, kind: str) -> None:
    files = [("files", ("a.txt", b"c", "text/plain"))]
    response = client.post("/api/v1/media/add", data={"media_type": kind}, files=files)

    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "media_type"]


def test_null_for_a_required_field_of_an_update_is_refused(client: TestClient) -> None:
    media = create_media(client)
    response = client.put(f"/api/v1/media/{media['media_id']}", json={"title": None})

    assert response.status_code == 422
    assert "title" in response.json()["detail"]

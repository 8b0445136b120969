//! What the API fuzzing (`scripts/api-fuzz.sh`, schemathesis against the OpenAPI document)
//! found, kept as regression tests: malformed input answered with a problem+json 4xx that
//! changes nothing, and a document that lists what every operation can answer.

use liasse_app::requests;
use liasse_domain::journal::Actor;
use liasse_inspect::samples;
use liasse_testkit::TestApp;
use reqwest::Method;
use serde_json::{Value, json};

use crate::vault::{Reply, assert_problem, deposit, journal_rows, reply, req};

/// A tenant with the demo procedures, a citizen with one document and a draft request, and an
/// agent of the procedure's domain.
struct World {
    citizen: String,
    agent: String,
    doc: String,
    draft: Value,
}

async fn world(t: &TestApp) -> World {
    let tenant = t.tenant("fuzz").await;
    for p in liasse_domain::catalogue::default_procedures().unwrap() {
        requests::save_procedure(&t.app, &tenant, Actor::operator(), p)
            .await
            .unwrap();
    }
    let citizen = t.account("fuzz", "camille", "citizen", &[]).await;
    let agent = t
        .account("fuzz", "dominique", "agent", &[("scolaire", "modify")])
        .await;
    let r = deposit(
        t,
        &citizen,
        &[("type", "justificatif-domicile")],
        "edf.pdf",
        samples::minimal_pdf(),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let doc = r.json()["id"].as_str().unwrap().to_string();
    let (s, draft) = t
        .send(
            Method::POST,
            &citizen,
            "/api/v1/requests",
            Some(json!({ "procedure": "inscription-scolaire", "answers": { "canteen": true } })),
        )
        .await;
    assert_eq!(s, 201, "{draft}");
    World {
        citizen,
        agent,
        doc,
        draft,
    }
}

async fn get(t: &TestApp, token: &str, path: &str) -> Reply {
    reply(req(t, Method::GET, path, token)).await
}

/// Query strings and path segments the handlers cannot read were answered by axum in plain
/// text (`Failed to deserialize query string: ...`).
#[tokio::test(flavor = "multi_thread")]
async fn unreadable_query_and_path_are_problems() {
    for t in TestApp::all().await {
        let w = world(&t).await;
        let b = t.backend;
        for path in [
            "/api/v1/documents?valid_on=2026-01-01&valid_on=2026-01-02".to_string(),
            format!("/api/v1/documents/{}/content?version=null", w.doc),
            format!("/api/v1/documents/{}/content?version=1&version=2", w.doc),
            "/api/v1/statistics?format=csv&format=json".to_string(),
            "/api/v1/search/requests?to=a&to=b".to_string(),
        ] {
            let token = if path.contains("/search/") || path.contains("/statistics") {
                &w.agent
            } else {
                &w.citizen
            };
            let r = get(&t, token, &path).await;
            assert_problem(&r, 400, "invalid-query", &format!("{b:?} GET {path}"));
        }
        let path = format!("/api/v1/documents/{}/versions/null,null/content", w.doc);
        let r = get(&t, &w.citizen, &path).await;
        assert_problem(&r, 400, "invalid-path", &format!("{b:?} GET {path}"));
        // Still readable the right way.
        let path = format!("/api/v1/documents/{}/versions/1/content", w.doc);
        assert_eq!(get(&t, &w.citizen, &path).await.status, 200, "{b:?}");
    }
}

/// A date filter that is not a date was taken as text: an agent got `200 []` for
/// `valid_on=garbage`, and `/search/requests?from=garbage` filtered on the text.
#[tokio::test(flavor = "multi_thread")]
async fn date_filters_that_are_not_dates_are_refused() {
    for t in TestApp::all().await {
        let w = world(&t).await;
        let b = t.backend;
        for token in [&w.citizen, &w.agent] {
            let r = get(&t, token, "/api/v1/documents?valid_on=demain").await;
            assert_problem(&r, 400, "invalid-date", &format!("{b:?} valid_on=demain"));
            let r = get(&t, token, "/api/v1/documents/count?valid_on=2026-13-45").await;
            assert_problem(&r, 400, "invalid-date", &format!("{b:?} count"));
        }
        for query in ["from=hier", "to=2026-02-30"] {
            let path = format!("/api/v1/search/requests?{query}");
            let r = get(&t, &w.agent, &path).await;
            assert_problem(&r, 400, "invalid-date", &format!("{b:?} {path}"));
        }
        // Empty filters mean no filter, and real dates still work.
        let r = get(&t, &w.citizen, "/api/v1/documents?valid_on=&type=").await;
        assert_eq!(r.status, 200, "{b:?} {}", r.text());
        assert_eq!(r.json().as_array().unwrap().len(), 1, "{b:?}");
        let r = get(&t, &w.agent, "/api/v1/search/requests?from=2020-01-01&to=").await;
        assert_eq!(r.status, 200, "{b:?} {}", r.text());
    }
}

/// `/statistics?format=` anything but `csv` answered JSON, although the document lists
/// `json` and `csv` only.
#[tokio::test(flavor = "multi_thread")]
async fn statistics_format_is_json_or_csv() {
    for t in TestApp::all().await {
        world(&t).await;
        let manager = t
            .account("fuzz", "alix", "manager", &[("scolaire", "manage")])
            .await;
        let b = t.backend;
        for format in ["null", "xml", ""] {
            let path = format!("/api/v1/statistics?format={format}");
            let r = get(&t, &manager, &path).await;
            assert_problem(&r, 400, "invalid-format", &format!("{b:?} {path}"));
        }
        for (query, media_type) in [
            ("", "application/json"),
            ("?format=json", "application/json"),
            ("?format=csv", "text/csv; charset=utf-8"),
        ] {
            let r = get(&t, &manager, &format!("/api/v1/statistics{query}")).await;
            assert_eq!(r.status, 200, "{b:?} {query}: {}", r.text());
            assert_eq!(r.header("content-type"), media_type, "{b:?} {query}");
        }
    }
}

/// Uploads that are not multipart forms were answered `400 Invalid boundary` in plain text.
#[tokio::test(flavor = "multi_thread")]
async fn uploads_that_are_not_forms_are_problems() {
    for t in TestApp::all().await {
        let w = world(&t).await;
        let b = t.backend;
        let before = t.storage_counts().await;
        let replace = format!("/api/v1/documents/{}/content", w.doc);
        for (method, path) in [
            (Method::POST, "/api/v1/documents"),
            (Method::PUT, replace.as_str()),
        ] {
            let r = reply(req(&t, method.clone(), path, &w.citizen)).await;
            assert_problem(
                &r,
                415,
                "unsupported-media-type",
                &format!("{b:?} {method} {path}"),
            );
            let r = reply(
                req(&t, method.clone(), path, &w.citizen)
                    .header("content-type", "application/json")
                    .body("{\"type\": \"justificatif-domicile\"}"),
            )
            .await;
            assert_problem(
                &r,
                415,
                "unsupported-media-type",
                &format!("{b:?} {method} {path} json"),
            );
            let r = reply(
                req(&t, method.clone(), path, &w.citizen)
                    .header("content-type", "multipart/form-data")
                    .body("--x\r\n"),
            )
            .await;
            assert_problem(
                &r,
                400,
                "invalid-multipart",
                &format!("{b:?} {method} {path} no boundary"),
            );
        }
        let path = format!(
            "/api/v1/citizens/{}/documents",
            w.draft["citizen_id"].as_str().unwrap()
        );
        let r = reply(req(&t, Method::POST, &path, &w.agent)).await;
        assert_problem(
            &r,
            415,
            "unsupported-media-type",
            &format!("{b:?} POST {path}"),
        );
        assert_eq!(
            t.storage_counts().await,
            before,
            "{b:?}: a refused upload left something"
        );
    }
}

/// A JSON array was read as a struct (serde accepts `[a, b]` for `{x: a, y: b}`): `PATCH` of a
/// draft with `[null, null]` answered 200, and `POST /documents/{id}/uses` with `["X"]` wrote
/// a journal entry.
#[tokio::test(flavor = "multi_thread")]
async fn json_bodies_must_be_objects() {
    for t in TestApp::all().await {
        let w = world(&t).await;
        let b = t.backend;
        let id = w.draft["id"].as_str().unwrap();
        // A share gives the agent's domain a basis on the document.
        let (s, grant) = t
            .send(
                Method::POST,
                &w.citizen,
                "/api/v1/grants",
                Some(json!({ "domain": "scolaire", "types": ["justificatif-domicile"], "purpose": "Inscription", "until": "2026-06-30" })),
            )
            .await;
        assert_eq!(s, 201, "{b:?} {grant}");
        let journal = journal_rows(&t).await;
        for (method, path, body) in [
            (
                Method::PATCH,
                format!("/api/v1/requests/{id}"),
                "[null, null]",
            ),
            (
                Method::PATCH,
                format!("/api/v1/requests/{id}"),
                "[{\"canteen\": false}, []]",
            ),
            (
                Method::POST,
                "/api/v1/household-members".into(),
                "[\"Léo\", null, \"enfant\"]",
            ),
            (
                Method::PUT,
                "/api/v1/preferences".into(),
                "[{}, true, true, null, null]",
            ),
            (Method::POST, "/api/v1/grants".into(), "\"partage\""),
            (
                Method::POST,
                format!("/api/v1/requests/{id}/transitions"),
                "[\"submitted\"]",
            ),
        ] {
            let r = reply(
                req(&t, method.clone(), &path, &w.citizen)
                    .header("content-type", "application/json")
                    .body(body),
            )
            .await;
            assert_problem(
                &r,
                400,
                "invalid-json",
                &format!("{b:?} {method} {path} {body}"),
            );
        }
        // The agent's record of a use, on a document of a request submitted to its domain.
        let path = format!("/api/v1/documents/{}/uses", w.doc);
        let r = reply(
            req(&t, Method::POST, &path, &w.agent)
                .header("content-type", "application/json")
                .body("[\"DOSSIER-1\"]"),
        )
        .await;
        assert_problem(&r, 400, "invalid-json", &format!("{b:?} POST {path}"));
        assert_eq!(
            journal_rows(&t).await,
            journal,
            "{b:?}: a refused body wrote to the journal"
        );
        let r = reply(req(&t, Method::POST, &path, &w.agent).json(&json!({ "case": "DOSSIER-1" })))
            .await;
        assert_eq!(r.status, 204, "{b:?} the agent has a basis: {}", r.text());
        let (s, after) = t
            .get_json(&w.citizen, &format!("/api/v1/requests/{id}"))
            .await;
        assert_eq!(s, 200);
        assert_eq!(
            after["answers"], w.draft["answers"],
            "{b:?}: the draft changed"
        );
    }
}

/// Password login: a body that is not JSON was answered by axum in plain text (415, 400).
#[tokio::test(flavor = "multi_thread")]
async fn login_with_a_body_that_is_not_json_is_a_problem() {
    for t in TestApp::all().await {
        t.tenant("fuzz").await;
        t.account("fuzz", "camille", "citizen", &[]).await;
        let b = t.backend;
        let url = t.url("/api/v1/session");
        let good = json!({ "tenant": "fuzz", "login": "camille", "password": "camille-password" });
        let r = reply(t.http.post(&url).body(good.to_string())).await;
        assert_problem(
            &r,
            415,
            "unsupported-media-type",
            &format!("{b:?} no content type"),
        );
        let r = reply(
            t.http
                .post(&url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body("tenant=fuzz&login=camille&password=camille-password"),
        )
        .await;
        assert_problem(&r, 415, "unsupported-media-type", &format!("{b:?} form"));
        for body in [
            "\u{0}",
            "[\"fuzz\", \"camille\", \"camille-password\"]",
            "{\"tenant\": 1}",
        ] {
            let r = reply(
                t.http
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body),
            )
            .await;
            assert_problem(&r, 400, "invalid-json", &format!("{b:?} {body:?}"));
        }
        let r = reply(t.http.post(&url).json(&good)).await;
        assert_eq!(r.status, 200, "{b:?} {}", r.text());
    }
}

/// Unknown API routes and methods a route does not take were answered with an empty body.
#[tokio::test(flavor = "multi_thread")]
async fn unknown_routes_and_methods_are_problems() {
    let t = TestApp::embedded().await;
    t.tenant("fuzz").await;
    let citizen = t.account("fuzz", "camille", "citizen", &[]).await;
    let r = get(&t, &citizen, "/api/v1/nothing-here").await;
    assert_problem(&r, 404, "not-found", "unknown route");
    let r = reply(req(&t, Method::PATCH, "/api/v1/documents", &citizen)).await;
    assert_problem(&r, 405, "method-not-allowed", "PATCH /documents");
    assert!(r.header("allow").contains("GET"), "{:?}", r.headers);
    // The web pages keep their own answers.
    let r = reply(t.http.get(t.url("/nothing-here"))).await;
    assert_ne!(r.header("content-type"), "application/problem+json");
}

/// The document says what the server answers: every operation that needs a token lists 401,
/// every error answer is problem+json, and every route of the contract is there.
#[tokio::test(flavor = "multi_thread")]
async fn every_operation_documents_its_errors() {
    let t = TestApp::embedded().await;
    let r = reply(t.http.get(t.url("/api/v1/openapi.json"))).await;
    assert_eq!(r.status, 200);
    let spec = r.json();
    let mut seen = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if method == "parameters" {
                continue;
            }
            seen += 1;
            let public = op["security"] == json!([]);
            let responses = op["responses"].as_object().unwrap();
            assert!(
                public || responses.contains_key("401"),
                "{method} {path}: no 401"
            );
            for (status, answer) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    assert!(
                        answer["content"]["application/problem+json"].is_object(),
                        "{method} {path} {status}: not problem+json"
                    );
                }
            }
            let has_params = item["parameters"].is_array() || op["parameters"].is_array();
            let has_body = op["requestBody"].is_object();
            assert!(
                !(has_params || has_body) || responses.contains_key("400"),
                "{method} {path}: takes input but documents no 400"
            );
        }
    }
    assert!(seen >= 54, "{seen} operations");
    for (method, path) in [
        ("post", "/document-types/{code}"),
        ("put", "/document-types/{code}"),
        ("delete", "/document-types/{code}"),
        ("get", "/documents/{id}/content"),
        ("post", "/requests/{id}/transitions"),
    ] {
        assert!(spec["paths"][path][method].is_object(), "{method} {path}");
    }
}

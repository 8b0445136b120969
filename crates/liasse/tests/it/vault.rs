//! The citizen vault over HTTP, on every backend: the whole story of a citizen (deposit, list
//! with computed validity, replace, old versions, delete, journal, export), session login with
//! CSRF protection and rate limiting, household members, validity rules and downloads.
//!
//! The small HTTP helpers at the top are shared with `uploads.rs` and `access.rs`.

use std::collections::HashMap;
use std::io::{Cursor, Read};

use liasse_inspect::samples;
use liasse_testkit::{TEST_START, TestApp};
use reqwest::Method;
use reqwest::header::HeaderMap;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

// ------------------------------------------------------------------------------ helpers

/// A whole HTTP answer.
pub(crate) struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

pub(crate) async fn reply(r: reqwest::RequestBuilder) -> Reply {
    let r = r.send().await.expect("request");
    Reply {
        status: r.status().as_u16(),
        headers: r.headers().clone(),
        body: r.bytes().await.expect("body").to_vec(),
    }
}

/// A request with a bearer token.
pub(crate) fn req(t: &TestApp, method: Method, path: &str, token: &str) -> reqwest::RequestBuilder {
    t.http.request(method, t.url(path)).bearer_auth(token)
}

/// A multipart form: the text fields first, then the file (when given).
pub(crate) fn form(fields: &[(&str, &str)], file: Option<(&str, Vec<u8>)>) -> Form {
    let mut f = Form::new();
    for (k, v) in fields {
        f = f.text(k.to_string(), v.to_string());
    }
    if let Some((name, bytes)) = file {
        f = f.part("file", Part::bytes(bytes).file_name(name.to_string()));
    }
    f
}

pub(crate) async fn deposit(
    t: &TestApp,
    token: &str,
    fields: &[(&str, &str)],
    file_name: &str,
    bytes: Vec<u8>,
) -> Reply {
    reply(
        req(t, Method::POST, "/api/v1/documents", token)
            .multipart(form(fields, Some((file_name, bytes)))),
    )
    .await
}

/// Whether a sentence reads as French: long enough and with common French words.
pub(crate) fn looks_french(s: &str) -> bool {
    const WORDS: &[&str] = &[
        " le ", " la ", " les ", " de ", " du ", " des ", " un ", " une ", " est ", " n'", " l'",
        " d'", " ce ", " cette ", " pas ", " votre ", " vous ", " au ", " aux ", " à ", " pour ",
        " et ", " ou ", " en ", " ne ", " sur ", " trop ",
    ];
    let padded = format!(" {} ", s.to_lowercase());
    s.trim().chars().count() >= 10
        && (WORDS.iter().any(|w| padded.contains(w)) || s.contains(['é', 'è', 'à', 'ç', '«']))
}

/// Asserts a problem+json answer with the given status and stable type.
pub(crate) fn assert_problem(r: &Reply, status: u16, code: &str, context: &str) {
    assert_eq!(r.status, status, "{context}: {}", r.text());
    assert_eq!(
        r.header("content-type"),
        "application/problem+json",
        "{context}"
    );
    let body = r.json();
    assert_eq!(
        body["type"],
        format!("https://liasse.fr/problems/{code}"),
        "{context}: {body}"
    );
    assert_eq!(
        body["type"],
        liasse_http::problem::type_uri(code),
        "{context}"
    );
    assert_eq!(body["status"], status, "{context}: {body}");
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(
        looks_french(detail),
        "{context}: detail {detail:?} is not a French sentence"
    );
    assert!(
        !body["title"].as_str().unwrap_or_default().is_empty(),
        "{context}: {body}"
    );
}

/// Every journal row of every tenant.
pub(crate) async fn journal_rows(t: &TestApp) -> i64 {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM journal")
        .fetch_one(t.app.db.pool())
        .await
        .unwrap();
    sqlx::Row::try_get(&row, "n").unwrap()
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Every entry of a ZIP archive, by name.
pub(crate) fn unzip(bytes: &[u8]) -> HashMap<String, Vec<u8>> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes.to_vec())).expect("a readable ZIP");
    let mut out = HashMap::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        let mut buf = Vec::new();
        f.read_to_end(&mut buf).unwrap();
        out.insert(f.name().unwrap().to_string(), buf);
    }
    out
}

/// Downloads a file and checks that it is served as an attachment that browsers may not sniff.
pub(crate) async fn download(t: &TestApp, token: &str, path: &str, media_type: &str) -> Vec<u8> {
    let r = reply(req(t, Method::GET, path, token)).await;
    assert_eq!(r.status, 200, "{path}: {}", r.text());
    assert_eq!(r.header("content-type"), media_type, "{path}");
    assert!(
        r.header("content-disposition").starts_with("attachment;"),
        "{path}: {:?}",
        r.headers
    );
    assert_eq!(r.header("x-content-type-options"), "nosniff", "{path}");
    assert_eq!(
        r.header("content-length"),
        r.body.len().to_string(),
        "{path}"
    );
    r.body
}

const DAY_MS: i64 = 24 * 3600 * 1000;

// --------------------------------------------------------------------------- the story

#[tokio::test(flavor = "multi_thread")]
async fn citizen_story_from_deposit_to_export() {
    for t in TestApp::all().await {
        let b = t.backend;
        t.tenant("ville").await;
        let camille = t.account("ville", "camille", "citizen", &[]).await;

        // The catalogue the citizen deposits from.
        let (status, types) = t.get_json(&camille, "/api/v1/document-types").await;
        assert_eq!(status, 200, "{b:?}");
        let codes: Vec<&str> = types
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|t| t["code"].as_str())
            .collect();
        assert!(
            codes.contains(&"justificatif-domicile") && codes.contains(&"photo-identite"),
            "{codes:?}"
        );

        // A PDF, with its issue date.
        let bill_v1 = samples::pdf_with_text("Facture EDF decembre 2025");
        let r = deposit(
            &t,
            &camille,
            &[
                ("type", "justificatif-domicile"),
                ("title", "Facture EDF"),
                ("issued_on", "2025-12-01"),
            ],
            "facture décembre.pdf",
            bill_v1.clone(),
        )
        .await;
        assert_eq!(r.status, 201, "{b:?}: {}", r.text());
        let pdf = r.json();
        let pdf_id = pdf["id"].as_str().unwrap().to_string();
        assert_eq!(pdf["type"], "justificatif-domicile");
        assert_eq!(pdf["title"], "Facture EDF");
        assert_eq!(pdf["file_name"], "facture décembre.pdf");
        assert_eq!(pdf["state"], "submitted");
        assert_eq!(pdf["valid_until"], "2026-03-01");
        assert_eq!(pdf["expired"], false);
        assert_eq!(pdf["version"], 1);
        assert_eq!(pdf["size"], bill_v1.len());
        assert_eq!(pdf["media_type"], "application/pdf");
        // A keyed digest, never the plain SHA-256 that anyone could look up.
        let digest_v1 = pdf["digest"].as_str().unwrap().to_string();
        assert!(digest_v1.starts_with("hmac-sha256:"), "{pdf}");
        assert!(!digest_v1.contains(&sha256_hex(&bill_v1)));
        assert!(pdf.get("sha256").is_none());
        assert_eq!(pdf["subject"], Value::Null);
        assert_eq!(pdf["origin"], "citizen");

        // A photo: P6M from the deposit day.
        let photo = samples::small_png(30, 40);
        let r = deposit(
            &t,
            &camille,
            &[("type", "photo-identite")],
            "photo.png",
            photo.clone(),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text());
        let png = r.json();
        let png_id = png["id"].as_str().unwrap().to_string();
        assert_eq!(png["valid_until"], "2026-07-15");
        assert_eq!(png["media_type"], "image/png");

        // The list, with the computed validity.
        let (status, list) = t.get_json(&camille, "/api/v1/documents").await;
        assert_eq!(status, 200);
        let by_id: HashMap<&str, &Value> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|d| (d["id"].as_str().unwrap(), d))
            .collect();
        assert_eq!(by_id.len(), 2, "{list:#}");
        assert_eq!(by_id[pdf_id.as_str()]["valid_until"], "2026-03-01");
        assert_eq!(by_id[png_id.as_str()]["valid_until"], "2026-07-15");
        for d in by_id.values() {
            assert_eq!(d["state"], "submitted");
            assert_eq!(d["expired"], false);
        }
        let (_, count) = t.get_json(&camille, "/api/v1/documents/count").await;
        assert_eq!(count["count"], 2);

        // Replace the PDF: version 2, the title stays.
        let bill_v2 = samples::pdf_with_text("Facture EDF janvier 2026");
        let (status, replaced) = t
            .replace(&camille, &pdf_id, "facture janvier.pdf", bill_v2.clone())
            .await;
        assert_eq!(status, 200, "{replaced}");
        assert_eq!(replaced["version"], 2);
        let digest_v2 = replaced["digest"].as_str().unwrap().to_string();
        assert!(digest_v2.starts_with("hmac-sha256:") && digest_v2 != digest_v1);
        assert_eq!(replaced["file_name"], "facture janvier.pdf");
        assert_eq!(replaced["title"], "Facture EDF");
        let (status, one) = t
            .get_json(&camille, &format!("/api/v1/documents/{pdf_id}"))
            .await;
        assert_eq!(status, 200);
        let versions = one["versions"].as_array().unwrap();
        assert_eq!(versions.len(), 2, "{one:#}");
        assert_eq!(versions[0]["version"], 1);
        assert_eq!(versions[0]["digest"], digest_v1.as_str());
        assert_eq!(versions[0]["file_name"], "facture décembre.pdf");
        assert_eq!(versions[1]["digest"], digest_v2.as_str());

        // The old version stays readable, both ways; the current one is the new file.
        let pdf_type = "application/pdf";
        let old = download(
            &t,
            &camille,
            &format!("/api/v1/documents/{pdf_id}/versions/1/content"),
            pdf_type,
        )
        .await;
        assert!(old == bill_v1, "version 1 differs");
        let old = download(
            &t,
            &camille,
            &format!("/api/v1/documents/{pdf_id}/content?version=1"),
            pdf_type,
        )
        .await;
        assert!(old == bill_v1, "?version=1 differs");
        let current = download(
            &t,
            &camille,
            &format!("/api/v1/documents/{pdf_id}/content"),
            pdf_type,
        )
        .await;
        assert!(current == bill_v2, "current version differs");
        let got = download(
            &t,
            &camille,
            &format!("/api/v1/documents/{png_id}/content"),
            "image/png",
        )
        .await;
        assert!(got == photo, "photo differs");
        let r = reply(req(
            &t,
            Method::GET,
            &format!("/api/v1/documents/{pdf_id}/versions/3/content"),
            &camille,
        ))
        .await;
        assert_problem(&r, 404, "not-found", "a version that does not exist");

        // Delete the photo: gone from the list and every route, its blob removed.
        let (_, _, blobs_before) = t.storage_counts().await;
        let r = reply(req(
            &t,
            Method::DELETE,
            &format!("/api/v1/documents/{png_id}"),
            &camille,
        ))
        .await;
        assert_eq!(r.status, 204, "{}", r.text());
        let (_, _, blobs_after) = t.storage_counts().await;
        assert_eq!(
            blobs_after,
            blobs_before - 1,
            "{b:?}: the deleted document's blob remains"
        );
        for path in [
            format!("/api/v1/documents/{png_id}"),
            format!("/api/v1/documents/{png_id}/content"),
            format!("/api/v1/documents/{png_id}/versions/1/content"),
        ] {
            let r = reply(req(&t, Method::GET, &path, &camille)).await;
            assert_problem(&r, 404, "not-found", &path);
        }
        let r = reply(req(
            &t,
            Method::DELETE,
            &format!("/api/v1/documents/{png_id}"),
            &camille,
        ))
        .await;
        assert_problem(&r, 404, "not-found", "deleting twice");
        let (_, list) = t.get_json(&camille, "/api/v1/documents").await;
        let ids: Vec<&str> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, vec![pdf_id.as_str()]);

        // The journal tells the whole story, with the owner as basis.
        let (status, journal) = t.get_json(&camille, "/api/v1/journal").await;
        assert_eq!(status, 200);
        let journal = journal.as_array().unwrap();
        let actions_on = |id: &str| -> Vec<String> {
            journal
                .iter()
                .filter(|e| e["object_id"] == id)
                .map(|e| e["action"].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(
            actions_on(&pdf_id),
            [
                "document.deposit",
                "document.replace",
                "document.read",
                "document.read",
                "document.read"
            ],
            "{journal:#?}"
        );
        assert_eq!(
            actions_on(&png_id),
            ["document.deposit", "document.read", "document.delete"]
        );
        for e in journal.iter().filter(|e| e["object_kind"] == "document") {
            assert_eq!(e["actor_kind"], "citizen");
            assert_eq!(e["actor_name"], "camille (nom)");
            assert_eq!(e["basis_kind"], "owner");
            assert_eq!(e["hash"].as_str().unwrap().len(), 64, "{e}");
        }
        let seqs: Vec<i64> = journal.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
        let reads: Vec<&Value> = journal
            .iter()
            .filter(|e| e["action"] == "document.read" && e["object_id"] == pdf_id.as_str())
            .collect();
        assert_eq!(reads[0]["details"]["version"], 1);
        assert_eq!(reads[2]["details"]["version"], 2);

        // The export holds every live version, byte for byte (details in export.rs).
        let r = reply(req(&t, Method::GET, "/api/v1/export", &camille)).await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.header("content-type"), "application/zip");
        assert!(r.header("content-disposition").starts_with("attachment;"));
        let files = unzip(&r.body);
        let manifest: Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
        let docs = manifest["documents"].as_array().unwrap();
        assert_eq!(
            docs.len(),
            1,
            "the deleted photo is not exported: {manifest:#}"
        );
        assert_eq!(docs[0]["id"], pdf_id.as_str());
        let originals = [&bill_v1, &bill_v2];
        let versions = docs[0]["versions"].as_array().unwrap();
        assert_eq!(versions.len(), 2);
        for (v, original) in versions.iter().zip(originals) {
            let path = v["path"].as_str().unwrap();
            assert!(files[path] == *original, "{path} differs from the upload");
        }
    }
}

// ---------------------------------------------------------------------- session login

fn session_cookie(r: &Reply) -> String {
    let set = r.header("set-cookie");
    assert!(set.starts_with("__Host-liasse="), "{set}");
    for attr in ["Path=/", "Secure", "HttpOnly", "SameSite=Lax"] {
        assert!(
            set.split("; ").any(|a| a == attr),
            "{attr} missing in {set}"
        );
    }
    assert!(!set.contains("Domain="), "{set}");
    set.split(';').next().unwrap().to_string()
}

async fn login(t: &TestApp, tenant: &str, login: &str, password: &str) -> Reply {
    reply(
        t.http
            .post(t.url("/api/v1/session"))
            .json(&json!({ "tenant": tenant, "login": login, "password": password })),
    )
    .await
}

/// A request authenticated by the session cookie, with a CSRF header when given.
fn with_cookie(
    t: &TestApp,
    method: Method,
    path: &str,
    cookie: &str,
    csrf: Option<&str>,
) -> reqwest::RequestBuilder {
    let r = t.http.request(method, t.url(path)).header("cookie", cookie);
    match csrf {
        Some(token) => r.header("x-csrf-token", token),
        None => r,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn session_cookie_needs_the_csrf_token_to_change_anything() {
    for t in TestApp::all().await {
        t.tenant("sess").await;
        let bearer = t.account("sess", "dominique", "citizen", &[]).await;
        let r = deposit(
            &t,
            &bearer,
            &[("type", "justificatif-domicile")],
            "a.pdf",
            samples::minimal_pdf(),
        )
        .await;
        assert_eq!(r.status, 201);
        let doc_id = r.json()["id"].as_str().unwrap().to_string();

        let r = login(&t, "sess", "dominique", "dominique-password").await;
        assert_eq!(r.status, 200, "{}", r.text());
        let cookie = session_cookie(&r);
        let csrf = r.json()["csrf_token"].as_str().unwrap().to_string();
        assert!(csrf.len() >= 32, "{csrf}");
        assert_eq!(r.json()["role"], "citizen");

        // Reading needs no CSRF token.
        let r = reply(with_cookie(
            &t,
            Method::GET,
            "/api/v1/documents",
            &cookie,
            None,
        ))
        .await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json().as_array().unwrap().len(), 1);

        // Changes without the token, or with a wrong one, are refused and change nothing.
        let before = (t.storage_counts().await, journal_rows(&t).await);
        for csrf_sent in [None, Some("csrf_not-the-right-one"), Some("")] {
            let what = format!("CSRF token {csrf_sent:?}");
            let upload = form(
                &[("type", "justificatif-domicile")],
                Some(("b.pdf", samples::minimal_pdf())),
            );
            let r = reply(
                with_cookie(&t, Method::POST, "/api/v1/documents", &cookie, csrf_sent)
                    .multipart(upload),
            )
            .await;
            assert_problem(&r, 400, "csrf-token-invalid", &format!("deposit, {what}"));
            let r = reply(with_cookie(
                &t,
                Method::DELETE,
                &format!("/api/v1/documents/{doc_id}"),
                &cookie,
                csrf_sent,
            ))
            .await;
            assert_problem(&r, 400, "csrf-token-invalid", &format!("delete, {what}"));
            let r = reply(with_cookie(
                &t,
                Method::POST,
                &format!("/api/v1/documents/{doc_id}/check"),
                &cookie,
                csrf_sent,
            ))
            .await;
            assert_problem(&r, 400, "csrf-token-invalid", &format!("check, {what}"));
            let r = reply(
                with_cookie(
                    &t,
                    Method::POST,
                    "/api/v1/household-members",
                    &cookie,
                    csrf_sent,
                )
                .json(&json!({ "name": "Léo", "relation": "enfant" })),
            )
            .await;
            assert_problem(
                &r,
                400,
                "csrf-token-invalid",
                &format!("household member, {what}"),
            );
        }
        assert_eq!(
            (t.storage_counts().await, journal_rows(&t).await),
            before,
            "{:?}",
            t.backend
        );
        let (_, members) = t.get_json(&bearer, "/api/v1/household-members").await;
        assert_eq!(members, json!([]));
        let r = reply(req(
            &t,
            Method::GET,
            &format!("/api/v1/documents/{doc_id}"),
            &bearer,
        ))
        .await;
        assert_eq!(r.status, 200, "the document must still be there");

        // With the right token the same requests succeed.
        let upload = form(
            &[("type", "justificatif-domicile")],
            Some(("b.pdf", samples::minimal_pdf())),
        );
        let r = reply(
            with_cookie(&t, Method::POST, "/api/v1/documents", &cookie, Some(&csrf))
                .multipart(upload),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text());
        let r = reply(with_cookie(
            &t,
            Method::DELETE,
            &format!("/api/v1/documents/{doc_id}"),
            &cookie,
            Some(&csrf),
        ))
        .await;
        assert_eq!(r.status, 204, "{}", r.text());
        let (_, list) = t.get_json(&bearer, "/api/v1/documents").await;
        assert_eq!(list.as_array().unwrap().len(), 1);

        // Logging out needs the token too, then the cookie is worthless.
        let r = reply(with_cookie(
            &t,
            Method::DELETE,
            "/api/v1/session",
            &cookie,
            None,
        ))
        .await;
        assert_problem(&r, 400, "csrf-token-invalid", "logout without token");
        let r = reply(with_cookie(
            &t,
            Method::DELETE,
            "/api/v1/session",
            &cookie,
            Some(&csrf),
        ))
        .await;
        assert_eq!(r.status, 204, "{}", r.text());
        assert!(
            r.header("set-cookie").contains("Max-Age=0"),
            "{:?}",
            r.headers
        );
        let r = reply(with_cookie(
            &t,
            Method::GET,
            "/api/v1/documents",
            &cookie,
            None,
        ))
        .await;
        assert_problem(&r, 401, "unauthenticated", "after logout");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_passwords_are_refused_then_rate_limited() {
    for t in TestApp::all().await {
        t.tenant("pwd").await;
        t.account("pwd", "eve", "citizen", &[]).await;
        let journal_before = journal_rows(&t).await;

        let r = login(&t, "pwd", "eve", "not-her-password").await;
        assert_problem(&r, 401, "unauthenticated", "wrong password");
        assert!(r.header("set-cookie").is_empty());
        // An unknown login looks the same.
        let r = login(&t, "pwd", "nobody", "whatever-password").await;
        assert_problem(&r, 401, "unauthenticated", "unknown login");
        let r = login(&t, "no-such-town", "eve", "eve-password").await;
        assert_problem(&r, 401, "unauthenticated", "unknown tenant");

        for attempt in 2..=5 {
            let r = login(&t, "pwd", "eve", &format!("guess-{attempt}")).await;
            assert_problem(&r, 401, "unauthenticated", &format!("attempt {attempt}"));
        }
        // The sixth wrong password, and even the right one now, wait for the window to pass.
        for password in ["guess-6", "eve-password"] {
            let r = login(&t, "pwd", "eve", password).await;
            assert_problem(&r, 429, "too-many-attempts", password);
            let retry: u64 = r
                .header("retry-after")
                .parse()
                .expect("a Retry-After in seconds");
            assert!((1..=15 * 60).contains(&retry), "{retry}");
            assert!(r.header("set-cookie").is_empty());
        }
        assert_eq!(
            journal_rows(&t).await,
            journal_before,
            "failed logins open nothing"
        );
        // Another login of the same town is not affected.
        t.account("pwd", "franck", "citizen", &[]).await;
        let r = login(&t, "pwd", "franck", "franck-password").await;
        assert_eq!(r.status, 200, "{}", r.text());

        t.clock.advance(16 * 60 * 1000);
        let r = login(&t, "pwd", "eve", "eve-password").await;
        assert_eq!(r.status, 200, "after the window: {}", r.text());
    }
}

// ------------------------------------------------------------------- household members

#[tokio::test(flavor = "multi_thread")]
async fn documents_of_household_members() {
    for t in TestApp::all().await {
        t.tenant("foyer").await;
        let parent = t.account("foyer", "gaelle", "citizen", &[]).await;
        let other = t.account("foyer", "hugo", "citizen", &[]).await;

        let r = reply(
            req(&t, Method::POST, "/api/v1/household-members", &parent)
                .json(&json!({ "name": "Inès", "relation": "enfant", "birth_date": "2016-04-02" })),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text());
        let child = r.json();
        let child_id = child["id"].as_str().unwrap().to_string();
        assert_eq!(child["name"], "Inès");
        let r = reply(
            req(&t, Method::POST, "/api/v1/household-members", &other)
                .json(&json!({ "name": "Jules", "relation": "enfant" })),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text());
        let others_child = r.json()["id"].as_str().unwrap().to_string();
        let (_, members) = t.get_json(&parent, "/api/v1/household-members").await;
        let ids: Vec<&str> = members
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, vec![child_id.as_str()]);

        let r = deposit(
            &t,
            &parent,
            &[
                ("type", "certificat-scolarite"),
                ("subject", &child_id),
                ("title", "Certificat d'Inès"),
            ],
            "certificat.pdf",
            samples::minimal_pdf(),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text());
        let child_doc = r.json();
        assert_eq!(child_doc["subject"], child_id.as_str());
        assert_eq!(
            child_doc["valid_until"], "2026-08-31",
            "end of the school year"
        );
        let child_doc_id = child_doc["id"].as_str().unwrap().to_string();
        let r = deposit(
            &t,
            &parent,
            &[("type", "justificatif-domicile"), ("subject", "self")],
            "d.pdf",
            samples::minimal_pdf(),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text());
        assert_eq!(r.json()["subject"], Value::Null);
        let own_doc_id = r.json()["id"].as_str().unwrap().to_string();

        let ids_of = |v: &Value| -> Vec<String> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|d| d["id"].as_str().unwrap().to_string())
                .collect()
        };
        let (status, list) = t
            .get_json(&parent, &format!("/api/v1/documents?subject={child_id}"))
            .await;
        assert_eq!(status, 200);
        assert_eq!(ids_of(&list), vec![child_doc_id.clone()]);
        let (_, list) = t.get_json(&parent, "/api/v1/documents?subject=self").await;
        assert_eq!(ids_of(&list), vec![own_doc_id.clone()]);
        let (_, list) = t.get_json(&parent, "/api/v1/documents").await;
        assert_eq!(list.as_array().unwrap().len(), 2);

        // Someone else's household member is not a subject of this vault.
        let before = (t.storage_counts().await, journal_rows(&t).await);
        let r = deposit(
            &t,
            &parent,
            &[
                ("type", "justificatif-domicile"),
                ("subject", &others_child),
            ],
            "e.pdf",
            samples::minimal_pdf(),
        )
        .await;
        assert_problem(&r, 400, "unknown-subject", "another citizen's child");
        let r = deposit(
            &t,
            &parent,
            &[
                ("type", "justificatif-domicile"),
                ("subject", "0190-not-an-id"),
            ],
            "e.pdf",
            samples::minimal_pdf(),
        )
        .await;
        assert_problem(&r, 400, "unknown-subject", "a made-up subject");
        assert_eq!((t.storage_counts().await, journal_rows(&t).await), before);
        let (_, list) = t
            .get_json(
                &parent,
                &format!("/api/v1/documents?subject={others_child}"),
            )
            .await;
        assert_eq!(list, json!([]));
    }
}

// ------------------------------------------------------------- validity and downloads

#[tokio::test(flavor = "multi_thread")]
async fn validity_is_computed_filtered_and_expires_with_the_clock() {
    for t in TestApp::all().await {
        t.tenant("dates").await;
        let token = t.account("dates", "karim", "citizen", &[]).await;
        assert_eq!(
            t.clock.now(),
            TEST_START,
            "the test clock starts on 2026-01-15"
        );

        let proof = samples::pdf_with_text("Quittance");
        let r = deposit(
            &t,
            &token,
            &[
                ("type", "justificatif-domicile"),
                ("issued_on", "2025-12-01"),
            ],
            "quittance.pdf",
            proof.clone(),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text());
        let proof_id = r.json()["id"].as_str().unwrap().to_string();
        assert_eq!(r.json()["valid_until"], "2026-03-01");

        // An issue date in the future is refused.
        let r = deposit(
            &t,
            &token,
            &[
                ("type", "justificatif-domicile"),
                ("issued_on", "2026-02-01"),
            ],
            "q.pdf",
            proof.clone(),
        )
        .await;
        assert_problem(&r, 400, "invalid-date", "issued in the future");

        // The identity card's validity is the date printed on it.
        let before = (t.storage_counts().await, journal_rows(&t).await);
        let card = samples::small_jpeg(64, 40);
        let r = deposit(
            &t,
            &token,
            &[("type", "carte-nationale-identite")],
            "cni.jpg",
            card.clone(),
        )
        .await;
        assert_problem(
            &r,
            400,
            "valid-until-required",
            "identity card without its date",
        );
        let r = deposit(
            &t,
            &token,
            &[
                ("type", "carte-nationale-identite"),
                ("valid_until", "01/05/2031"),
            ],
            "cni.jpg",
            card.clone(),
        )
        .await;
        assert_problem(&r, 400, "invalid-date", "a date in the wrong format");
        assert_eq!((t.storage_counts().await, journal_rows(&t).await), before);
        let r = deposit(
            &t,
            &token,
            &[
                ("type", "carte-nationale-identite"),
                ("valid_until", "2031-05-01"),
            ],
            "cni.jpg",
            card.clone(),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text());
        let card_id = r.json()["id"].as_str().unwrap().to_string();
        assert_eq!(r.json()["valid_until"], "2031-05-01");

        let ids = |v: &Value| -> Vec<String> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|d| d["id"].as_str().unwrap().to_string())
                .collect()
        };
        let (status, list) = t
            .get_json(&token, "/api/v1/documents?valid_on=2026-06-01")
            .await;
        assert_eq!(status, 200);
        assert_eq!(
            ids(&list),
            vec![card_id.clone()],
            "the proof of address is no longer valid in June"
        );
        let (_, list) = t
            .get_json(&token, "/api/v1/documents?valid_on=2026-03-01")
            .await;
        assert_eq!(ids(&list).len(), 2, "valid through its last day");
        let r = reply(req(
            &t,
            Method::GET,
            "/api/v1/documents?valid_on=demain",
            &token,
        ))
        .await;
        assert_problem(&r, 400, "invalid-date", "a filter that is not a date");

        // Time passes: the proof of address expires the day after its last day.
        t.clock.advance(45 * DAY_MS); // 2026-03-01
        let (_, doc) = t
            .get_json(&token, &format!("/api/v1/documents/{proof_id}"))
            .await;
        assert_eq!(doc["state"], "submitted", "{doc}");
        t.clock.advance(DAY_MS); // 2026-03-02
        let (_, doc) = t
            .get_json(&token, &format!("/api/v1/documents/{proof_id}"))
            .await;
        assert_eq!(doc["state"], "expired", "{doc}");
        assert_eq!(doc["expired"], true);
        assert_eq!(doc["review_state"], "submitted");
        let (_, list) = t.get_json(&token, "/api/v1/documents?state=expired").await;
        assert_eq!(ids(&list), vec![proof_id.clone()]);
        let (_, card_view) = t
            .get_json(&token, &format!("/api/v1/documents/{card_id}"))
            .await;
        assert_eq!(card_view["state"], "submitted");

        // The count is the database's, and agrees with the listing for every filter.
        for filter in [
            "",
            "?state=expired",
            "?state=submitted",
            "?state=validated",
            "?type=carte-nationale-identite",
            "?type=inconnu",
            "?subject=self",
            "?subject=01HZZZZZZZZZZZZZZZZZZZZZZZ",
            "?valid_on=2026-03-01",
            "?valid_on=2032-01-01&state=submitted",
        ] {
            let (_, list) = t
                .get_json(&token, &format!("/api/v1/documents{filter}"))
                .await;
            let (status, count) = t
                .get_json(&token, &format!("/api/v1/documents/count{filter}"))
                .await;
            assert_eq!(status, 200, "{filter}: {count}");
            assert_eq!(count["count"], list.as_array().unwrap().len(), "{filter}");
        }

        // The integrity check decrypts and compares the fingerprint.
        let r = reply(req(
            &t,
            Method::POST,
            &format!("/api/v1/documents/{proof_id}/check"),
            &token,
        ))
        .await;
        assert_eq!(r.status, 200, "{}", r.text());
        let check = r.json();
        assert_eq!(check["intact"], true, "{check}");
        assert_eq!(check["version"], 1);
        assert_eq!(check["digest_expected"], check["digest_actual"]);
        let expected = check["digest_expected"].as_str().unwrap();
        assert!(expected.starts_with("hmac-sha256:"), "{check}");
        assert!(!expected.contains(&sha256_hex(&proof)));

        // Downloads: an attachment with the right type, never sniffed, never cached.
        let r = reply(req(
            &t,
            Method::GET,
            &format!("/api/v1/documents/{proof_id}/content"),
            &token,
        ))
        .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), "application/pdf");
        assert_eq!(
            r.header("content-disposition"),
            "attachment; filename=\"quittance.pdf\"; filename*=UTF-8''quittance.pdf"
        );
        assert_eq!(r.header("x-content-type-options"), "nosniff");
        assert!(
            r.header("cache-control").contains("no-store"),
            "{:?}",
            r.headers
        );
        assert!(r.body == proof);
        let got = download(
            &t,
            &token,
            &format!("/api/v1/documents/{card_id}/content"),
            "image/jpeg",
        )
        .await;
        assert!(got == card);
    }
}

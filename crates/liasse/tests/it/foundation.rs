//! The foundation: health, the journal chain, verify, key rotation, encryption at rest.

use futures::TryStreamExt;
use liasse_app::{rotate, verify};
use liasse_domain::journal::{Actor, NewEntry};
use liasse_inspect::samples;
use liasse_testkit::{Backend, TestApp};

use crate::cli::{liasse, text};

async fn citizen_with_document(t: &TestApp, slug: &str) -> (String, String) {
    t.tenant(slug).await;
    let token = t.account(slug, "alice", "citizen", &[]).await;
    let (status, body) = t
        .upload(
            &token,
            &[("type", "justificatif-domicile"), ("title", "Facture EDF")],
            "facture.pdf",
            samples::minimal_pdf(),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    (token, body["id"].as_str().unwrap().to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn health_and_readiness_on_every_backend() {
    for t in TestApp::all().await {
        let r = t.http.get(t.url("/healthz")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let r = t.http.get(t.url("/readyz")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{:?}", t.backend);
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["database"], "ok");
        assert_eq!(body["blobs"], "ok");
        let r = t.http.get(t.url("/metrics")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers().get("x-request-id").is_some());
        let metrics = r.text().await.unwrap();
        assert!(metrics.contains("liasse_http_requests_total"), "{metrics}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_journal_appends_form_one_chain() {
    for t in TestApp::all().await {
        let tenant = t.tenant("concurrent").await;
        let mut tasks = Vec::new();
        for i in 0..40 {
            let app = t.app.clone();
            let tenant = tenant.clone();
            tasks.push(tokio::spawn(async move {
                let mut tx = app.db.begin_write().await.unwrap();
                let e = NewEntry {
                    actor: Actor::system(),
                    action: "test.append".into(),
                    object_kind: "test".into(),
                    object_id: format!("{i}"),
                    citizen_id: None,
                    basis_kind: "test".into(),
                    basis_id: String::new(),
                    details: serde_json::json!({ "i": i }),
                };
                liasse_store::journal::append(&mut tx, &tenant, app.now(), &e)
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let report = verify::run(&t.app, false).await.unwrap();
        assert!(report.is_clean(), "{report:?}");
        let page = liasse_store::journal::page(&t.app.db, &tenant, 0, 1000)
            .await
            .unwrap();
        let seqs: Vec<i64> = page.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
        assert!(seqs.len() > 40, "{:?}", t.backend);
    }
}

/// How many entries of a tenant's journal have this action.
async fn count(db: &liasse_store::Db, tenant: &str, action: &str) -> usize {
    liasse_store::journal::page(db, tenant, 0, 10_000)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.entry.action == action)
        .count()
}

/// Deposits, downloads and reviews that run at once share transactions (group commit): each
/// is answered only once its own journal entry is committed, every one of them is in the
/// chain exactly once, and the chain stays whole.
#[tokio::test(flavor = "multi_thread")]
async fn concurrent_deposits_downloads_and_reviews_share_commits_and_one_chain() {
    for t in TestApp::all().await {
        let tenant = t.tenant("groupe").await;
        let citizen = t.account("groupe", "lea", "citizen", &[]).await;
        let agent = t
            .account("groupe", "ccas", "agent", &[("social", "modify")])
            .await;
        let (s, grant) = t
            .send(
                reqwest::Method::POST,
                &citizen,
                "/api/v1/grants",
                Some(serde_json::json!({ "domain": "social",
                    "types": ["attestation-quotient-familial-caf"],
                    "purpose": "Tarif de la cantine", "until": "2026-03-01" })),
            )
            .await;
        assert_eq!(s, 201, "{grant}");
        let (s, doc) = t
            .upload(
                &citizen,
                &[("type", "attestation-quotient-familial-caf")],
                "caf.pdf",
                samples::minimal_pdf(),
            )
            .await;
        assert_eq!(s, 201, "{doc}");
        let id = doc["id"].as_str().unwrap().to_string();
        let reads_before = count(&t.app.db, &tenant, "document.read").await;
        let deposits_before = count(&t.app.db, &tenant, "document.deposit").await;
        let reviews_before = count(&t.app.db, &tenant, "document.review").await;

        const EACH: usize = 12;
        let t = std::sync::Arc::new(t);
        let mut tasks = Vec::new();
        for i in 0..3 * EACH {
            let (t, citizen, agent, id) = (t.clone(), citizen.clone(), agent.clone(), id.clone());
            tasks.push(tokio::spawn(async move {
                match i % 3 {
                    0 => {
                        let (s, body) = t
                            .upload(
                                &citizen,
                                &[("type", "attestation-quotient-familial-caf")],
                                &format!("caf-{i}.pdf"),
                                samples::minimal_pdf(),
                            )
                            .await;
                        assert_eq!(s, 201, "deposit {i}: {body}");
                    }
                    1 => {
                        let r = t
                            .http
                            .get(t.url(&format!("/api/v1/documents/{id}/content")))
                            .bearer_auth(&citizen)
                            .send()
                            .await
                            .unwrap();
                        assert_eq!(r.status(), 200, "download {i}");
                        let body = r.bytes().await.unwrap();
                        assert_eq!(&body[..], &samples::minimal_pdf()[..], "download {i}");
                    }
                    _ => {
                        let (s, body) = t
                            .send(
                                reqwest::Method::POST,
                                &agent,
                                &format!("/api/v1/documents/{id}/review"),
                                Some(serde_json::json!({ "decision": "validated" })),
                            )
                            .await;
                        assert_eq!(s, 200, "review {i}: {body}");
                    }
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(
            count(&t.app.db, &tenant, "document.read").await,
            reads_before + EACH
        );
        assert_eq!(
            count(&t.app.db, &tenant, "document.deposit").await,
            deposits_before + EACH
        );
        assert_eq!(
            count(&t.app.db, &tenant, "document.review").await,
            reviews_before + EACH
        );
        let report = verify::run(&t.app, false).await.unwrap();
        assert!(report.is_clean(), "{:?}: {report:?}", t.backend);
        let page = liasse_store::journal::page(&t.app.db, &tenant, 0, 10_000)
            .await
            .unwrap();
        let seqs: Vec<i64> = page.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
        let (_, listed) = t.get_json(&citizen, "/api/v1/documents").await;
        assert_eq!(listed.as_array().map(Vec::len), Some(EACH + 1));
    }
}

/// Every column of a journal entry is covered by its hash.
const JOURNAL_COLUMNS: &[&str] = &[
    "at",
    "actor_kind",
    "actor_id",
    "actor_label",
    "actor_service",
    "action",
    "object_kind",
    "object_id",
    "citizen_id",
    "basis_kind",
    "basis_id",
    "details",
    "prev_hash",
    "hash",
];

#[tokio::test(flavor = "multi_thread")]
async fn verify_reports_tampered_journal_and_blobs() {
    for t in TestApp::all().await {
        let (_token, doc_id) = citizen_with_document(&t, "tamper").await;
        let clean = liasse(&t, &["verify"], None);
        assert!(clean.status.success(), "{}", text(&clean));

        let tenant = liasse_store::tenants::by_slug(&t.app.db, "tamper")
            .await
            .unwrap()
            .unwrap()
            .id;
        // The deposit's entry: a citizen entry with details.
        let target = 3;
        for column in JOURNAL_COLUMNS {
            let tampered = if *column == "at" {
                format!("UPDATE journal SET at = at + 1 WHERE tenant_id = $1 AND seq = {target}")
            } else if *column == "details" {
                format!(
                    "UPDATE journal SET details = '{{\"forged\":true}}' WHERE tenant_id = $1 AND seq = {target}"
                )
            } else {
                format!(
                    "UPDATE journal SET {column} = COALESCE({column}, '') || 'x' WHERE tenant_id = $1 AND seq = {target}"
                )
            };
            let before = liasse_store::journal::page(&t.app.db, &tenant, target - 1, 1)
                .await
                .unwrap();
            sqlx::query(&tampered)
                .bind(&tenant)
                .execute(t.app.db.pool())
                .await
                .unwrap();
            let report = verify::run(&t.app, false).await.unwrap();
            assert!(
                !report.journal_faults.is_empty(),
                "{column} tampering not detected on {:?}",
                t.backend
            );
            if *column == "actor_label" {
                let out = liasse(&t, &["verify"], None);
                assert!(!out.status.success(), "verify must fail: {}", text(&out));
                assert!(text(&out).contains("journal faults"), "{}", text(&out));
            }
            // Put the original row back.
            let e = &before[0];
            sqlx::query(
                "UPDATE journal SET at = $1, actor_kind = $2, actor_id = $3, actor_label = $4, actor_service = $5, action = $6, \
                 object_kind = $7, object_id = $8, citizen_id = $9, basis_kind = $10, basis_id = $11, details = $12, \
                 prev_hash = $13, hash = $14 WHERE tenant_id = $15 AND seq = $16",
            )
            .bind(e.at)
            .bind(&e.entry.actor.kind)
            .bind(&e.entry.actor.id)
            .bind(&e.entry.actor.label)
            .bind(&e.entry.actor.service)
            .bind(&e.entry.action)
            .bind(&e.entry.object_kind)
            .bind(&e.entry.object_id)
            .bind(e.entry.citizen_id.as_deref())
            .bind(&e.entry.basis_kind)
            .bind(&e.entry.basis_id)
            .bind(e.entry.details.to_string())
            .bind(&e.prev_hash)
            .bind(&e.hash)
            .bind(&tenant)
            .bind(target)
            .execute(t.app.db.pool())
            .await
            .unwrap();
            assert!(
                verify::run(&t.app, false).await.unwrap().is_clean(),
                "restoring {column}"
            );
        }

        // A removed last entry is detected through the chain head.
        let last = liasse_store::journal::head(&t.app.db, &tenant)
            .await
            .unwrap()
            .unwrap()
            .0;
        let saved = liasse_store::journal::page(&t.app.db, &tenant, last - 1, 1)
            .await
            .unwrap();
        sqlx::query("DELETE FROM journal WHERE tenant_id = $1 AND seq = $2")
            .bind(&tenant)
            .bind(last)
            .execute(t.app.db.pool())
            .await
            .unwrap();
        assert!(
            !verify::run(&t.app, false)
                .await
                .unwrap()
                .journal_faults
                .is_empty()
        );
        let mut tx = t.app.db.begin_write().await.unwrap();
        sqlx::query("UPDATE journal_heads SET seq = seq - 1, hash = $1 WHERE tenant_id = $2")
            .bind(&saved[0].prev_hash)
            .bind(&tenant)
            .execute(tx.conn())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut tx = t.app.db.begin_write().await.unwrap();
        liasse_store::journal::append(&mut tx, &tenant, saved[0].at, &saved[0].entry)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert!(
            verify::run(&t.app, false)
                .await
                .unwrap()
                .journal_faults
                .is_empty()
        );

        // A flipped byte in the stored blob.
        let versions = liasse_store::documents::versions(&t.app.db, &tenant, &doc_id)
            .await
            .unwrap();
        let key = versions[0].blob_key.clone();
        let original = t.app.blobs.get_all(&key).await.unwrap();
        let mut bad = original.to_vec();
        let mid = bad.len() / 2;
        bad[mid] ^= 0x01;
        t.app.blobs.put(&key, bad.into()).await.unwrap();
        let report = verify::run(&t.app, false).await.unwrap();
        assert_eq!(report.corrupt_blobs.len(), 1, "{report:?}");
        let out = liasse(&t, &["verify"], None);
        assert!(!out.status.success());
        assert!(text(&out).contains("corrupt blobs: 1"), "{}", text(&out));

        // A missing blob and an orphan blob.
        t.app.blobs.delete(&key).await.unwrap();
        t.app
            .blobs
            .put("stray/object", bytes::Bytes::from_static(b"orphan"))
            .await
            .unwrap();
        let report = verify::run(&t.app, false).await.unwrap();
        assert_eq!(report.missing_blobs.len(), 1, "{report:?}");
        assert_eq!(report.orphan_blobs, vec!["stray/object".to_string()]);
        // --repair removes the orphan and nothing else.
        let out = liasse(&t, &["verify", "--repair", "--min-age", "0"], None);
        assert!(
            text(&out).contains("orphan blobs removed: 1"),
            "{}",
            text(&out)
        );
        assert!(!t.app.blobs.exists("stray/object").await.unwrap());
        t.app.blobs.put(&key, original).await.unwrap();
        let out = liasse(&t, &["verify"], None);
        assert!(out.status.success(), "{}", text(&out));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn key_rotation_rewraps_every_key_and_resumes() {
    for t in TestApp::all().await {
        t.tenant("rot").await;
        let token = t.account("rot", "bob", "citizen", &[]).await;
        let mut docs = Vec::new();
        for i in 0..5u8 {
            let png = samples::small_png(8 + u32::from(i), 8);
            let (status, body) = t
                .upload(
                    &token,
                    &[("type", "photo-identite")],
                    "photo.png",
                    png.clone(),
                )
                .await;
            assert_eq!(status, 201, "{body}");
            docs.push((body["id"].as_str().unwrap().to_string(), png));
        }
        let ring_before = t.app.keys.ring().unwrap().current_id();
        // An interrupted rotation: one batch of two keys, then "crash".
        let partial = rotate::rotate(&t.app, 2, Some(1)).await.unwrap();
        assert!(!partial.resumed);
        assert_eq!(partial.rewrapped, 2);
        assert_eq!(partial.remaining, 3);
        assert_ne!(partial.current_key, ring_before);
        // Documents stay readable mid-rotation.
        for (id, png) in &docs {
            let got = t
                .get(&token, &format!("/api/v1/documents/{id}/content"))
                .await
                .bytes()
                .await
                .unwrap();
            assert_eq!(&got[..], &png[..]);
        }
        // Running the command again resumes with the same key instead of making another.
        let out = liasse(&t, &["keys", "rotate"], None);
        assert!(out.status.success(), "{}", text(&out));
        assert!(
            text(&out).contains(&format!("resumed rotation to key {}", partial.current_key)),
            "{}",
            text(&out)
        );
        assert_eq!(
            liasse_store::documents::count_not_wrapped_with(&t.app.db, &partial.current_key)
                .await
                .unwrap(),
            0
        );
        // The old key is no longer needed: retire it and read everything back.
        let out = liasse(&t, &["keys", "retire", &ring_before], None);
        assert!(out.status.success(), "{}", text(&out));
        assert!(!t.app.keys.ring().unwrap().ids().contains(&ring_before));
        for (id, png) in &docs {
            let got = t
                .get(&token, &format!("/api/v1/documents/{id}/content"))
                .await
                .bytes()
                .await
                .unwrap();
            assert_eq!(&got[..], &png[..]);
        }
        assert!(verify::run(&t.app, false).await.unwrap().is_clean());
        // A new rotation starts fresh once everything is re-wrapped.
        let again = rotate::rotate(&t.app, 100, None).await.unwrap();
        assert!(!again.resumed);
        assert_eq!(again.rewrapped, 5);
    }
}

const MARKER: &str = "LIASSEMARKER7f3a9c";

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn scan_dir(dir: &std::path::Path, needles: &[Vec<u8>], hits: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            scan_dir(&path, needles, hits);
        } else if let Ok(bytes) = std::fs::read(&path)
            && needles.iter().any(|n| contains(&bytes, n))
        {
            hits.push(path.display().to_string());
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn content_and_confidential_metadata_are_encrypted_at_rest() {
    for t in TestApp::all().await {
        t.tenant("marker").await;
        let token = t.account("marker", "chloe", "citizen", &[]).await;
        let pdf = samples::pdf_with_text(MARKER);
        assert!(
            contains(&pdf, MARKER.as_bytes()),
            "the sample must carry the marker in clear"
        );
        let title = format!("Titre {MARKER}");
        let (status, body) = t
            .upload(
                &token,
                &[
                    ("type", "justificatif-domicile"),
                    ("title", &title),
                    ("metadata", &format!("{{\"note\":\"{MARKER}\"}}")),
                ],
                &format!("{MARKER}.pdf"),
                pdf,
            )
            .await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["title"], title.as_str());
        let needles = vec![
            MARKER.as_bytes().to_vec(),
            hex_of(MARKER).into_bytes(),
            hex_of(MARKER).to_uppercase().into_bytes(),
        ];
        // Checkpoint so that SQLite's WAL content is in the main file too (both are scanned).
        let mut hits = Vec::new();
        scan_dir(&t.data_dir(), &needles, &mut hits);
        assert!(hits.is_empty(), "marker found in {hits:?}");
        if t.backend == Backend::Servers {
            for table in [
                "tenants",
                "journal",
                "journal_heads",
                "accounts",
                "account_rights",
                "api_tokens",
                "sessions",
                "household_members",
                "document_types",
                "documents",
                "document_versions",
            ] {
                let rows = sqlx::query(&format!(
                    "SELECT CAST(row_to_json(t) AS TEXT) AS j FROM {table} t"
                ))
                .fetch_all(t.app.db.pool())
                .await
                .unwrap();
                for r in rows {
                    let j: String = sqlx::Row::try_get(&r, "j").unwrap();
                    assert!(
                        !needles.iter().any(|n| contains(j.as_bytes(), n)),
                        "marker in table {table}"
                    );
                }
            }
        }
        let keys: Vec<String> = t.app.blobs.list().try_collect().await.unwrap();
        assert!(!keys.is_empty());
        for k in keys {
            assert!(!contains(k.as_bytes(), MARKER.as_bytes()));
            let bytes = t.app.blobs.get_all(&k).await.unwrap();
            assert!(
                !needles.iter().any(|n| contains(&bytes, n)),
                "marker in blob {k}"
            );
        }
        // And the owner still reads it back.
        let id = body["id"].as_str().unwrap();
        let got = t
            .get(&token, &format!("/api/v1/documents/{id}/content"))
            .await
            .bytes()
            .await
            .unwrap();
        assert!(contains(&got, MARKER.as_bytes()));
    }
}

fn hex_of(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn commands_create_tenant_user_and_token() {
    let t = TestApp::embedded().await;
    let out = liasse(
        &t,
        &[
            "tenant",
            "create",
            "ville-test",
            "--name",
            "Ville de Test",
            "--with-catalogue",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    let again = liasse(
        &t,
        &["tenant", "create", "ville-test", "--name", "Ville de Test"],
        None,
    );
    assert!(!again.status.success());
    let out = liasse(
        &t,
        &[
            "user",
            "create",
            "--tenant",
            "ville-test",
            "--login",
            "agent1",
            "--role",
            "agent",
            "--right",
            "scolaire=modify",
            "--password-stdin",
        ],
        Some("un mot de passe solide\n"),
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = liasse(
        &t,
        &[
            "token",
            "create",
            "--tenant",
            "ville-test",
            "--login",
            "agent1",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(token.starts_with("lss_"));
    let (status, types) = t.get_json(&token, "/api/v1/document-types").await;
    assert_eq!(status, 200);
    assert!(types.as_array().unwrap().len() >= 20);
    // The token is stored only as a hash.
    let rows = sqlx::query("SELECT token_hash FROM api_tokens")
        .fetch_all(t.app.db.pool())
        .await
        .unwrap();
    for r in rows {
        let h: String = sqlx::Row::try_get(&r, "token_hash").unwrap();
        assert_ne!(h, token);
    }
    let out = liasse(&t, &["check-config"], None);
    assert!(out.status.success());
    assert!(text(&out).contains("database_url"), "{}", text(&out));
}

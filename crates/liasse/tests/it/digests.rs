//! Issue 22, point 7: the database keeps a keyed digest of each version's plaintext, never
//! its plain SHA-256 (which would let whoever holds a dump test whether a citizen holds a
//! known file); `verify` still checks every blob; rows written the old way are converted.

use std::process::{Command, Stdio};

use liasse_app::verify;
use liasse_inspect::samples;
use liasse_testkit::TestApp;
use sha2::{Digest, Sha256};
use sqlx::Row;

fn plain_sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

async fn stored(t: &TestApp, document_id: &str) -> String {
    sqlx::query("SELECT sha256 FROM document_versions WHERE document_id = $1")
        .bind(document_id)
        .fetch_one(t.app.db.pool())
        .await
        .unwrap()
        .try_get("sha256")
        .unwrap()
}

async fn set_stored(t: &TestApp, document_id: &str, value: &str) {
    sqlx::query("UPDATE document_versions SET sha256 = $1 WHERE document_id = $2")
        .bind(value)
        .bind(document_id)
        .execute(t.app.db.pool())
        .await
        .unwrap();
}

async fn deposit(t: &TestApp, token: &str, bytes: Vec<u8>) -> String {
    let (status, body) = t
        .upload(token, &[("type", "justificatif-domicile")], "f.pdf", bytes)
        .await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn stored_fingerprints_are_keyed_per_version_and_verify_still_checks_them() {
    for t in TestApp::all().await {
        let nord = t.tenant("nord").await;
        t.tenant("sud").await;
        let alice = t.account("nord", "alice", "citizen", &[]).await;
        let bob = t.account("sud", "bob", "citizen", &[]).await;
        let file = samples::pdf_with_text("Avis d'imposition 2025");
        let plain = plain_sha256(&file);
        let a = deposit(&t, &alice, file.clone()).await;
        let b = deposit(&t, &bob, file.clone()).await;
        let again = deposit(&t, &alice, file.clone()).await;

        let (sa, sb, sa2) = (
            stored(&t, &a).await,
            stored(&t, &b).await,
            stored(&t, &again).await,
        );
        for s in [&sa, &sb, &sa2] {
            assert!(s.starts_with("hmac-sha256:"), "{s}");
            assert!(!s.contains(&plain), "the plain SHA-256 is in the database");
        }
        // Two tenants (and even two deposits of one citizen) give different values for the
        // same file: a dump does not tell who holds the same file as whom.
        assert_ne!(sa, sb);
        assert_ne!(sa, sa2);

        // The API gives the keyed value, never the plain one.
        let (status, doc) = t.get_json(&alice, &format!("/api/v1/documents/{a}")).await;
        assert_eq!(status, 200);
        assert_eq!(doc["digest"], sa.as_str());
        assert!(!doc.to_string().contains(&plain), "{doc}");

        let report = verify::run(&t.app, false).await.unwrap();
        assert!(report.is_clean(), "{report:?}");
        assert_eq!(report.versions_checked, 3);

        // A recorded digest that no longer matches the content is found...
        set_stored(&t, &again, &format!("hmac-sha256:{}", "0".repeat(64))).await;
        let report = verify::run(&t.app, false).await.unwrap();
        assert_eq!(report.corrupt_blobs.len(), 1, "{report:?}");
        assert!(
            report.corrupt_blobs[0].contains("fingerprint differs"),
            "{report:?}"
        );
        set_stored(&t, &again, &sa2).await;
        assert!(verify::run(&t.app, false).await.unwrap().is_clean());

        // ... and so is a tampered blob.
        let v = liasse_store::documents::versions(&t.app.db, &nord, &a)
            .await
            .unwrap();
        let key = v[0].blob_key.clone();
        let good = t.app.blobs.get_all(&key).await.unwrap();
        let mut bad = good.to_vec();
        let mid = bad.len() / 2;
        bad[mid] ^= 0x01;
        t.app.blobs.put(&key, bad.into()).await.unwrap();
        let report = verify::run(&t.app, false).await.unwrap();
        assert_eq!(report.corrupt_blobs.len(), 1, "{report:?}");
        t.app.blobs.put(&key, good).await.unwrap();
        assert!(verify::run(&t.app, false).await.unwrap().is_clean());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn rows_with_a_plain_sha256_are_converted_by_migrate_and_verify() {
    for t in TestApp::all().await {
        t.tenant("ancien").await;
        let alice = t.account("ancien", "alice", "citizen", &[]).await;
        let kept = samples::pdf_with_text("Quittance de loyer");
        let gone = samples::pdf_with_text("Ancienne quittance");
        let id = deposit(&t, &alice, kept.clone()).await;
        let deleted = deposit(&t, &alice, gone.clone()).await;
        let keyed = stored(&t, &id).await;
        assert_eq!(
            t.delete(&alice, &format!("/api/v1/documents/{deleted}"))
                .await
                .status(),
            204
        );
        // Written the way older releases did: the plain SHA-256, for a live version and for
        // the destroyed version of a deleted document.
        set_stored(&t, &id, &plain_sha256(&kept)).await;
        set_stored(&t, &deleted, &plain_sha256(&gone)).await;

        let o = Command::new(env!("CARGO_BIN_EXE_liasse"))
            .arg("migrate")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "warn")
            .envs(t.cli_env())
            .current_dir(t.data_dir())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        // The same keyed value as a new deposit gets; the destroyed version keeps nothing.
        assert_eq!(stored(&t, &id).await, keyed);
        assert_eq!(stored(&t, &deleted).await, "");
        let report = verify::run(&t.app, false).await.unwrap();
        assert!(report.is_clean(), "{report:?}");
        assert_eq!(report.versions_checked, 1);
        // Converting again finds nothing to do.
        assert_eq!(verify::convert_legacy_digests(&t.app).await.unwrap(), 0);

        // A start-up converts as well (the server's own path).
        set_stored(&t, &id, &plain_sha256(&kept)).await;
        assert_eq!(verify::convert_legacy_digests(&t.app).await.unwrap(), 1);
        assert_eq!(stored(&t, &id).await, keyed);
        let (status, doc) = t.get_json(&alice, &format!("/api/v1/documents/{id}")).await;
        assert_eq!(status, 200);
        assert_eq!(doc["digest"], keyed.as_str());
    }
}

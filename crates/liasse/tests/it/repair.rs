//! `liasse verify --repair` removes orphans and nothing else: not a row, not a journal entry,
//! not a referenced blob, even a corrupt one, and not a young unreferenced blob, which may
//! belong to an upload whose row is about to commit (`--min-age`, one hour by default).

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

use liasse_inspect::samples;
use liasse_store::{BlobStore, documents, journal};
use liasse_testkit::{Backend, TestApp};
use serde_json::Value;

use crate::cli::{liasse, text};

/// Every row the repair must leave alone, as text.
async fn rows(t: &TestApp, tenant: &str, ids: &[String]) -> String {
    let mut out = String::new();
    for id in ids {
        let d = documents::get(&t.app.db, tenant, id).await.unwrap();
        out.push_str(&format!("{d:?}\n"));
        for v in documents::versions(&t.app.db, tenant, id).await.unwrap() {
            out.push_str(&format!("{v:?}\n"));
        }
    }
    let head = journal::head(&t.app.db, tenant).await.unwrap();
    let count = journal::count(&t.app.db, tenant).await.unwrap();
    out.push_str(&format!("journal {count} {head:?}\n"));
    out
}

async fn blob_names(t: &TestApp) -> BTreeSet<String> {
    use futures::TryStreamExt;
    t.app.blobs.list().try_collect().await.unwrap()
}

fn json_list(report: &Value, field: &str) -> BTreeSet<String> {
    report[field]
        .as_array()
        .unwrap_or_else(|| panic!("{field} in {report}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

fn verify_json(t: &TestApp, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["verify", "--json"];
    all.extend_from_slice(args);
    let out = liasse(t, &all, None);
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("verify --json ({e}): {}", text(&out)));
    (out.status.code().unwrap_or(-1), report)
}

fn age(path: &std::path::Path, secs: u64) {
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(SystemTime::now() - Duration::from_secs(secs))
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_repair_removes_orphans_and_nothing_else() {
    for t in TestApp::all().await {
        let backend = t.backend;
        let tenant = t.tenant("repair").await;
        let token = t.account("repair", "ana", "citizen", &[]).await;
        let mut ids = Vec::new();
        let mut originals = Vec::new();
        for name in ["kept", "corrupt", "missing", "deleted"] {
            let pdf = samples::pdf_with_text(name);
            let (status, body) = t
                .upload(
                    &token,
                    &[("type", "rib"), ("title", name)],
                    "rib.pdf",
                    pdf.clone(),
                )
                .await;
            assert_eq!(status, 201, "{body}");
            ids.push(body["id"].as_str().unwrap().to_string());
            originals.push(pdf);
        }
        let (status, body) = t
            .replace(&token, &ids[0], "v2.pdf", samples::pdf_with_text("kept v2"))
            .await;
        assert_eq!(status, 200, "{body}");
        let mut keys = Vec::new();
        for id in &ids[1..] {
            let versions = documents::versions(&t.app.db, &tenant, id).await.unwrap();
            keys.push(versions.last().unwrap().blob_key.clone());
        }
        let (corrupt_key, missing_key, deleted_key) =
            (keys[0].clone(), keys[1].clone(), keys[2].clone());
        // A deleted document whose blob removal failed: its key is destroyed, the blob is noise.
        let deleted_blob = t.app.blobs.get_all(&deleted_key).await.unwrap();
        assert_eq!(
            t.delete(&token, &format!("/api/v1/documents/{}", ids[3]))
                .await
                .status(),
            204
        );
        t.app.blobs.put(&deleted_key, deleted_blob).await.unwrap();
        // A flipped byte, a lost blob, and a stray object nothing refers to.
        let good = t.app.blobs.get_all(&corrupt_key).await.unwrap();
        let mut bad = good.to_vec();
        bad[40] ^= 0x20;
        t.app
            .blobs
            .put(&corrupt_key, bad.clone().into())
            .await
            .unwrap();
        let lost = t.app.blobs.get_all(&missing_key).await.unwrap();
        t.app.blobs.delete(&missing_key).await.unwrap();
        let stray = BlobStore::key(&tenant, "stray-object");
        t.app
            .blobs
            .put(&stray, bytes::Bytes::from_static(b"orphan"))
            .await
            .unwrap();
        // On a local directory: a partial write left by a crash, and one in progress.
        let blob_dir = t.data_dir().join("blobs");
        let (old_partial, new_partial) = (
            format!("{tenant}/interrupted#1"),
            format!("{tenant}/in-progress#1"),
        );
        if backend == Backend::Embedded {
            std::fs::write(blob_dir.join(&old_partial), b"half a blob").unwrap();
            std::fs::write(blob_dir.join(&new_partial), b"half a blob").unwrap();
            age(&blob_dir.join(&old_partial), 2 * 3600);
            // The stray object is old too; the deleted document's leftover is young.
            age(&blob_dir.join(&stray), 2 * 3600);
        }
        let before_rows = rows(&t, &tenant, &ids).await;

        // Default minimum age: only what is older than an hour goes (local directory, where
        // the test can age files); young orphans are listed apart and stay.
        let (code, report) = verify_json(&t, &["--repair"]);
        assert_eq!(
            code, 2,
            "{backend:?}: corrupt and missing blobs are faults: {report}"
        );
        let recent = json_list(&report, "recent_unreferenced");
        let removed = json_list(&report, "removed_orphans");
        assert!(recent.contains(&deleted_key), "{backend:?}: {report}");
        if backend == Backend::Embedded {
            assert_eq!(
                removed,
                BTreeSet::from([stray.clone(), old_partial.clone()]),
                "{report}"
            );
            assert!(recent.contains(&new_partial), "{report}");
            assert!(!blob_dir.join(&old_partial).exists());
            assert!(blob_dir.join(&new_partial).exists());
        } else {
            assert!(removed.is_empty(), "{backend:?}: {report}");
            assert!(recent.contains(&stray), "{backend:?}: {report}");
        }
        assert!(t.app.blobs.exists(&deleted_key).await.unwrap());

        // No minimum age (nothing is uploading): every orphan goes, nothing else.
        let (code, report) = verify_json(&t, &["--repair", "--min-age", "0"]);
        assert_eq!(code, 2, "{backend:?}: {report}");
        let mut expected = BTreeSet::from([deleted_key.clone()]);
        if backend == Backend::Embedded {
            expected.insert(new_partial.clone());
        } else {
            expected.insert(stray.clone());
        }
        assert_eq!(
            json_list(&report, "removed_orphans"),
            expected,
            "{backend:?}"
        );
        assert_eq!(json_list(&report, "orphan_blobs"), BTreeSet::new());
        assert_eq!(json_list(&report, "recent_unreferenced"), BTreeSet::new());
        assert_eq!(
            report["missing_blobs"].as_array().unwrap().len(),
            1,
            "{backend:?}: {report}"
        );
        assert_eq!(
            report["corrupt_blobs"].as_array().unwrap().len(),
            1,
            "{backend:?}: {report}"
        );
        // The corrupt blob is still there, untouched; so is every row and journal entry.
        assert_eq!(
            &t.app.blobs.get_all(&corrupt_key).await.unwrap()[..],
            &bad[..]
        );
        assert_eq!(rows(&t, &tenant, &ids).await, before_rows, "{backend:?}");
        let names = blob_names(&t).await;
        assert!(!names.contains(&stray) && !names.contains(&deleted_key));
        // 1 (v1 of kept) + 1 (v2 of kept) + corrupt; the missing one stays missing.
        assert_eq!(names.len(), 3, "{backend:?}: {names:?}");
        if backend == Backend::Embedded {
            let partial: Vec<_> = crate::crash::files_under(&blob_dir)
                .into_iter()
                .filter(|p| p.to_string_lossy().contains('#'))
                .collect();
            assert!(partial.is_empty(), "{partial:?}");
        }

        // A second repair has nothing to do; with the blobs restored, verify is clean.
        let (_, report) = verify_json(&t, &["--repair", "--min-age", "0"]);
        assert_eq!(json_list(&report, "removed_orphans"), BTreeSet::new());
        t.app.blobs.put(&corrupt_key, good).await.unwrap();
        t.app.blobs.put(&missing_key, lost).await.unwrap();
        let (code, report) = verify_json(&t, &["--min-age", "0"]);
        assert_eq!(code, 0, "{backend:?}: {report}");
        for (i, pdf) in originals.iter().enumerate().take(3).skip(1) {
            let got = t
                .get(&token, &format!("/api/v1/documents/{}/content", ids[i]))
                .await
                .bytes()
                .await
                .unwrap();
            assert_eq!(&got[..], &pdf[..], "{backend:?}");
        }
        assert_eq!(
            rows(&t, &tenant, &ids).await.lines().count(),
            before_rows.lines().count()
        );
    }
}

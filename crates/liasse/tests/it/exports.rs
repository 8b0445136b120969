//! Issue 22, point 6: the export is streamed without a clear spool on the data disk, a
//! failure midway is a failed download (never a truncated archive that looks whole), and one
//! account runs one export at a time.

use std::collections::BTreeSet;
use std::io::{Cursor, Read};
use std::path::Path;

use liasse_inspect::samples::{self, Filler};
use liasse_testkit::TestApp;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Every file under `dir`, but SQLite's own side files (its WAL changes with every write).
fn files_under(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let path = e.path();
            if e.file_type().unwrap().is_dir() {
                todo.push(path);
            } else {
                let name = path.display().to_string();
                if !(name.ends_with("-wal") || name.ends_with("-shm") || name.ends_with("-journal"))
                {
                    out.insert(name);
                }
            }
        }
    }
    out
}

/// Files this process holds open under `dir`: an unnamed spool file (`O_TMPFILE`, or created
/// and unlinked at once) has no directory entry but still shows here, as `dir/#123 (deleted)`.
fn open_files_under(dir: &Path) -> Vec<String> {
    let dir = dir.canonicalize().unwrap();
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|target| target.starts_with(&dir))
        .map(|target| target.display().to_string())
        .collect()
}

/// Large enough that the archive cannot fit in the socket and body buffers between a client
/// that stopped reading and the server: the server has to wait for it.
fn big_pdf(seed: usize) -> Vec<u8> {
    let mut pdf = samples::pdf_with_large_stream(9 * 1024 * 1024, Filler::Binary, "");
    // Distinct files, so that each one is checked against its own upload.
    pdf.extend_from_slice(format!("\n% {seed}\n").as_bytes());
    pdf
}

async fn upload(t: &TestApp, token: &str, bytes: Vec<u8>) -> String {
    let (status, body) = t
        .upload(token, &[("type", "justificatif-domicile")], "f.pdf", bytes)
        .await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn export_streams_without_a_spool_and_one_at_a_time() {
    let t = TestApp::embedded().await;
    t.tenant("flux").await;
    let alice = t.account("flux", "alice", "citizen", &[]).await;
    let bob = t.account("flux", "bob", "citizen", &[]).await;
    let mut originals = Vec::new();
    for i in 0..4 {
        let bytes = big_pdf(i);
        let id = upload(&t, &alice, bytes.clone()).await;
        originals.push((id, bytes));
    }
    let before = files_under(&t.data_dir());
    // The check below sees an unnamed file, such as the spool the export used to write.
    let probe = tempfile::tempfile_in(&t.app.spool_dir).unwrap();
    assert_eq!(open_files_under(&t.app.spool_dir).len(), 1);
    drop(probe);

    // The first export starts; its client reads one chunk and pauses.
    let mut first = t.get(&alice, "/api/v1/export").await;
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["content-type"], "application/zip");
    assert!(first.headers().get("content-length").is_none());
    let mut received = first.chunk().await.unwrap().unwrap().to_vec();
    assert!(!received.is_empty());

    // Meanwhile nothing was written to the data directory: no spool, no temporary file.
    assert_eq!(
        std::fs::read_dir(&t.app.spool_dir).unwrap().count(),
        0,
        "a file in the spool directory during an export"
    );
    assert_eq!(files_under(&t.data_dir()), before);
    let spool_files = open_files_under(&t.app.spool_dir);
    assert!(
        spool_files.is_empty(),
        "an export holds spool files: {spool_files:?}"
    );

    // A second export of the same account is refused while the first one runs...
    let r = t.get(&alice, "/api/v1/export").await;
    assert_eq!(r.status(), 409);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let problem: Value = r.json().await.unwrap();
    assert_eq!(
        problem["type"],
        "https://liasse.fr/problems/export-in-progress"
    );
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("déjà en cours"),
        "{problem}"
    );
    // ... and so is the citizen's page export; another account is served meanwhile.
    let r = t.get(&bob, "/api/v1/export").await;
    assert_eq!(r.status(), 200);
    assert!(zip::ZipArchive::new(Cursor::new(r.bytes().await.unwrap().to_vec())).is_ok());

    // The first download goes on to the end: a complete, readable archive.
    while let Some(chunk) = first.chunk().await.unwrap() {
        received.extend_from_slice(&chunk);
    }
    let mut archive = zip::ZipArchive::new(Cursor::new(received)).unwrap();
    let mut manifest = String::new();
    archive
        .by_name("manifest.json")
        .unwrap()
        .read_to_string(&mut manifest)
        .unwrap();
    let manifest: Value = serde_json::from_str(&manifest).unwrap();
    let docs = manifest["documents"].as_array().unwrap();
    assert_eq!(docs.len(), originals.len());
    for (id, bytes) in &originals {
        let d = docs.iter().find(|d| d["id"] == id.as_str()).unwrap();
        let path = d["path"].as_str().unwrap();
        let mut entry = Vec::new();
        archive
            .by_name(path)
            .unwrap()
            .read_to_end(&mut entry)
            .unwrap();
        assert!(entry == *bytes, "{path} differs from the upload");
        assert_eq!(
            d["versions"][0]["sha256"],
            hex::encode(Sha256::digest(bytes))
        );
    }
    for name in ["journal.json", "journal.csv"] {
        assert!(archive.by_name(name).is_ok(), "{name}");
    }

    // Once it is done, a new export is served.
    let r = t.get(&alice, "/api/v1/export").await;
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap().to_vec();
    assert_eq!(
        zip::ZipArchive::new(Cursor::new(bytes)).unwrap().len(),
        originals.len() + 3
    );
    assert_eq!(files_under(&t.data_dir()), before);

    // Both exports are journalled.
    let (_, journal) = t.get_json(&alice, "/api/v1/journal").await;
    let exports = journal
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "account.export")
        .count();
    assert_eq!(exports, 2, "{journal:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn twelve_parallel_exports_get_one_turn_released_when_the_client_goes() {
    let t = TestApp::embedded().await;
    t.tenant("page").await;
    let alice = t.account("page", "alice", "citizen", &[]).await;
    for i in 0..4 {
        upload(&t, &alice, big_pdf(i)).await;
    }
    // Twelve at once (the probe): one is served, eleven are told to wait.
    let attempts =
        futures::future::join_all((0..12).map(|_| t.get(&alice, "/api/v1/export"))).await;
    let (mut served, refused): (Vec<_>, Vec<_>) =
        attempts.into_iter().partition(|r| r.status() == 200);
    assert_eq!(served.len(), 1);
    assert!(refused.iter().all(|r| r.status() == 409));
    let mut running = served.pop().unwrap();
    running.chunk().await.unwrap().unwrap();
    // The service refuses whoever asks for the same account, page or API.
    let p = liasse_app::auth::principal_for_login(&t.app, "page", "alice")
        .await
        .unwrap();
    let refused = liasse_export::download(&t.app, &p, liasse_export::Via::Api).await;
    assert!(
        matches!(&refused, Err(liasse_app::error::AppError::Conflict(m)) if m.contains("déjà en cours")),
        "{:?}",
        refused.err()
    );
    // A client that goes away ends its export and frees the turn.
    drop(running);
    let mut served = None;
    for _ in 0..200 {
        let r = t.get(&alice, "/api/v1/export").await;
        if r.status() == 200 {
            served = Some(r);
            break;
        }
        assert_eq!(r.status(), 409);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let served = served.expect("the turn of a dropped download is released");
    assert!(zip::ZipArchive::new(Cursor::new(served.bytes().await.unwrap().to_vec())).is_ok());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failure_midway_is_a_failed_download_not_a_truncated_archive() {
    let t = TestApp::embedded().await;
    t.tenant("coupe").await;
    let alice = t.account("coupe", "alice", "citizen", &[]).await;
    let id = upload(&t, &alice, big_pdf(0)).await;
    // The recorded digest no longer matches: found once the document's bytes have left.
    sqlx::query("UPDATE document_versions SET sha256 = $1 WHERE document_id = $2")
        .bind(format!("hmac-sha256:{}", "0".repeat(64)))
        .bind(&id)
        .execute(t.app.db.pool())
        .await
        .unwrap();
    let r = t.get(&alice, "/api/v1/export").await;
    assert_eq!(r.status(), 200, "the failure comes after the first bytes");
    let body = r.bytes().await;
    match body {
        Err(_) => {}
        Ok(bytes) => {
            panic!(
                "a failed export was delivered as a whole body ({} bytes, readable as ZIP: {})",
                bytes.len(),
                zip::ZipArchive::new(Cursor::new(bytes.to_vec())).is_ok()
            )
        }
    }
    // What left was journalled; the turn is free again (the next attempt fails the same way,
    // it is not refused as busy).
    let (_, journal) = t.get_json(&alice, "/api/v1/journal").await;
    assert!(
        journal
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "account.export"),
        "{journal:#}"
    );
    let r = t.get(&alice, "/api/v1/export").await;
    assert_eq!(r.status(), 200);
    assert!(r.bytes().await.is_err());
    assert_eq!(std::fs::read_dir(&t.app.spool_dir).unwrap().count(), 0);
}

//! A full disk: the real `liasse serve` binary with its blob directory, then its spool
//! directory, on a small tmpfs that is filled up. An upload (and a new version) then gets a 507
//! `storage-full` problem with a French detail, and leaves nothing behind: no document row, no
//! journal entry, no blob, no partial blob, no spooled file. Once space returns, the same upload
//! succeeds, and `liasse verify` is clean.
//!
//! Mounting needs root (CI runs as root). Without it the test says SKIPPED loudly, unless
//! `LIASSE_TEST_REQUIRE_SERVERS=1`, where it fails.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use liasse_inspect::samples;
use reqwest::multipart::{Form, Part};
use serde_json::Value;

use crate::crash::{Server, citizen_token, files_under, liasse_env, output_text};

const TMPFS_SIZE: &str = "4m";

/// A tmpfs mounted on a temporary directory, unmounted (and the directory removed) on drop,
/// also when the test fails.
struct Tmpfs {
    dir: Option<tempfile::TempDir>,
}

impl Tmpfs {
    fn mount() -> Result<Tmpfs, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o"])
            .arg(format!("size={TMPFS_SIZE},mode=0700"))
            .arg("liasse-diskfull")
            .arg(dir.path())
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mount -t tmpfs failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(Tmpfs { dir: Some(dir) })
    }

    fn path(&self) -> &Path {
        self.dir.as_ref().expect("mounted").path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        if let Some(dir) = self.dir.take() {
            let unmounted = Command::new("umount")
                .arg(dir.path())
                .status()
                .is_ok_and(|s| s.success())
                // Busy (a process still holds a file): detach it now, freed when released.
                || Command::new("umount")
                    .arg("-l")
                    .arg(dir.path())
                    .status()
                    .is_ok_and(|s| s.success());
            if unmounted {
                drop(dir);
            } else {
                eprintln!("could not unmount {}", dir.path().display());
                // Never remove the files of a filesystem that is still mounted elsewhere.
                let _ = dir.keep();
            }
        }
    }
}

/// Fills the filesystem of `dir` with one file, to the last byte; returns it.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).expect("filler");
    let mut chunk = 1 << 20;
    let block = vec![0xA5u8; chunk];
    while chunk > 0 {
        match f.write(&block[..chunk]) {
            Ok(0) => chunk /= 2,
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(28) => chunk /= 2,
            Err(e) => panic!("filling {}: {e}", dir.display()),
        }
    }
    let _ = f.sync_all();
    path
}

async fn upload(
    http: &reqwest::Client,
    server: &Server,
    token: &str,
    title: &str,
    bytes: &[u8],
) -> (u16, String, Value) {
    let form = Form::new()
        .text("type", "rib")
        .text("title", title.to_string())
        .part(
            "file",
            Part::bytes(bytes.to_vec())
                .file_name("rib.pdf")
                .mime_str("application/pdf")
                .expect("mime"),
        );
    let r = http
        .post(format!("{}/api/v1/documents", server.base))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .expect("upload");
    answer(r).await
}

async fn replace(
    http: &reqwest::Client,
    server: &Server,
    token: &str,
    id: &str,
    bytes: &[u8],
) -> (u16, String, Value) {
    let form = Form::new().part(
        "file",
        Part::bytes(bytes.to_vec())
            .file_name("rib.pdf")
            .mime_str("application/pdf")
            .expect("mime"),
    );
    let r = http
        .put(format!("{}/api/v1/documents/{id}/content", server.base))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .expect("replace");
    answer(r).await
}

async fn answer(r: reqwest::Response) -> (u16, String, Value) {
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (status, ct, r.json().await.unwrap_or(Value::Null))
}

async fn get_json(http: &reqwest::Client, server: &Server, token: &str, path: &str) -> Value {
    http.get(format!("{}{path}", server.base))
        .bearer_auth(token)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json")
}

fn assert_storage_full(what: &str, (status, ct, body): &(u16, String, Value), log: &str) {
    assert_eq!(*status, 507, "{what}: {body}\n{log}");
    assert_eq!(ct, "application/problem+json", "{what}");
    assert_eq!(
        body["type"], "https://liasse.fr/problems/storage-full",
        "{what}: {body}"
    );
    assert_eq!(body["status"], 507, "{what}: {body}");
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("stockage") && detail.contains("pas été enregistré"),
        "{what}: the detail must say, in French, that nothing was stored: {detail}"
    );
}

/// Everything the server wrote, seen from outside: documents, versions, journal, files.
async fn snapshot(
    http: &reqwest::Client,
    server: &Server,
    token: &str,
    dirs: &[&Path],
) -> (Value, usize, Vec<PathBuf>) {
    let docs = get_json(http, server, token, "/api/v1/documents").await;
    let journal = get_json(http, server, token, "/api/v1/journal").await;
    // Reads are journalled: count only what changes storage.
    let writes = journal.as_array().map_or(0, |j| {
        j.iter().filter(|e| e["action"] != "document.read").count()
    });
    let files = dirs.iter().flat_map(|d| files_under(d)).collect();
    (docs, writes, files)
}

#[tokio::test(flavor = "multi_thread")]
async fn full_disk_gets_507_and_leaves_nothing_behind() {
    let tmpfs = match Tmpfs::mount() {
        Ok(t) => t,
        Err(e) => {
            assert!(
                std::env::var("LIASSE_TEST_REQUIRE_SERVERS").as_deref() != Ok("1"),
                "LIASSE_TEST_REQUIRE_SERVERS=1 but the full-disk test cannot mount a tmpfs \
                 (it needs root): {e}"
            );
            eprintln!(
                "\n*** SKIPPED: full-disk test (cannot mount a tmpfs: {e}; run as root) ***\n"
            );
            return;
        }
    };
    let http = reqwest::Client::new();
    let pdf = |marker: &str| samples::pdf_with_text(marker);

    // 1. The blob directory on the small filesystem; data directory (database, spool, key
    //    file) elsewhere.
    {
        let data = tempfile::tempdir().expect("data dir");
        let blobs = tmpfs.path().join("blobs");
        let env = vec![
            (
                "LIASSE_DATA_DIR".to_string(),
                data.path().display().to_string(),
            ),
            ("LIASSE_BLOB_URL".to_string(), blobs.display().to_string()),
        ];
        let token = citizen_token(&env, data.path(), "plein");
        let mut server = Server::new(env.clone(), data.path(), data.path().join("serve.log"));
        server.start(&http).await;

        let first = upload(&http, &server, &token, "avant", &pdf("avant")).await;
        assert_eq!(first.0, 201, "{:?}", first.2);
        let first_id = first.2["id"].as_str().expect("id").to_string();
        let spool = data.path().join("tmp");

        let filler = fill(tmpfs.path());
        let before = snapshot(&http, &server, &token, &[&blobs, &spool]).await;
        let full = upload(&http, &server, &token, "pendant", &pdf("pendant")).await;
        assert_storage_full("upload, blob directory full", &full, &server.log_tail());
        let full = replace(&http, &server, &token, &first_id, &pdf("nouvelle version")).await;
        assert_storage_full(
            "new version, blob directory full",
            &full,
            &server.log_tail(),
        );
        // A dropped staging file is removed by a blocking task: give it a moment.
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let after = snapshot(&http, &server, &token, &[&blobs, &spool]).await;
        assert_eq!(before, after, "a refused upload changed storage");

        std::fs::remove_file(&filler).expect("free space");
        let again = upload(&http, &server, &token, "pendant", &pdf("pendant")).await;
        assert_eq!(again.0, 201, "after freeing space: {:?}", again.2);
        let id = again.2["id"].as_str().expect("id");
        let content = http
            .get(format!("{}/api/v1/documents/{id}/content", server.base))
            .bearer_auth(&token)
            .send()
            .await
            .expect("download")
            .bytes()
            .await
            .expect("content");
        assert_eq!(&content[..], &pdf("pendant")[..]);
        let v2 = replace(&http, &server, &token, &first_id, &pdf("nouvelle version")).await;
        assert_eq!(v2.0, 200, "{:?}", v2.2);
        server.kill();
        let out = liasse_env(&env, data.path(), &["verify", "--min-age", "0"]);
        assert!(out.status.success(), "verify: {}", output_text(&out));
        assert!(
            !output_text(&out).contains("orphan"),
            "{}",
            output_text(&out)
        );
    }

    // 2. The data directory, hence the spool where uploads arrive before they are sent to the
    //    object store, on the small filesystem; database, key file and blobs (S3) elsewhere.
    //    (On a local blob directory the spool is the blob's own staging file: case 1.)
    let s3 = ["ENDPOINT", "BUCKET", "ACCESS_KEY", "SECRET_KEY", "REGION"]
        .map(|k| std::env::var(format!("LIASSE_TEST_S3_{k}")).ok());
    let [
        Some(endpoint),
        Some(bucket),
        Some(access_key),
        Some(secret_key),
        region,
    ] = s3
    else {
        assert!(
            std::env::var("LIASSE_TEST_REQUIRE_SERVERS").as_deref() != Ok("1"),
            "LIASSE_TEST_REQUIRE_SERVERS=1 but LIASSE_TEST_S3_* are not set"
        );
        eprintln!(
            "\n*** SKIPPED: full spool directory (needs the S3 server of scripts/test.sh) ***\n"
        );
        drop(tmpfs);
        return;
    };
    {
        let outside = tempfile::tempdir().expect("outside");
        let data = tmpfs.path().join("data");
        let prefix = format!("diskfull-{}", uuid::Uuid::now_v7().simple());
        let env = vec![
            ("LIASSE_DATA_DIR".to_string(), data.display().to_string()),
            (
                "LIASSE_DATABASE_URL".to_string(),
                format!("sqlite://{}/liasse.db?mode=rwc", outside.path().display()),
            ),
            (
                "LIASSE_KEY_FILE".to_string(),
                outside.path().join("keys.json").display().to_string(),
            ),
            (
                "LIASSE_BLOB_URL".to_string(),
                format!("s3://{bucket}/{prefix}"),
            ),
            ("LIASSE_S3_ENDPOINT".to_string(), endpoint),
            ("LIASSE_S3_ACCESS_KEY_ID".to_string(), access_key),
            ("LIASSE_S3_SECRET_ACCESS_KEY".to_string(), secret_key),
            (
                "LIASSE_S3_REGION".to_string(),
                region.unwrap_or_else(|| "us-east-1".into()),
            ),
        ];
        let token = citizen_token(&env, outside.path(), "spool");
        let mut server = Server::new(
            env.clone(),
            outside.path(),
            outside.path().join("serve.log"),
        );
        server.start(&http).await;
        let spool = data.join("tmp");

        let filler = fill(tmpfs.path());
        let before = snapshot(&http, &server, &token, &[&spool]).await;
        // Large enough to need fresh pages whatever the filesystem kept in reserve.
        let big =
            samples::pdf_with_large_stream(256 * 1024, liasse_inspect::samples::Filler::Binary, "");
        let full = upload(&http, &server, &token, "spool", &big).await;
        assert_storage_full("upload, spool directory full", &full, &server.log_tail());
        let after = snapshot(&http, &server, &token, &[&spool]).await;
        assert_eq!(before, after, "a refused upload changed storage");

        std::fs::remove_file(&filler).expect("free space");
        let ok = upload(&http, &server, &token, "spool", &pdf("spool")).await;
        assert_eq!(ok.0, 201, "after freeing space: {:?}", ok.2);
        server.kill();
        let out = liasse_env(&env, outside.path(), &["verify", "--min-age", "0"]);
        assert!(out.status.success(), "verify: {}", output_text(&out));
    }
    drop(tmpfs);
}

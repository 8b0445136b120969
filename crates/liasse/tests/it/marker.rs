//! No plaintext on any disk: uploads carrying a unique marker, in their content and in their
//! file name, arrive through every channel (the API, the citizen's page, the counter page, an
//! agent's deposit of scanned pages assembled into one PDF, a new version), plus a refused
//! upload, an upload cut half-way and an upload whose server is killed with SIGKILL. Every
//! file under the data directory (database and WAL, spool, blobs and their staging files), the
//! files the server processes hold open there (unnamed spool files included), and on the
//! servers' backend PostgreSQL's data directory and the S3 server's, are searched while an
//! upload is in flight and after: the marker is found nowhere.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use liasse_inspect::samples;
use liasse_testkit::{Backend, TestApp};
use reqwest::multipart::{Form, Part};
use tokio::io::AsyncWriteExt;

use crate::crash::{Server, citizen_token, files_under, liasse_env, output_text};
use crate::web::Browser;

fn new_marker() -> String {
    format!("LIASSEMARK{}", uuid::Uuid::now_v7().simple())
}

/// The directories where the backend keeps files.
fn places(t: &TestApp) -> Vec<PathBuf> {
    let mut dirs = vec![t.data_dir()];
    if t.backend == Backend::Servers {
        for var in ["LIASSE_TEST_PG_DATA", "LIASSE_TEST_S3_DIR"] {
            match std::env::var(var) {
                Ok(d) if !d.is_empty() => dirs.push(PathBuf::from(d)),
                _ => assert!(
                    std::env::var("LIASSE_TEST_REQUIRE_SERVERS").as_deref() != Ok("1"),
                    "LIASSE_TEST_REQUIRE_SERVERS=1 but {var} is not set"
                ),
            }
        }
    }
    dirs
}

/// Files any process holds open under `dir`, as `/proc/PID/fd/N` paths that read them (an
/// unnamed temporary file has no other name).
fn open_files_under(dir: &Path) -> Vec<PathBuf> {
    let Ok(dir) = dir.canonicalize() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return out;
    };
    for p in procs.flatten() {
        let Ok(fds) = std::fs::read_dir(p.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            let Ok(target) = std::fs::read_link(fd.path()) else {
                continue;
            };
            let target = target.to_string_lossy();
            let target = target.trim_end_matches(" (deleted)");
            if Path::new(target).starts_with(&dir) {
                out.push(fd.path());
            }
        }
    }
    out
}

/// Every place (file name or content) where `marker` is found.
fn find(marker: &str, dirs: &[PathBuf]) -> Vec<String> {
    let needle = marker.as_bytes();
    let mut hits = Vec::new();
    let mut files: Vec<PathBuf> = Vec::new();
    for d in dirs {
        files.extend(files_under(d));
        files.extend(open_files_under(d));
    }
    for f in files {
        if f.to_string_lossy().contains(marker) {
            hits.push(format!("name: {}", f.display()));
        }
        // Files come and go while the servers run: one that vanished holds nothing.
        if let Ok(bytes) = std::fs::read(&f)
            && memchr::memmem::find(&bytes, needle).is_some()
        {
            hits.push(format!("content: {}", f.display()));
        }
    }
    hits
}

fn assert_nowhere(marker: &str, dirs: &[PathBuf], when: &str) {
    let hits = find(marker, dirs);
    assert!(
        hits.is_empty(),
        "{when}: the marker is in clear in {hits:#?}"
    );
}

/// A PDF whose page shows the marker, about `repeat` times.
fn marked_pdf(marker: &str, repeat: usize) -> Vec<u8> {
    samples::pdf_with_text(&format!("{marker} ").repeat(repeat))
}

/// Sends the headers and half the body of an upload, and keeps the connection open.
async fn half_upload(
    base: &str,
    token: &str,
    file_name: &str,
    content: &[u8],
) -> tokio::net::TcpStream {
    let boundary = "liasse-marker-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\njustificatif-domicile\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
         Content-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let addr = base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST /api/v1/documents HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.expect("head");
    s.write_all(&body[..body.len() / 2])
        .await
        .expect("half the body");
    s.flush().await.expect("flush");
    s
}

/// Bytes in blob staging files and in spool files held open under the data directory.
fn spooled_bytes(data_dir: &Path) -> u64 {
    let staging = files_under(data_dir).into_iter().filter(|p| {
        p.file_name()
            .is_some_and(|n| n.to_string_lossy().contains('#'))
    });
    let open = open_files_under(&data_dir.join("tmp"));
    staging
        .chain(open)
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

/// Waits (at most a minute) until `done` holds.
async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(
            Instant::now() < deadline,
            "still waiting after a minute: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn account_id(t: &TestApp, tenant: &str, login: &str) -> String {
    let tenant = liasse_store::tenants::by_slug(&t.app.db, tenant)
        .await
        .unwrap()
        .unwrap();
    liasse_store::accounts::by_login(&t.app.db, &tenant.id, login)
        .await
        .unwrap()
        .unwrap()
        .id
}

#[test]
fn the_search_finds_a_marker_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let m = new_marker();
    std::fs::write(dir.path().join("plain"), marked_pdf(&m, 1)).unwrap();
    std::fs::write(dir.path().join(format!("{m}.txt")), b"x").unwrap();
    assert_eq!(find(&m, &[dir.path().to_path_buf()]).len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn no_channel_leaves_the_marker_in_clear_on_any_disk() {
    for t in TestApp::all().await {
        let b = t.backend;
        let dirs = places(&t);
        let m = new_marker();
        t.tenant("marque").await;
        let citizen = t.account("marque", "camille", "citizen", &[]).await;
        let agent = t
            .account("marque", "accueil", "agent", &[("general", "modify")])
            .await;
        let citizen_id = account_id(&t, "marque", "camille").await;
        let content = |n: usize| marked_pdf(&m, n);

        // The API: a deposit, then a new version.
        let (status, doc) = t
            .upload(
                &citizen,
                &[("type", "justificatif-domicile"), ("title", "relevé")],
                &format!("{m}-api.pdf"),
                content(1000),
            )
            .await;
        assert_eq!(status, 201, "{b:?}: {doc}");
        let id = doc["id"].as_str().unwrap().to_string();
        let (status, v2) = t
            .replace(&citizen, &id, &format!("{m}-v2.pdf"), content(2000))
            .await;
        assert_eq!(status, 200, "{b:?}: {v2}");
        let back = t
            .get(&citizen, &format!("/api/v1/documents/{id}/content"))
            .await
            .bytes()
            .await
            .unwrap();
        assert!(
            memchr::memmem::find(&back, m.as_bytes()).is_some(),
            "{b:?}: the stored file is the marked one"
        );

        // The citizen's page.
        let mut web = Browser::new(&t);
        let csrf = web
            .login("marque", "camille", "camille-password")
            .await
            .csrf();
        let form = Form::new()
            .text("csrf", csrf)
            .text("type", "justificatif-domicile")
            .part(
                "file",
                Part::bytes(content(500))
                    .file_name(format!("{m}-page.pdf"))
                    .mime_str("application/pdf")
                    .unwrap(),
            );
        let r = web.post_multipart("/documents", form).await;
        assert_eq!(r.status, 303, "{b:?}: citizen page: {}", r.body);

        // The counter page, as an agent.
        let mut desk = Browser::new(&t);
        let csrf = desk
            .login("marque", "accueil", "accueil-password")
            .await
            .csrf();
        let form = Form::new()
            .text("csrf", csrf)
            .text("type", "justificatif-domicile")
            .text("channel", "counter")
            .part(
                "file",
                Part::bytes(content(300))
                    .file_name(format!("{m}-guichet.pdf"))
                    .mime_str("application/pdf")
                    .unwrap(),
            );
        let r = desk
            .post_multipart(&format!("/agent/usagers/{citizen_id}/depot"), form)
            .await;
        assert_eq!(r.status, 303, "{b:?}: counter page: {}", r.body);

        // Scanned pages deposited by an agent, assembled into one PDF.
        let form = Form::new()
            .text("type", "justificatif-domicile")
            .text("channel", "post")
            .part(
                "file",
                Part::bytes(content(200)).file_name(format!("{m}-recto.pdf")),
            )
            .part(
                "file",
                Part::bytes(samples::small_png(40, 30)).file_name(format!("{m}-verso.png")),
            );
        let r = t
            .http
            .post(t.url(&format!("/api/v1/citizens/{citizen_id}/documents")))
            .bearer_auth(&agent)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status().as_u16(),
            201,
            "{b:?}: {}",
            r.text().await.unwrap()
        );

        // Refused uploads: a format the type does not take, and active content.
        let (status, body) = t
            .upload(
                &citizen,
                &[("type", "photo-identite")],
                &format!("{m}-refus.pdf"),
                content(800),
            )
            .await;
        assert_eq!(status, 415, "{b:?}: {body}");
        let (status, body) = t
            .upload(
                &citizen,
                &[("type", "justificatif-domicile")],
                &format!("{m}-script.pdf"),
                samples::pdf_with_javascript(),
            )
            .await;
        assert_eq!(status, 422, "{b:?}: {body}");
        assert_nowhere(&m, &dirs, &format!("{b:?}, after the uploads"));

        // An upload cut half-way: looked for while it is in flight, then after.
        let data_dir = t.data_dir();
        let big = content(120_000);
        let conn = half_upload(&t.base_url, &citizen, &format!("{m}-coupe.pdf"), &big).await;
        wait_until("the cut upload reaches the spool", || {
            spooled_bytes(&data_dir) > 512 * 1024
        })
        .await;
        assert_nowhere(&m, &dirs, &format!("{b:?}, upload in flight"));
        drop(conn);
        wait_until("the cut upload's spool is removed", || {
            spooled_bytes(&data_dir) == 0
        })
        .await;
        assert_nowhere(&m, &dirs, &format!("{b:?}, after the cut"));

        // An upload in flight when its server is killed.
        killed_in_flight(&t, &m, &dirs, &big).await;
        assert_nowhere(&m, &dirs, &format!("{b:?}, at the end"));
    }
}

/// The real `liasse serve` on the app's storage, killed with SIGKILL while an upload is half
/// received; `verify --repair` then removes what the kill left, which holds no clear byte.
async fn killed_in_flight(t: &TestApp, m: &str, dirs: &[PathBuf], big: &[u8]) {
    let b = t.backend;
    let env = t.cli_env();
    let cwd = t.data_dir();
    let token = citizen_token(&env, &cwd, "tuer");
    let logs = tempfile::tempdir().unwrap();
    let mut server = Server::new(env.clone(), &cwd, logs.path().join("serve.log"));
    let http = reqwest::Client::new();
    server.start(&http).await;
    let before = spooled_bytes(&cwd);
    let conn = half_upload(&server.base, &token, &format!("{m}-tue.pdf"), big).await;
    wait_until("the killed upload reaches the spool", || {
        spooled_bytes(&cwd) > before + 512 * 1024
    })
    .await;
    assert_nowhere(m, dirs, &format!("{b:?}, upload in flight before the kill"));
    server.kill();
    drop(conn);
    assert_nowhere(m, dirs, &format!("{b:?}, after the kill"));
    let out = liasse_env(&env, &cwd, &["verify", "--repair", "--min-age", "0"]);
    assert!(out.status.success(), "{b:?}: verify: {}", output_text(&out));
    assert_eq!(spooled_bytes(&cwd), 0, "{b:?}: {}", output_text(&out));
}

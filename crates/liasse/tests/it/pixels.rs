//! Issue 22, point 9 (pixel limit): a small PNG can claim 10000 x 10000 pixels and cost
//! hundreds of MiB to decode. Each document type has a pixel limit (40 megapixels unless it
//! says otherwise, 12 for the identity photo), checked from the header before any decoding.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use liasse_inspect::samples;
use liasse_testkit::TestApp;
use reqwest::multipart::{Form, Part};
use serde_json::Value;

/// `VmHWM` and `VmRSS` of a process, in KiB.
fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} in /proc/{pid}/status"))
    };
    (field("VmHWM:"), field("VmRSS:"))
}

struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn upload_photo(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    bytes: Vec<u8>,
) -> (u16, Value) {
    let form = Form::new()
        .text("type", "photo-identite")
        .part("file", Part::bytes(bytes).file_name("photo.png"));
    let r = http
        .post(format!("{base}/api/v1/documents"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_huge_image_is_refused_from_its_header_on_the_photo_type() {
    let t = TestApp::embedded().await;
    t.tenant("photo").await;
    let camille = t.account("photo", "camille", "citizen", &[]).await;
    let bomb = samples::uniform_png(10_000, 10_000);
    assert!(bomb.len() < 1024 * 1024, "{} bytes", bomb.len());

    // The catalogue says what each type accepts.
    let (status, types) = t.get_json(&camille, "/api/v1/document-types").await;
    assert_eq!(status, 200);
    let types = types.as_array().unwrap();
    let photo = types
        .iter()
        .find(|d| d["code"] == "photo-identite")
        .unwrap();
    assert_eq!(photo["max_pixels"], 12_000_000);
    let other = types
        .iter()
        .find(|d| d["code"] == "justificatif-domicile")
        .unwrap();
    assert_eq!(other["max_pixels"], 40_000_000);

    // On a server of its own, so that its memory is only this upload's.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = Serve(
        Command::new(env!("CARGO_BIN_EXE_liasse"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "warn")
            .envs(t.cli_env())
            .current_dir(t.data_dir())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !http
        .get(format!("{base}/readyz"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(Instant::now() < deadline, "liasse serve not ready");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // A normal photo is accepted (and warms the server up).
    let (status, body) = upload_photo(&http, &base, &camille, samples::small_png(600, 800)).await;
    assert_eq!(status, 201, "{body}");
    let before = t.storage_counts().await;

    // Peak memory from now on: the kernel resets VmHWM to the current RSS.
    let pid = server.0.id();
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").unwrap();
    let (_, rss_before) = memory_kib(pid);
    let (status, body) = upload_photo(&http, &base, &camille, bomb.clone()).await;
    let (peak, _) = memory_kib(pid);
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["type"],
        "https://liasse.fr/problems/image-too-many-pixels"
    );
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("10\u{a0}000 × 10\u{a0}000") && detail.contains("12 mégapixels"),
        "{detail}"
    );
    // Decoding it would take 300 MB (10000 × 10000 × 3): far below that, nothing was decoded.
    let rise_mib = peak.saturating_sub(rss_before) / 1024;
    assert!(rise_mib < 64, "memory rose by {rise_mib} MiB");
    // Nothing is left behind.
    assert_eq!(t.storage_counts().await, before);
    drop(server);

    // The same rule in the app under test: refused on the photo type...
    let (status, body) = t
        .upload(
            &camille,
            &[("type", "photo-identite")],
            "photo.png",
            bomb.clone(),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["type"],
        "https://liasse.fr/problems/image-too-many-pixels"
    );
    // ... and a photo within the limit is accepted.
    let (status, body) = t
        .upload(
            &camille,
            &[("type", "photo-identite")],
            "photo.png",
            samples::small_png(3000, 4000),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_type_pixel_limit_is_validated() {
    let t = TestApp::embedded().await;
    t.tenant("regles").await;
    let admin = t.account("regles", "admin", "admin", &[]).await;
    let (status, types) = t.get_json(&admin, "/api/v1/document-types").await;
    assert_eq!(status, 200);
    let mut photo = types
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "photo-identite")
        .unwrap()
        .clone();
    for bad in [0u64, 100_000_001] {
        photo["max_pixels"] = bad.into();
        let (status, body) = t
            .send(
                reqwest::Method::PUT,
                &admin,
                "/api/v1/document-types/photo-identite",
                Some(photo.clone()),
            )
            .await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(
            body["detail"].as_str().unwrap().contains("pixels"),
            "{body}"
        );
    }
    photo["max_pixels"] = 2_000_000.into();
    let (status, body) = t
        .send(
            reqwest::Method::PUT,
            &admin,
            "/api/v1/document-types/photo-identite",
            Some(photo.clone()),
        )
        .await;
    assert!(status == 200 || status == 201, "{status}: {body}");
    let camille = t.account("regles", "camille", "citizen", &[]).await;
    let (status, body) = t
        .upload(
            &camille,
            &[("type", "photo-identite")],
            "photo.png",
            samples::small_png(2000, 1500),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("2 mégapixels"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_type_form_shows_and_keeps_the_pixel_limit() {
    let t = TestApp::embedded().await;
    let tenant = t.tenant("forme").await;
    t.account("forme", "alix", "admin", &[]).await;
    let mut admin = crate::web::Browser::new(&t);
    admin.login("forme", "alix", "alix-password").await;
    let page = admin.get("/admin/types/photo-identite").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("name=\"max_megapixels\" value=\"12\""),
        "{}",
        page.body
    );
    let token = page.csrf();
    let form = |mp: &'static str| {
        vec![
            ("csrf", token.clone()),
            ("editing", "on".into()),
            ("code", "photo-identite".into()),
            ("label", "Photo d'identité".into()),
            ("domain", "general".into()),
            ("description", String::new()),
            ("validity_kind", "duration".into()),
            ("duration", "P6M".into()),
            ("reusable", "on".into()),
            ("review_required", "on".into()),
            ("formats", "jpeg".into()),
            ("formats", "png".into()),
            ("depositors", "citizen".into()),
            ("max_size_mb", "5".into()),
            ("max_megapixels", mp.into()),
            ("retention", "P1Y".into()),
            ("disposal", "delete".into()),
            ("notice_days", "30".into()),
        ]
    };
    let stored = || async {
        liasse_app::catalogue::get_any(&t.app, &tenant, "photo-identite")
            .await
            .unwrap()
            .unwrap()
            .0
            .max_pixels
    };
    for (bad, why) in [("douze", "mégapixels"), ("0", "pixels"), ("500", "pixels")] {
        let fields = form(bad);
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = admin.post("/admin/types", &fields).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        assert!(r.body.contains(why), "{bad}: {}", r.body);
        assert_eq!(stored().await, 12_000_000);
    }
    let fields = form("8");
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = admin.post("/admin/types", &fields).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(stored().await, 8_000_000);
}

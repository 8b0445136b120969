//! The edge of the server (issue 22, points 1, 2 in part, 4, 9 in part and 14): bodies are
//! limited before they are read, slow clients are cut, requests in flight are capped per
//! client (seen through trusted proxies only), cookies follow `secure_cookies`, and HSTS is
//! sent only on an `https://` public URL.
//!
//! Raw TCP where the test must control what reaches the server (declared lengths, half
//! headers, stalled bodies); no timing assertion: waits are bounded by generous timeouts.

use std::time::Duration;

use liasse_inspect::samples;
use liasse_testkit::TestApp;
use reqwest::header::SET_COOKIE;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Long enough for any answer on a loaded CI machine; a wait, never a measure.
const PATIENCE: Duration = Duration::from_secs(60);

fn addr(t: &TestApp) -> String {
    t.base_url.trim_start_matches("http://").to_string()
}

/// Reads an HTTP/1.1 response (head and what follows of the body) until the server closes or
/// the body announced by Content-Length has arrived.
async fn read_response(stream: &mut (impl AsyncReadExt + Unpin)) -> (u16, String) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let read = async {
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
            let text = String::from_utf8_lossy(&buf);
            if let Some(end) = text.find("\r\n\r\n") {
                let head = text[..end].to_ascii_lowercase();
                let len = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok());
                if len.is_some_and(|len| buf.len() >= end + 4 + len) {
                    break;
                }
            }
        }
    };
    let _ = tokio::time::timeout(PATIENCE, read).await;
    let text = String::from_utf8_lossy(&buf).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

/// Whether the server closed the connection (EOF or reset) within the patience.
async fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut chunk = [0u8; 1024];
    let wait = async {
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return true,
                // An error response before the close is fine.
                Ok(_) => continue,
            }
        }
    };
    tokio::time::timeout(PATIENCE, wait).await.unwrap_or(false)
}

fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kib * 1024
}

const HALF_GIB: u64 = 512 * 1024 * 1024;

/// Declares a 512 MiB JSON body for the login, then streams it (from one small buffer) until
/// the server answers or closes; returns the answer.
async fn declared_bomb(address: &str) -> (u16, String) {
    let stream = TcpStream::connect(address).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let head = format!(
        "POST /api/v1/session HTTP/1.1\r\nhost: liasse\r\ncontent-type: application/json\r\ncontent-length: {HALF_GIB}\r\n\r\n"
    );
    writer.write_all(head.as_bytes()).await.unwrap();
    let pump = tokio::spawn(async move {
        let chunk = vec![b' '; 64 * 1024];
        let mut sent = 0u64;
        while sent < HALF_GIB {
            if writer.write_all(&chunk).await.is_err() {
                break;
            }
            sent += chunk.len() as u64;
        }
        sent
    });
    let answer = read_response(&mut reader).await;
    pump.abort();
    answer
}

#[tokio::test]
async fn a_declared_huge_body_is_refused_before_it_is_read() {
    let t = TestApp::embedded().await;
    let (status, text) = declared_bomb(&addr(&t)).await;
    assert_eq!(status, 413, "{text}");
    assert!(text.contains("application/problem+json"), "{text}");
    assert!(text.contains("request-too-large"), "{text}");

    // Several at once: the server's memory (it runs in this process) stays flat. Before,
    // each body was buffered whole (about 1 GiB of peak memory per request).
    let before = rss_bytes();
    let bombs: Vec<_> = (0..8)
        .map(|_| {
            let a = addr(&t);
            tokio::spawn(async move { declared_bomb(&a).await })
        })
        .collect();
    for b in bombs {
        let (status, text) = b.await.unwrap();
        assert_eq!(status, 413, "{text}");
    }
    let grown = rss_bytes().saturating_sub(before);
    assert!(
        grown < 128 * 1024 * 1024,
        "memory grew by {} MiB",
        grown / 1024 / 1024
    );

    // The server still answers (a normal login attempt: unknown tenant).
    let r = t
        .http
        .post(t.url("/api/v1/session"))
        .json(&serde_json::json!({"tenant": "x", "login": "y", "password": "z"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn a_chunked_body_is_cut_at_the_limit() {
    let t = TestApp::embedded_with(|c| c.max_body_bytes = Some(64 * 1024)).await;
    let stream = TcpStream::connect(addr(&t)).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    writer
        .write_all(b"POST /api/v1/session HTTP/1.1\r\nhost: liasse\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n")
        .await
        .unwrap();
    let pump = tokio::spawn(async move {
        let data = vec![b' '; 16 * 1024];
        // Up to 64 MiB if nobody stops it; the server stops at 64 KiB.
        for _ in 0..4096 {
            let chunk = [
                format!("{:x}\r\n", data.len()).into_bytes(),
                data.clone(),
                b"\r\n".to_vec(),
            ]
            .concat();
            if writer.write_all(&chunk).await.is_err() {
                break;
            }
        }
    });
    let (status, text) = read_response(&mut reader).await;
    pump.abort();
    assert_eq!(status, 413, "{text}");
    assert!(text.contains("request-too-large"), "{text}");

    // A JSON body above the limit with a declared length, on a route that is not an upload.
    let token = {
        t.tenant("bord").await;
        t.account("bord", "camille", "citizen", &[]).await
    };
    let big = serde_json::json!({ "name": "x".repeat(100 * 1024) });
    let (status, body) = t
        .send(
            reqwest::Method::POST,
            &token,
            "/api/v1/household-members",
            Some(big),
        )
        .await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["type"], "https://liasse.fr/problems/request-too-large");
}

#[tokio::test]
async fn uploads_above_the_json_limit_still_work() {
    let t = TestApp::embedded_with(|c| c.max_body_bytes = Some(16 * 1024)).await;
    t.tenant("bord").await;
    let token = t.account("bord", "camille", "citizen", &[]).await;
    // About 200 KiB: far above the 16 KiB of other bodies.
    let pdf = samples::pdf_with_text(&"A".repeat(200 * 1024));
    let (status, doc) = t
        .upload(
            &token,
            &[("type", "justificatif-domicile")],
            "facture.pdf",
            pdf.clone(),
        )
        .await;
    assert_eq!(status, 201, "{doc}");
    let id = doc["id"].as_str().unwrap();
    let (status, v2) = t.replace(&token, id, "facture-2.pdf", pdf).await;
    assert_eq!(status, 200, "{v2}");
    assert_eq!(v2["version"], 2);
    // An upload above max_upload_bytes (plus the form's room) is refused before reading.
    let (status, text) = {
        let stream = TcpStream::connect(addr(&t)).await.unwrap();
        let (mut reader, mut writer) = stream.into_split();
        let head = format!(
            "POST /api/v1/documents HTTP/1.1\r\nhost: liasse\r\nauthorization: Bearer {token}\r\ncontent-type: multipart/form-data; boundary=x\r\ncontent-length: {}\r\n\r\n",
            t.config.max_upload_bytes() + 17 * 1024
        );
        writer.write_all(head.as_bytes()).await.unwrap();
        read_response(&mut reader).await
    };
    assert_eq!(status, 413, "{text}");
    assert!(text.contains("request-too-large"), "{text}");
}

#[tokio::test]
async fn half_headers_are_cut_while_a_normal_client_is_served() {
    let t = TestApp::embedded_with(|c| {
        c.header_read_timeout_secs = Some(1);
        c.idle_timeout_secs = Some(2);
    })
    .await;
    let mut slow = Vec::new();
    for _ in 0..200 {
        let mut s = TcpStream::connect(addr(&t)).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nhost: liasse\r\nx-slow: ")
            .await
            .unwrap();
        slow.push(s);
    }
    // A normal client is served while the 200 hold their connections.
    let r = t.http.get(t.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    // Every one of them is cut by the server (before, all were still held 40 s later).
    let mut cut = 0;
    for s in &mut slow {
        if closed_by_server(s).await {
            cut += 1;
        }
    }
    assert_eq!(cut, 200);
    // And a connection that sends nothing at all is cut too.
    let mut silent = TcpStream::connect(addr(&t)).await.unwrap();
    assert!(closed_by_server(&mut silent).await);
    let r = t.http.get(t.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

/// A login body padded with spaces to `len` bytes (valid JSON).
fn padded_login(len: usize) -> Vec<u8> {
    let json = br#"{"tenant":"x","login":"y","password":"z"}"#;
    let mut body = json[..json.len() - 1].to_vec();
    body.resize(len - 1, b' ');
    body.push(b'}');
    body
}

#[tokio::test]
async fn a_stalled_body_is_cut_with_408_and_a_slow_one_that_moves_is_served() {
    let t = TestApp::embedded_with(|c| {
        c.body_min_rate_bytes = Some(1024);
        c.body_min_rate_secs = Some(1);
    })
    .await;
    let body = padded_login(12_000);
    let head = format!(
        "POST /api/v1/session HTTP/1.1\r\nhost: liasse\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    // Stalls after 10 bytes.
    let mut s = TcpStream::connect(addr(&t)).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(&body[..10]).await.unwrap();
    let (status, text) = read_response(&mut s).await;
    assert_eq!(status, 408, "{text}");
    assert!(text.contains("body-too-slow"), "{text}");
    assert!(text.contains("application/problem+json"), "{text}");

    // Slow but moving (about 6 KiB/s against 1 KiB/s required): it reaches the handler,
    // which answers for the unknown tenant.
    let mut s = TcpStream::connect(addr(&t)).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    for piece in body.chunks(1500) {
        s.write_all(piece).await.unwrap();
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let (status, text) = read_response(&mut s).await;
    assert_eq!(status, 401, "{text}");
}

/// Opens a login request whose body never comes: it stays in flight.
async fn held_request(t: &TestApp, forwarded_for: Option<&str>) -> TcpStream {
    let mut s = TcpStream::connect(addr(t)).await.unwrap();
    let xff = forwarded_for
        .map(|a| format!("x-forwarded-for: {a}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "POST /api/v1/session HTTP/1.1\r\nhost: liasse\r\ncontent-type: application/json\r\n{xff}content-length: 1000\r\n\r\n{{"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s
}

/// Asks /healthz as `forwarded_for` until the answer is `want` (the held requests reach the
/// server in their own time); returns the last response.
async fn healthz_until(t: &TestApp, forwarded_for: &str, want: u16) -> reqwest::Response {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let r = t
            .http
            .get(t.url("/healthz"))
            .header("x-forwarded-for", forwarded_for)
            .send()
            .await
            .unwrap();
        if r.status().as_u16() == want || tokio::time::Instant::now() > deadline {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn requests_in_flight_are_capped_per_client_and_forwarded_for_only_counts_from_trusted_proxies()
 {
    // Without trusted proxies, X-Forwarded-For is ignored: everything from 127.0.0.1 is one
    // client.
    let t = TestApp::embedded_with(|c| {
        c.max_in_flight_per_client = Some(2);
        c.body_min_rate_secs = Some(300);
    })
    .await;
    let _a = held_request(&t, Some("198.51.100.1")).await;
    let _b = held_request(&t, Some("198.51.100.2")).await;
    let r = healthz_until(&t, "198.51.100.3", 503).await;
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "1");
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/problem+json")
    );
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        body["type"],
        "https://liasse.fr/problems/too-many-requests-in-flight"
    );
    // Once they end, the client is served again.
    drop((_a, _b));
    let r = healthz_until(&t, "198.51.100.3", 200).await;
    assert_eq!(r.status(), 200);

    // Behind a trusted proxy (127.0.0.1), two forwarded clients are two clients.
    let t = TestApp::embedded_with(|c| {
        c.max_in_flight_per_client = Some(2);
        c.body_min_rate_secs = Some(300);
        c.trusted_proxies = Some(vec!["127.0.0.1".into()]);
    })
    .await;
    let _a = held_request(&t, Some("198.51.100.1")).await;
    let _b = held_request(&t, Some("203.0.113.5, 198.51.100.1")).await;
    let r = healthz_until(&t, "198.51.100.1", 503).await;
    assert_eq!(r.status(), 503, "the same forwarded client is capped");
    let r = t
        .http
        .get(t.url("/healthz"))
        .header("x-forwarded-for", "198.51.100.2")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "another forwarded client is not");
    // A left part written by the client does not make it someone else.
    let r = t
        .http
        .get(t.url("/healthz"))
        .header("x-forwarded-for", "192.0.2.77, 198.51.100.1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
}

#[tokio::test]
async fn connections_over_the_cap_are_refused_with_503() {
    let t = TestApp::embedded_with(|c| c.max_connections = Some(3)).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(TcpStream::connect(addr(&t)).await.unwrap());
    }
    // Accepted in order: the fourth is over the cap.
    let mut extra = TcpStream::connect(addr(&t)).await.unwrap();
    let (status, text) = read_response(&mut extra).await;
    assert_eq!(status, 503, "{text}");
    assert!(text.contains("too-many-connections"), "{text}");
    assert!(
        text.to_ascii_lowercase().contains("retry-after: 1"),
        "{text}"
    );
    // When they go, the server takes connections again.
    drop(held);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        match t.http.get(t.url("/healthz")).send().await {
            Ok(r) if r.status() == 200 => break,
            _ if tokio::time::Instant::now() > deadline => panic!("never served again"),
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

#[tokio::test]
async fn hsts_only_with_an_https_public_url() {
    let t = TestApp::embedded().await;
    let r = t.http.get(t.url("/healthz")).send().await.unwrap();
    assert!(r.headers().get("strict-transport-security").is_none());
    let r = t.http.get(t.url("/connexion")).send().await.unwrap();
    assert!(r.headers().get("strict-transport-security").is_none());

    let t =
        TestApp::embedded_with(|c| c.public_url = Some("https://liasse.example.fr".into())).await;
    for path in ["/healthz", "/connexion", "/api/v1/documents"] {
        let r = t.http.get(t.url(path)).send().await.unwrap();
        assert_eq!(
            r.headers()["strict-transport-security"],
            "max-age=31536000",
            "{path}"
        );
    }
}

/// A browser over plain HTTP on another host than localhost: it keeps cookies, except the
/// `Secure` ones, which it drops (as browsers do outside HTTPS).
struct PlainHttpBrowser {
    http: reqwest::Client,
    base: String,
    jar: Vec<(String, String)>,
}

impl PlainHttpBrowser {
    fn new(t: &TestApp) -> Self {
        PlainHttpBrowser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: t.base_url.clone(),
            jar: Vec::new(),
        }
    }

    fn absorb(&mut self, r: &reqwest::Response) {
        for v in r.headers().get_all(SET_COOKIE) {
            let v = v.to_str().unwrap();
            let attrs: Vec<String> = v
                .split(';')
                .map(|a| a.trim().to_ascii_lowercase())
                .collect();
            if attrs.iter().any(|a| a == "secure") {
                continue;
            }
            let (k, val) = v.split(';').next().unwrap().split_once('=').unwrap();
            self.jar.retain(|(name, _)| name != k);
            if !attrs.iter().any(|a| a == "max-age=0") {
                self.jar.push((k.to_string(), val.to_string()));
            }
        }
    }

    fn cookie(&self) -> String {
        self.jar
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn get(&mut self, path: &str) -> (u16, String) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie())
            .send()
            .await
            .unwrap();
        self.absorb(&r);
        (
            r.status().as_u16(),
            r.text().await.unwrap().replace("&#39;", "'"),
        )
    }

    /// The login form, filled; answers status, Location and page.
    async fn login(&mut self, tenant: &str, login: &str, password: &str) -> (u16, String, String) {
        let (status, page) = self.get("/connexion").await;
        assert_eq!(status, 200);
        let marker = "name=\"csrf\" value=\"";
        let start = page.find(marker).unwrap() + marker.len();
        let token = page[start..start + page[start..].find('"').unwrap()].to_string();
        let r = self
            .http
            .post(format!("{}/connexion", self.base))
            .header("cookie", self.cookie())
            .form(&[
                ("csrf", token.as_str()),
                ("tenant", tenant),
                ("login", login),
                ("password", password),
                ("suite", ""),
            ])
            .send()
            .await
            .unwrap();
        self.absorb(&r);
        let status = r.status().as_u16();
        let location = r
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (
            status,
            location,
            r.text().await.unwrap().replace("&#39;", "'"),
        )
    }
}

#[tokio::test]
async fn secure_cookies_false_lets_a_plain_http_browser_log_in() {
    let t = TestApp::embedded_with(|c| c.secure_cookies = Some(false)).await;
    t.tenant("intranet").await;
    t.account("intranet", "camille", "citizen", &[]).await;
    let mut b = PlainHttpBrowser::new(&t);
    let (status, location, page) = b.login("intranet", "camille", "camille-password").await;
    assert_eq!(status, 303, "{page}");
    assert_eq!(location, "/documents");
    assert!(b.jar.iter().any(|(k, _)| k == "liasse"), "{:?}", b.jar);
    assert!(!b.jar.iter().any(|(k, _)| k.starts_with("__Host-")));
    let (status, page) = b.get("/documents").await;
    assert_eq!(status, 200, "{page}");

    // The API's session cookie follows the same setting.
    let r = t
        .http
        .post(t.url("/api/v1/session"))
        .json(&serde_json::json!({"tenant": "intranet", "login": "camille", "password": "camille-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let set = r.headers()[SET_COOKIE].to_str().unwrap().to_string();
    assert!(set.starts_with("liasse="), "{set}");
    assert!(!set.contains("Secure"), "{set}");
    assert!(set.contains("HttpOnly"), "{set}");
}

#[tokio::test]
async fn by_default_a_cookie_that_does_not_come_back_is_explained() {
    let t = TestApp::embedded().await;
    t.tenant("mairie").await;
    t.account("mairie", "camille", "citizen", &[]).await;
    // The default is Secure + __Host-: a browser over plain HTTP from another host drops them.
    let mut b = PlainHttpBrowser::new(&t);
    let (status, _, page) = b.login("mairie", "camille", "camille-password").await;
    assert_eq!(status, 403, "{page}");
    assert!(
        page.contains(
            "Votre navigateur n'a pas renvoyé le cookie de connexion : ce serveur exige HTTPS"
        ),
        "{page}"
    );
    assert!(!page.contains("Formulaire expiré"), "{page}");
    assert!(b.jar.is_empty());
    // The page offers a new form (and its cookie) and keeps what was typed.
    assert!(page.contains("value=\"camille\""), "{page}");
    let r = t.http.get(t.url("/connexion")).send().await.unwrap();
    let set = r.headers()[SET_COOKIE].to_str().unwrap().to_string();
    assert!(set.starts_with("__Host-liasse-login="), "{set}");
    assert!(set.contains("; Secure"), "{set}");

    // A cookie that came back but does not match the form is still a forged form.
    let r = t
        .http
        .post(t.url("/connexion"))
        .header("cookie", "__Host-liasse-login=abc")
        .form(&[
            ("csrf", "other"),
            ("tenant", "mairie"),
            ("login", "camille"),
            ("password", "camille-password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let page = r.text().await.unwrap();
    assert!(page.contains("Formulaire expiré"), "{page}");
}

#[tokio::test]
async fn every_listed_upload_route_exists_and_only_those_take_more_than_the_json_limit() {
    let t = TestApp::embedded_with(|c| c.max_body_bytes = Some(16 * 1024)).await;
    let declared = 64 * 1024;
    let ask = |method: &str, path: &str| {
        let head = format!(
            "{method} {path} HTTP/1.1\r\nhost: liasse\r\ncontent-type: multipart/form-data; boundary=x\r\ncontent-length: {declared}\r\n\r\n"
        );
        let a = addr(&t);
        async move {
            let mut s = TcpStream::connect(a).await.unwrap();
            s.write_all(head.as_bytes()).await.unwrap();
            read_response(&mut s).await
        }
    };
    for (method, pattern) in liasse_http::edge::UPLOAD_ROUTES {
        let path = pattern
            .replace("{id}", "0190b8a0-0000-7000-8000-000000000000")
            .replace("{requirement}", "piece")
            // The page's requirement is in the query.
            .replace("/deposer", "/deposer?exigence=piece");
        let (status, text) = ask(method, &path).await;
        // Refused for want of a session or token (401, or 303 to the login page), never
        // for its size, and never 404/405: the pattern is a real route.
        assert!(
            status == 401 || status == 303,
            "{method} {pattern}: {status} {text}"
        );
    }
    for (method, path) in [
        ("POST", "/api/v1/grants"),
        ("POST", "/demandes"),
        ("POST", "/connexion"),
        ("POST", "/nulle-part"),
    ] {
        let (status, text) = ask(method, path).await;
        assert_eq!(status, 413, "{method} {path}: {text}");
    }
}

/// A JSON login as the client `forwarded_for` names (through the proxy at 127.0.0.1).
async fn login_from(t: &TestApp, forwarded_for: &str, password: &str) -> reqwest::Response {
    t.http
        .post(t.url("/api/v1/session"))
        .header("x-forwarded-for", forwarded_for)
        .json(&serde_json::json!({"tenant": "ville", "login": "camille", "password": password}))
        .send()
        .await
        .unwrap()
}

/// The login limiter sees the client the edge resolved: behind a trusted proxy, the guesses
/// of one client do not slow another down; from an untrusted peer, X-Forwarded-For changes
/// nothing (both "clients" are 127.0.0.1, the guesser included).
#[tokio::test]
async fn two_clients_behind_a_trusted_proxy_are_throttled_separately() {
    for trusted in [true, false] {
        let t = TestApp::embedded_with(|c| {
            if trusted {
                c.trusted_proxies = Some(vec!["127.0.0.0/8".into()]);
            }
        })
        .await;
        t.tenant("ville").await;
        t.account("ville", "camille", "citizen", &[]).await;
        for attempt in 0..5 {
            let r = login_from(&t, "198.51.100.66", &format!("essai-{attempt}")).await;
            assert_eq!(r.status(), 401);
        }
        let r = login_from(&t, "198.51.100.66", "camille-password").await;
        assert_eq!(r.status(), 429, "the guesser is slowed down");
        let r = login_from(&t, "203.0.113.10", "camille-password").await;
        if trusted {
            assert_eq!(r.status(), 200, "camille, from her own address, is not");
        } else {
            assert_eq!(
                r.status(),
                429,
                "a header from an untrusted peer is ignored"
            );
        }
    }
}

#[tokio::test]
async fn a_connection_that_does_nothing_is_cut_by_the_idle_timeout() {
    // The header timeout is out of reach here: only the idle timeout can close it.
    let t = TestApp::embedded_with(|c| {
        c.header_read_timeout_secs = Some(3600);
        c.idle_timeout_secs = Some(1);
    })
    .await;
    // After one request served on it, and from the start.
    let mut used = TcpStream::connect(addr(&t)).await.unwrap();
    used.write_all(b"GET /healthz HTTP/1.1\r\nhost: liasse\r\n\r\n")
        .await
        .unwrap();
    let (status, _) = read_response(&mut used).await;
    assert_eq!(status, 200);
    let mut silent = TcpStream::connect(addr(&t)).await.unwrap();
    assert!(closed_by_server(&mut used).await);
    assert!(closed_by_server(&mut silent).await);
}

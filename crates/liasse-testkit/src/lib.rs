//! A test application on real storage: a temporary SQLite database and directory, or a fresh
//! PostgreSQL database and S3 prefix on the servers started by `scripts/test.sh`.
//!
//! Tests that need PostgreSQL and S3 call [`TestApp::all`]: outside the test script (no
//! `LIASSE_TEST_*` variables) they run on the embedded backend only and say loudly what was
//! skipped; inside it (`LIASSE_TEST_REQUIRE_SERVERS=1`) a missing server is a failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod oidc;

use std::path::PathBuf;

use liasse_app::App;
use liasse_app::config::Config;
use liasse_domain::clock::Clock;
use reqwest::multipart::{Form, Part};
use serde_json::Value;
use sqlx::Connection;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite + local directory.
    Embedded,
    /// PostgreSQL + S3.
    Servers,
}

pub struct TestApp {
    pub backend: Backend,
    pub app: App,
    pub config: Config,
    pub base_url: String,
    pub http: reqwest::Client,
    pub clock: Clock,
    /// Keeps the data directory alive for the test's duration.
    pub dir: tempfile::TempDir,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn require_servers() -> bool {
    std::env::var("LIASSE_TEST_REQUIRE_SERVERS").is_ok_and(|v| v == "1")
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// 2026-01-15 00:00 UTC: tests run on a fixed date so that validity arithmetic is stable.
pub const TEST_START: i64 = 1_768_435_200_000;

impl TestApp {
    /// One app per available backend: always the embedded one, and PostgreSQL + S3 when the
    /// test script provides them.
    pub async fn all() -> Vec<TestApp> {
        TestApp::all_with(|_| {}).await
    }

    /// [`TestApp::all`] with some settings changed on every backend.
    pub async fn all_with(edit: impl Fn(&mut Config)) -> Vec<TestApp> {
        let mut apps = vec![TestApp::embedded_with(&edit).await];
        if let Some(app) = TestApp::servers_with(&edit).await {
            apps.push(app);
        }
        apps
    }

    pub async fn embedded() -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = Config {
            data_dir: Some(dir.path().to_path_buf()),
            ..Config::default()
        };
        TestApp::start(Backend::Embedded, config, dir).await
    }

    /// The embedded backend with some settings changed (limits, timeouts, proxies).
    pub async fn embedded_with(edit: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config {
            data_dir: Some(dir.path().to_path_buf()),
            ..Config::default()
        };
        edit(&mut config);
        TestApp::start(Backend::Embedded, config, dir).await
    }

    /// PostgreSQL + S3, or `None` (with a loud message) when not running under the test script.
    pub async fn servers() -> Option<TestApp> {
        TestApp::servers_with(|_| {}).await
    }

    /// [`TestApp::servers`] with some settings changed.
    pub async fn servers_with(edit: impl FnOnce(&mut Config)) -> Option<TestApp> {
        let (Some(pg), Some(endpoint), Some(bucket)) = (
            env("LIASSE_TEST_PG_URL"),
            env("LIASSE_TEST_S3_ENDPOINT"),
            env("LIASSE_TEST_S3_BUCKET"),
        ) else {
            assert!(
                !require_servers(),
                "LIASSE_TEST_REQUIRE_SERVERS=1 but LIASSE_TEST_PG_URL / LIASSE_TEST_S3_* are not set"
            );
            eprintln!(
                "\n*** SKIPPED: PostgreSQL + S3 backend (run scripts/test.sh to start the servers) ***\n"
            );
            return None;
        };
        let name = format!("liasse_{}", uuid::Uuid::now_v7().simple());
        let mut admin = sqlx::PgConnection::connect(&pg)
            .await
            .expect("connect to the test PostgreSQL server");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("create database");
        let db_url = match pg.rfind('/') {
            Some(i) => format!("{}/{name}", &pg[..i]),
            None => panic!("LIASSE_TEST_PG_URL must end with /DATABASE"),
        };
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config {
            data_dir: Some(dir.path().to_path_buf()),
            database_url: Some(db_url),
            blob_url: Some(format!("s3://{bucket}/{name}")),
            s3_endpoint: Some(endpoint),
            s3_region: env("LIASSE_TEST_S3_REGION"),
            s3_access_key_id: env("LIASSE_TEST_S3_ACCESS_KEY"),
            s3_secret_access_key: env("LIASSE_TEST_S3_SECRET_KEY"),
            ..Config::default()
        };
        edit(&mut config);
        Some(TestApp::start(Backend::Servers, config, dir).await)
    }

    async fn start(backend: Backend, config: Config, dir: tempfile::TempDir) -> TestApp {
        let mut config = with_test_mail(config);
        // Every test client is 127.0.0.1, standing for many users at once (36 parallel
        // requests in foundation): the per-client cap is tested with its own setting.
        config.max_in_flight_per_client.get_or_insert(256);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        // Links in e-mails and the callbacks registered with identity providers name the
        // server as the browser reaches it.
        config
            .public_url
            .get_or_insert_with(|| format!("http://{addr}"));
        let clock = Clock::simulated(TEST_START);
        let app = App::open(config.clone(), clock.clone())
            .await
            .expect("open app");
        // The real server loop (timeouts, connection caps), as `liasse serve` runs it.
        let served = app.clone();
        let server = tokio::spawn(async move {
            let _ = liasse::serve(listener, served, std::future::pending()).await;
        });
        TestApp {
            backend,
            app,
            config,
            base_url: format!("http://{addr}"),
            http: reqwest::Client::new(),
            clock,
            dir,
            server,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Environment for running the `liasse` binary on this app's storage.
    pub fn cli_env(&self) -> Vec<(String, String)> {
        let mut v = vec![(
            "LIASSE_DATA_DIR".to_string(),
            self.dir.path().display().to_string(),
        )];
        let c = &self.config;
        for (k, val) in [
            ("LIASSE_DATABASE_URL", &c.database_url),
            ("LIASSE_BLOB_URL", &c.blob_url),
            ("LIASSE_S3_ENDPOINT", &c.s3_endpoint),
            ("LIASSE_S3_REGION", &c.s3_region),
            ("LIASSE_S3_ACCESS_KEY_ID", &c.s3_access_key_id),
            ("LIASSE_S3_SECRET_ACCESS_KEY", &c.s3_secret_access_key),
        ] {
            if let Some(val) = val {
                v.push((k.to_string(), val.clone()));
            }
        }
        v
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// Creates a tenant with the default catalogue.
    pub async fn tenant(&self, slug: &str) -> String {
        liasse_app::tenants::create(&self.app, slug, &format!("Ville de {slug}"), true)
            .await
            .expect("create tenant")
            .id
    }

    /// How the account of `token` names the citizen `citizen_id` in the API's paths: a service
    /// client by its pairwise id (handed out as an answer of the API would), anyone else by
    /// the citizen's id.
    pub async fn citizen_ref(&self, token: &str, citizen_id: &str) -> String {
        let p = liasse_app::auth::principal_from_token(&self.app, token)
            .await
            .expect("principal")
            .expect("a known token");
        if !liasse_app::pairwise::applies(&p) {
            return citizen_id.to_string();
        }
        liasse_app::pairwise::hand_out(&self.app, &p, &[citizen_id.to_string()])
            .await
            .expect("a pairwise id")
            .remove(citizen_id)
            .expect("the citizen's")
    }

    /// Creates an account and returns a bearer token for it.
    pub async fn account(
        &self,
        tenant: &str,
        login: &str,
        role: &str,
        rights: &[(&str, &str)],
    ) -> String {
        use liasse_app::auth;
        let account = auth::create_user(
            &self.app,
            liasse_domain::journal::Actor::operator(),
            auth::NewUser {
                tenant_slug: tenant,
                login,
                role: liasse_domain::policy::Role::parse(role).expect("role"),
                display_name: Some(&format!("{login} (nom)")),
                email: None,
                service: (!liasse_domain::policy::is_vault_account(role)).then_some("Service test"),
                rights: rights
                    .iter()
                    .map(|(d, l)| (d.to_string(), l.to_string()))
                    .collect(),
                password: None,
            },
        )
        .await
        .expect("create user");
        // Tests log in with `{login}-password`, which the password rule refuses (it contains
        // the login): the fixture writes its hash directly, as a restored database would.
        let hash = auth::hash_password(&format!("{login}-password")).expect("hash");
        let mut tx = self.app.db.begin_write().await.expect("begin");
        liasse_store::accounts::set_password(&mut tx, &account.tenant_id, &account.id, &hash)
            .await
            .expect("set password");
        tx.commit().await.expect("commit");
        // Tests move the clock by months: their tokens must outlive it.
        auth::issue_token(
            &self.app,
            liasse_domain::journal::Actor::operator(),
            auth::NewToken {
                tenant_slug: tenant,
                login,
                scopes: "",
                name: "test",
                lifetime: auth::TokenLifetime::Never,
            },
        )
        .await
        .expect("create token")
        .secret
    }

    pub async fn get(&self, token: &str, path: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    pub async fn get_json(&self, token: &str, path: &str) -> (u16, Value) {
        let r = self.get(token, path).await;
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Sends a request with an optional JSON body; returns status and JSON body.
    pub async fn send(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.http.request(method, self.url(path)).bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.expect("request");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn delete(&self, token: &str, path: &str) -> reqwest::Response {
        self.http
            .delete(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    /// Uploads a file with the given form fields; returns status and JSON body.
    pub async fn upload(
        &self,
        token: &str,
        fields: &[(&str, &str)],
        file_name: &str,
        bytes: Vec<u8>,
    ) -> (u16, Value) {
        let mut form = Form::new();
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        form = form.part("file", Part::bytes(bytes).file_name(file_name.to_string()));
        let r = self
            .http
            .post(self.url("/api/v1/documents"))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .expect("request");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn replace(
        &self,
        token: &str,
        id: &str,
        file_name: &str,
        bytes: Vec<u8>,
    ) -> (u16, Value) {
        let form = Form::new().part("file", Part::bytes(bytes).file_name(file_name.to_string()));
        let r = self
            .http
            .put(self.url(&format!("/api/v1/documents/{id}/content")))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .expect("request");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Rows in the document tables and objects in the blob store.
    pub async fn storage_counts(&self) -> (i64, i64, usize) {
        use futures::TryStreamExt;
        let (d, v) = liasse_store::documents::counts(&self.app.db)
            .await
            .expect("counts");
        let blobs: Vec<String> = self
            .app
            .blobs
            .list()
            .try_collect()
            .await
            .expect("list blobs");
        (d, v, blobs.len())
    }
}

/// Points the app's mail at the SMTP sink started by `scripts/test.sh`
/// (`LIASSE_TEST_SMTP_URL`), when there is one.
pub fn with_test_mail(mut config: Config) -> Config {
    if let Some(url) = env("LIASSE_TEST_SMTP_URL") {
        config.smtp_url = Some(url);
        // The sink speaks plain SMTP on loopback.
        config.smtp_starttls = Some(false);
        config.mail_from = Some("Liasse <ne-pas-repondre@liasse.test>".into());
    }
    config
}

/// Where the SMTP sink writes the messages it accepts (`LIASSE_TEST_SMTP_DIR`), or `None`,
/// loudly, outside the test script: mail tests then check only the outbox table.
pub fn smtp_dir() -> Option<PathBuf> {
    match (env("LIASSE_TEST_SMTP_URL"), env("LIASSE_TEST_SMTP_DIR")) {
        (Some(_), Some(dir)) => Some(PathBuf::from(dir)),
        _ => {
            assert!(
                !require_servers(),
                "LIASSE_TEST_REQUIRE_SERVERS=1 but LIASSE_TEST_SMTP_URL / LIASSE_TEST_SMTP_DIR are not set"
            );
            eprintln!(
                "\n*** SKIPPED: delivery to a real SMTP server (run scripts/test.sh to start one); checking the outbox only ***\n"
            );
            None
        }
    }
}

/// The clamd started by `scripts/test.sh`, with its generated signatures.
pub struct Clamd {
    /// `127.0.0.1:PORT`, for `clamd_address`.
    pub addr: String,
    /// A PNG whose MD5 is one of clamd's signatures (`Liasse.Test.Signed`).
    pub signed_file: Vec<u8>,
}

/// clamd (`LIASSE_TEST_CLAMD_ADDR`, `LIASSE_TEST_CLAMD_SIGNED_FILE`), or `None`, loudly,
/// outside the test script; inside it, a missing clamd is a failure.
pub fn clamd() -> Option<Clamd> {
    match (
        env("LIASSE_TEST_CLAMD_ADDR"),
        env("LIASSE_TEST_CLAMD_SIGNED_FILE"),
    ) {
        (Some(addr), Some(path)) => Some(Clamd {
            addr,
            signed_file: std::fs::read(&path).expect("read LIASSE_TEST_CLAMD_SIGNED_FILE"),
        }),
        _ => {
            assert!(
                !require_servers(),
                "LIASSE_TEST_REQUIRE_SERVERS=1 but LIASSE_TEST_CLAMD_ADDR / LIASSE_TEST_CLAMD_SIGNED_FILE are not set"
            );
            eprintln!(
                "\n*** SKIPPED: scans by a real clamd (run scripts/test.sh to start one) ***\n"
            );
            None
        }
    }
}

/// The messages the SMTP sink received for `address` (one JSON object per message: `subject`,
/// `body`, `from`, `to`, `message_id`, `rcpt_tos`), oldest first.
pub fn mails_to(dir: &std::path::Path, address: &str) -> Vec<Value> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read the SMTP sink's directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    names.sort();
    names
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        .filter_map(|b| serde_json::from_slice::<Value>(&b).ok())
        .filter(|m| {
            m["rcpt_tos"]
                .as_array()
                .is_some_and(|r| r.iter().any(|a| a.as_str() == Some(address)))
        })
        .collect()
}

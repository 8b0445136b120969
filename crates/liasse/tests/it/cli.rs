//! Running the `liasse` binary itself on a test app's storage.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use liasse_testkit::TestApp;

/// Runs `liasse ARGS` with the app's storage configuration, feeding `stdin`.
pub fn liasse(app: &TestApp, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_liasse"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn");
    for (k, v) in app.cli_env() {
        cmd.env(k, v);
    }
    cmd.current_dir(app.data_dir());
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn liasse");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("wait for liasse")
}

pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The README's first command, `cargo run --release -- demo` at the workspace root, needs one
/// binary to choose from: the workspace's default members must be the server alone (the
/// bench crate has a binary too, and `cargo run` then refuses to guess).
#[test]
fn readme_first_command_runs_the_server() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    assert!(
        readme.contains("cargo run --release -- demo"),
        "the README starts with `cargo run --release -- demo`"
    );
    let manifest: toml::Table = std::fs::read_to_string(root.join("Cargo.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let defaults = manifest["workspace"]
        .get("default-members")
        .and_then(|d| d.as_array())
        .expect("[workspace] default-members");
    assert_eq!(
        defaults,
        &vec![toml::Value::from("crates/liasse")],
        "`cargo run` at the root must find one binary, the server's"
    );
    let server: toml::Table = std::fs::read_to_string(root.join("crates/liasse/Cargo.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let bins = server["bin"].as_array().unwrap();
    assert_eq!(bins.len(), 1, "one binary in the liasse crate");
    assert_eq!(bins[0]["name"].as_str(), Some("liasse"));
}

/// The operator disables any account from the command line, an admin's included (the admin
/// pages reach agents and managers only), and enables it again; an unknown login changes
/// nothing.
#[tokio::test(flavor = "multi_thread")]
async fn user_disable_and_enable_from_the_command_line() {
    let t = TestApp::embedded().await;
    t.tenant("cli").await;
    let token = t.account("cli", "ancien-admin", "admin", &[]).await;
    assert_eq!(t.get(&token, "/api/v1/notifications").await.status(), 200);

    let out = liasse(
        &t,
        &[
            "user",
            "disable",
            "--tenant",
            "cli",
            "--login",
            "ancien-admin",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("user ancien-admin disabled"),
        "{}",
        text(&out)
    );
    assert_eq!(t.get(&token, "/api/v1/notifications").await.status(), 401);

    let out = liasse(
        &t,
        &["user", "disable", "--tenant", "cli", "--login", "personne"],
        None,
    );
    assert!(!out.status.success(), "unknown login: {}", text(&out));

    let out = liasse(
        &t,
        &[
            "user",
            "enable",
            "--tenant",
            "cli",
            "--login",
            "ancien-admin",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(t.get(&token, "/api/v1/notifications").await.status(), 200);
}

//! API tokens: a lifetime, a name, a list and a revocation (issue 22, point 5).

use liasse_app::auth::{self, TokenLifetime};
use liasse_app::error::AppError;
use liasse_domain::clock::DAY_MS;
use liasse_domain::journal::Actor;
use liasse_testkit::TestApp;
use reqwest::Method;
use serde_json::Value;

use crate::cli::{liasse, text};
use crate::vault::{assert_problem, reply, req};

async fn issue(t: &TestApp, login: &str, name: &str, lifetime: TokenLifetime) -> auth::IssuedToken {
    auth::issue_token(
        &t.app,
        Actor::operator(),
        auth::NewToken {
            tenant_slug: "ville",
            login,
            scopes: "",
            name,
            lifetime,
        },
    )
    .await
    .unwrap()
}

async fn status(t: &TestApp, token: &str) -> u16 {
    t.get(token, "/api/v1/notifications")
        .await
        .status()
        .as_u16()
}

async fn journal_actions(t: &TestApp, action: &str) -> Vec<Value> {
    let rows = sqlx::query("SELECT details FROM journal WHERE action = $1 ORDER BY at, seq")
        .bind(action)
        .fetch_all(t.app.db.pool())
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            let details: String = sqlx::Row::try_get(r, "details").unwrap();
            serde_json::from_str(&details).unwrap()
        })
        .collect()
}

/// On main every token lived for ever. Now a token has a lifetime (90 days unless told) and
/// is refused, with a 401 problem, from the moment it expires; `never` is only what it says.
#[tokio::test(flavor = "multi_thread")]
async fn tokens_expire_by_default_after_90_days_or_when_told() {
    let t = TestApp::embedded().await;
    t.tenant("ville").await;
    t.account("ville", "camille", "citizen", &[]).await;
    let default = auth::create_token(&t.app, Actor::operator(), "ville", "camille", "", "")
        .await
        .unwrap();
    let short = issue(&t, "camille", "essai", TokenLifetime::parse("12h").unwrap()).await;
    let service = issue(&t, "camille", "moteur", TokenLifetime::Never).await;
    assert_eq!(short.expires_at, Some(t.app.now() + 12 * 3_600_000));
    for token in [&default, &short.secret, &service.secret] {
        assert_eq!(status(&t, token).await, 200);
    }

    t.clock.advance(12 * 3_600_000);
    let r = reply(req(&t, Method::GET, "/api/v1/notifications", &short.secret)).await;
    assert_problem(&r, 401, "unauthenticated", "expired after 12 hours");
    assert_eq!(status(&t, &default).await, 200);

    t.clock.advance(90 * DAY_MS - 12 * 3_600_000 - 1);
    assert_eq!(status(&t, &default).await, 200, "the last millisecond");
    t.clock.advance(1);
    let r = reply(req(&t, Method::GET, "/api/v1/documents", &default)).await;
    assert_problem(&r, 401, "unauthenticated", "expired after 90 days");
    assert_eq!(status(&t, &service.secret).await, 200, "never expires");

    let (_, list) = t.get_json(&service.secret, "/api/v1/tokens").await;
    let states: Vec<(&str, &str)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["name"].as_str().unwrap(), t["state"].as_str().unwrap()))
        .collect();
    assert_eq!(
        states,
        [
            ("moteur", "active"),
            ("essai", "expired"),
            ("", "expired"),
            ("test", "active")
        ]
    );
}

/// Every account lists and revokes its own tokens; a revoked token is refused at once; another
/// account's token id (same town or not) is not found and stays valid.
#[tokio::test(flavor = "multi_thread")]
async fn accounts_list_and_revoke_their_own_tokens_only() {
    let t = TestApp::embedded().await;
    t.tenant("ville").await;
    t.tenant("autre").await;
    let camille = t.account("ville", "camille", "citizen", &[]).await;
    let bob = t.account("ville", "bob", "citizen", &[]).await;
    let agent = t
        .account("ville", "dominique", "agent", &[("scolaire", "manage")])
        .await;
    let elsewhere = t.account("autre", "admin", "admin", &[]).await;
    let phone = issue(&t, "camille", "Téléphone", TokenLifetime::DEFAULT).await;

    let r = reply(req(&t, Method::GET, "/api/v1/tokens", &camille)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let list = r.json();
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    assert_eq!(list[0]["id"], phone.id.as_str());
    assert_eq!(list[0]["name"], "Téléphone");
    assert_eq!(list[0]["login"], "camille");
    assert_eq!(list[0]["state"], "active");
    assert_eq!(
        list[0]["expires_at"].as_i64(),
        Some(t.app.now() + 90 * DAY_MS)
    );
    assert_eq!(list[1]["expires_at"], Value::Null);
    for secret in [&camille, &phone.secret] {
        assert!(!r.text().contains(secret.as_str()), "no secret listed");
        assert!(
            !r.text().contains(&auth::secret_hash(secret)),
            "no hash listed"
        );
    }
    let (_, bobs) = t.get_json(&bob, "/api/v1/tokens").await;
    assert_eq!(bobs.as_array().unwrap().len(), 1, "{bobs}");
    assert!(!bobs.to_string().contains(&phone.id));

    for (who, token) in [("bob", &bob), ("agent", &agent), ("other town", &elsewhere)] {
        let r = reply(req(
            &t,
            Method::DELETE,
            &format!("/api/v1/tokens/{}", phone.id),
            token,
        ))
        .await;
        assert_problem(&r, 404, "not-found", who);
    }
    let r = reply(req(
        &t,
        Method::DELETE,
        "/api/v1/tokens/rien-de-tel",
        &camille,
    ))
    .await;
    assert_problem(&r, 404, "not-found", "unknown id");
    assert_eq!(status(&t, &phone.secret).await, 200, "still valid");
    assert!(journal_actions(&t, "token.revoke").await.is_empty());

    let r = reply(req(
        &t,
        Method::DELETE,
        &format!("/api/v1/tokens/{}", phone.id),
        &camille,
    ))
    .await;
    assert_eq!(r.status, 204, "{}", r.text());
    let r = reply(req(&t, Method::GET, "/api/v1/tokens", &phone.secret)).await;
    assert_problem(&r, 401, "unauthenticated", "revoked");
    assert_eq!(status(&t, &camille).await, 200, "her other token");
    let (_, list) = t.get_json(&camille, "/api/v1/tokens").await;
    assert_eq!(list[0]["state"], "revoked");
    assert_eq!(list[0]["revoked_at"].as_i64(), Some(t.app.now()));
    // Twice is harmless and journalled once; the citizen sees it in her journal.
    let r = reply(req(
        &t,
        Method::DELETE,
        &format!("/api/v1/tokens/{}", phone.id),
        &camille,
    ))
    .await;
    assert_eq!(r.status, 204);
    assert_eq!(journal_actions(&t, "token.revoke").await.len(), 1);
    let (_, journal) = t.get_json(&camille, "/api/v1/journal").await;
    let actions: Vec<&str> = journal
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"token.revoke") && actions.contains(&"token.create"),
        "{journal}"
    );

    // An agent revokes its own token the same way.
    let (_, mine) = t.get_json(&agent, "/api/v1/tokens").await;
    let id = mine[0]["id"].as_str().unwrap();
    let r = reply(req(
        &t,
        Method::DELETE,
        &format!("/api/v1/tokens/{id}"),
        &agent,
    ))
    .await;
    assert_eq!(r.status, 204);
    assert_eq!(status(&t, &agent).await, 401);
}

/// The operator creates a named token with a lifetime, lists tokens (never a secret) and
/// revokes one; the server refuses it from the next request on.
#[tokio::test(flavor = "multi_thread")]
async fn the_operator_creates_lists_and_revokes_tokens() {
    let t = TestApp::embedded().await;
    t.tenant("ville").await;
    t.tenant("autre").await;
    t.account("ville", "camille", "citizen", &[]).await;
    t.account("ville", "wcs", "service", &[]).await;
    t.account("autre", "wcs", "service", &[]).await;

    let out = liasse(
        &t,
        &[
            "token",
            "create",
            "--tenant",
            "ville",
            "--login",
            "wcs",
            "--scopes",
            "deposit",
            "--name",
            "Moteur de formulaires",
            "--expires",
            "30d",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    let secret = stdout.trim();
    assert!(
        secret.starts_with("lss_") && !secret.contains('\n'),
        "stdout is the secret alone: {stdout}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("expires"), "{stderr}");
    assert_eq!(status(&t, secret).await, 200);
    let created = journal_actions(&t, "token.create").await;
    let last = created.last().unwrap();
    assert_eq!(last["name"], "Moteur de formulaires");
    assert_eq!(last["scopes"], "deposit");

    let (_, mine) = t.get_json(secret, "/api/v1/tokens").await;
    let id = mine[0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        mine[0]["expires_at"].as_i64().unwrap() - mine[0]["created_at"].as_i64().unwrap(),
        30 * DAY_MS
    );

    let out = liasse(&t, &["token", "list", "--tenant", "ville"], None);
    assert!(out.status.success(), "{}", text(&out));
    let listing = text(&out);
    assert!(
        listing.starts_with("id\tname\tlogin\tcreated\texpires\tstate\n"),
        "{listing}"
    );
    assert!(
        listing.contains(&format!("{id}\tMoteur de formulaires\twcs\t")),
        "{listing}"
    );
    assert!(listing.contains("\tcamille\t"), "{listing}");
    assert!(!listing.contains(secret) && !listing.contains(&auth::secret_hash(secret)));
    let out = liasse(
        &t,
        &["token", "list", "--tenant", "ville", "--login", "camille"],
        None,
    );
    assert!(out.status.success());
    assert!(!text(&out).contains(&id), "{}", text(&out));
    let out = liasse(
        &t,
        &["token", "list", "--tenant", "ville", "--login", "personne"],
        None,
    );
    assert!(!out.status.success(), "{}", text(&out));

    // Another town's operator command does not reach this token.
    let out = liasse(&t, &["token", "revoke", "--tenant", "autre", &id], None);
    assert!(!out.status.success(), "{}", text(&out));
    assert_eq!(status(&t, secret).await, 200);

    let out = liasse(&t, &["token", "revoke", "--tenant", "ville", &id], None);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("token {id} of wcs revoked")),
        "{}",
        text(&out)
    );
    let r = reply(req(&t, Method::GET, "/api/v1/tokens", secret)).await;
    assert_problem(&r, 401, "unauthenticated", "revoked by the operator");
    let out = liasse(
        &t,
        &["token", "list", "--tenant", "ville", "--login", "wcs"],
        None,
    );
    assert!(
        text(&out).contains(&format!("{id}\tMoteur de formulaires\twcs\t"))
            && text(&out).contains("\trevoked\n"),
        "{}",
        text(&out)
    );
    assert_eq!(journal_actions(&t, "token.revoke").await.len(), 1);

    let out = liasse(
        &t,
        &["token", "revoke", "--tenant", "ville", "pas-un-jeton"],
        None,
    );
    assert!(!out.status.success(), "{}", text(&out));
}

/// A lifetime that is not a number of days, hours or minutes is refused with a sentence that
/// says what would do, and no token is created.
#[tokio::test(flavor = "multi_thread")]
async fn bad_durations_are_refused_with_a_clear_message() {
    let t = TestApp::embedded().await;
    t.tenant("ville").await;
    t.account("ville", "camille", "citizen", &[]).await;
    let before = journal_actions(&t, "token.create").await.len();
    for bad in [
        "3x",
        "0d",
        "-5d",
        "99999d",
        "",
        "d",
        "1.5d",
        "30 d",
        "toujours",
        "9223372036854775807m",
    ] {
        let out = liasse(
            &t,
            &[
                "token",
                "create",
                "--tenant",
                "ville",
                "--login",
                "camille",
                &format!("--expires={bad}"),
            ],
            None,
        );
        assert!(!out.status.success(), "{bad:?}: {}", text(&out));
        let said = text(&out);
        assert!(
            said.contains("invalide") && said.contains("30d") && said.contains("never"),
            "{bad:?}: {said}"
        );
        assert!(out.stdout.is_empty(), "{bad:?}: no secret printed");
        assert!(matches!(
            TokenLifetime::parse(bad),
            Err(AppError::Invalid {
                code: "invalid-duration",
                ..
            })
        ));
    }
    assert_eq!(journal_actions(&t, "token.create").await.len(), before);
    assert_eq!(
        TokenLifetime::parse("90m").unwrap(),
        TokenLifetime::Millis(90 * 60_000)
    );
    assert_eq!(
        TokenLifetime::parse("12h").unwrap(),
        TokenLifetime::Millis(12 * 3_600_000)
    );
    assert_eq!(TokenLifetime::parse("never").unwrap(), TokenLifetime::Never);

    let out = liasse(
        &t,
        &[
            "token",
            "create",
            "--tenant",
            "ville",
            "--login",
            "camille",
            "--expires",
            "never",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("never expires"), "{}", text(&out));
}

//! The staff's second factor (issue 14): an admin enrols a TOTP from their security page,
//! logs in with a code, is refused a wrong or reused one, spends a recovery code once; wrong
//! codes are slowed like wrong passwords; a tenant that requires it makes its admins enrol at
//! login; the operator resets a lost factor; the API takes the code in the login body.

use liasse_app::auth::second_factor;
use liasse_crypto::TotpSecret;
use liasse_domain::journal::Actor;
use liasse_testkit::TestApp;
use serde_json::json;
use sqlx::Row;

use crate::federation::{Answer, Browser, csrf};

const SESSION: &str = "__Host-liasse";

/// Logs in through the login page; the answer to the password form.
async fn password(t: &TestApp, b: &mut Browser, login: &str) -> Answer {
    let form = b.get(&t.url("/connexion")).await;
    assert_eq!(form.status, 200);
    let token = csrf(&form.body);
    let pw = format!("{login}-password");
    b.post(
        &t.url("/connexion"),
        &[
            ("csrf", token.as_str()),
            ("tenant", "ville"),
            ("login", login),
            ("password", pw.as_str()),
            ("suite", ""),
        ],
    )
    .await
}

fn location(a: &Answer) -> String {
    a.location
        .as_ref()
        .map(|l| l.path().to_string())
        .unwrap_or_default()
}

/// The code page's form answered with `code`.
async fn code(t: &TestApp, b: &mut Browser, code: &str) -> Answer {
    let page = b.get(&t.url("/connexion/code")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let token = csrf(&page.body);
    b.post(
        &t.url("/connexion/code"),
        &[("csrf", token.as_str()), ("code", code), ("suite", "")],
    )
    .await
}

/// The key shown beside the QR code.
fn shown_secret(body: &str) -> TotpSecret {
    assert!(body.contains("<svg"), "a QR code: {body}");
    let marker = "la clé <code>";
    let start = body.find(marker).expect("the key in clear") + marker.len();
    let end = start + body[start..].find("</code>").unwrap();
    TotpSecret::from_base32(&body[start..end]).unwrap()
}

fn recovery_codes(body: &str) -> Vec<String> {
    body.split("<li><code>")
        .skip(1)
        .map(|s| s[..s.find("</code>").unwrap()].to_string())
        .collect()
}

fn now_code(t: &TestApp, s: &TotpSecret) -> String {
    s.code_at(u64::try_from(t.app.now() / 1000).unwrap())
}

/// A code that is not the right one at this time, whatever the secret.
fn wrong(t: &TestApp, s: &TotpSecret) -> String {
    let right = now_code(t, s);
    ["000000", "111111"]
        .into_iter()
        .find(|c| *c != right)
        .unwrap()
        .to_string()
}

async fn sessions(t: &TestApp) -> i64 {
    sqlx::query("SELECT COUNT(*) AS n FROM sessions")
        .fetch_one(t.app.db.pool())
        .await
        .unwrap()
        .try_get("n")
        .unwrap()
}

/// Enrols `login` from the security page; the secret and the recovery codes.
async fn enrol(t: &TestApp, b: &mut Browser) -> (TotpSecret, Vec<String>) {
    let page = b.get(&t.url("/compte/securite")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Non activé"), "{}", page.body);
    let token = csrf(&page.body);
    let started = b
        .post(
            &t.url("/compte/securite/activer"),
            &[("csrf", token.as_str())],
        )
        .await;
    assert_eq!(started.status, 200, "{}", started.body);
    let secret = shown_secret(&started.body);
    // Not active until a first code confirms it.
    let w = wrong(t, &secret);
    let refused = b
        .post(
            &t.url("/compte/securite/confirmer"),
            &[("csrf", token.as_str()), ("code", w.as_str())],
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(refused.body.contains("pas le bon"), "{}", refused.body);
    let c = now_code(t, &secret);
    let done = b
        .post(
            &t.url("/compte/securite/confirmer"),
            &[("csrf", token.as_str()), ("code", c.as_str())],
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    let codes = recovery_codes(&done.body);
    assert_eq!(codes.len(), second_factor::RECOVERY_CODES, "{}", done.body);
    (secret, codes)
}

#[tokio::test]
async fn an_admin_enrols_logs_in_with_a_code_is_refused_wrong_and_reused_ones_and_uses_a_recovery_code_once()
 {
    for t in TestApp::all().await {
        t.tenant("ville").await;
        t.account("ville", "ada", "admin", &[]).await;
        let mut b = Browser::new();
        let first = password(&t, &mut b, "ada").await;
        assert_eq!(location(&first), "/admin", "no factor yet: straight in");
        let (secret, codes) = enrol(&t, &mut b).await;
        let page = b.get(&t.url("/compte/securite")).await;
        assert!(
            page.body.contains("Codes de secours restants : 10"),
            "{}",
            page.body
        );

        // The seed is sealed: its base32 and its bytes are nowhere in the database's rows.
        let sealed: Vec<u8> =
            sqlx::query("SELECT sealed FROM sealed_secrets WHERE name LIKE 'totp:%'")
                .fetch_one(t.app.db.pool())
                .await
                .unwrap()
                .try_get("sealed")
                .unwrap();
        assert!(
            !sealed
                .windows(secret.as_bytes().len())
                .any(|w| w == secret.as_bytes())
        );

        // The password alone opens no session now.
        let before = sessions(&t).await;
        let mut b = Browser::new();
        let asked = password(&t, &mut b, "ada").await;
        assert_eq!(location(&asked), "/connexion/code");
        assert!(!b.has(SESSION), "no session cookie before the code");
        assert_eq!(sessions(&t).await, before);
        // A wrong code, then the code already used to confirm (same time step): refused.
        let w = wrong(&t, &secret);
        let r = code(&t, &mut b, &w).await;
        assert_eq!(r.status, 400, "{}", r.body);
        assert!(r.body.contains("pas le bon"), "{}", r.body);
        let reused = now_code(&t, &secret);
        let r = code(&t, &mut b, &reused).await;
        assert_eq!(r.status, 400, "a code works once: {}", r.body);
        assert!(!b.has(SESSION));
        assert_eq!(sessions(&t).await, before);
        // Thirty seconds later, the new code opens the session.
        t.clock.advance(30_000);
        let c = now_code(&t, &secret);
        let r = code(&t, &mut b, &c).await;
        assert_eq!(r.status, 303, "{}", r.body);
        assert_eq!(location(&r), "/admin");
        assert!(b.has(SESSION));
        assert!(!b.has("__Host-liasse-2fa"), "the waiting login is over");
        let basis: String = sqlx::query(
            "SELECT basis_kind FROM journal WHERE action = 'session.login' ORDER BY seq DESC LIMIT 1",
        )
        .fetch_one(t.app.db.pool())
        .await
        .unwrap()
        .try_get("basis_kind")
        .unwrap();
        assert_eq!(basis, "password+totp");

        // The same code again, on another login: refused.
        let mut b2 = Browser::new();
        password(&t, &mut b2, "ada").await;
        let r = code(&t, &mut b2, &c).await;
        assert_eq!(r.status, 400, "{}", r.body);
        // A recovery code instead (typed in lower case, without dashes): in, once.
        let typed = codes[0].replace('-', "").to_lowercase();
        let r = code(&t, &mut b2, &typed).await;
        assert_eq!(r.status, 303, "{}", r.body);
        assert!(b2.has(SESSION));
        let mut b3 = Browser::new();
        password(&t, &mut b3, "ada").await;
        let r = code(&t, &mut b3, &codes[0]).await;
        assert_eq!(r.status, 400, "a recovery code works once: {}", r.body);
        let page = b2.get(&t.url("/compte/securite")).await;
        assert!(
            page.body.contains("Codes de secours restants : 9"),
            "{}",
            page.body
        );

        // The API: the code in the body, or a clear refusal.
        let api = |body: serde_json::Value| {
            let http = t.http.clone();
            let url = t.url("/api/v1/session");
            async move {
                let r = http.post(url).json(&body).send().await.unwrap();
                let status = r.status().as_u16();
                (
                    status,
                    r.json::<serde_json::Value>().await.unwrap_or_default(),
                )
            }
        };
        let (status, body) =
            api(json!({"tenant": "ville", "login": "ada", "password": "ada-password"})).await;
        assert_eq!(status, 400);
        assert!(
            body["type"]
                .as_str()
                .unwrap()
                .ends_with("second-factor-required"),
            "{body}"
        );
        let (status, body) = api(json!({"tenant": "ville", "login": "ada",
            "password": "ada-password", "code": wrong(&t, &secret)}))
        .await;
        assert_eq!(status, 400);
        assert!(
            body["type"]
                .as_str()
                .unwrap()
                .ends_with("second-factor-invalid"),
            "{body}"
        );
        t.clock.advance(30_000);
        let (status, body) = api(json!({"tenant": "ville", "login": "ada",
            "password": "ada-password", "code": now_code(&t, &secret)}))
        .await;
        assert_eq!(status, 200, "{body}");
        // A wrong password with a right code is still a wrong password.
        t.clock.advance(30_000);
        let (status, _) = api(json!({"tenant": "ville", "login": "ada",
            "password": "pas-le-bon", "code": now_code(&t, &secret)}))
        .await;
        assert_eq!(status, 401);

        // Renewing the codes asks a current code; the old ones stop working.
        t.clock.advance(30_000);
        let page = b2.get(&t.url("/compte/securite")).await;
        let token = csrf(&page.body);
        let c = now_code(&t, &secret);
        let renewed = b2
            .post(
                &t.url("/compte/securite/codes"),
                &[("csrf", token.as_str()), ("code", c.as_str())],
            )
            .await;
        assert_eq!(renewed.status, 200, "{}", renewed.body);
        let fresh = recovery_codes(&renewed.body);
        assert_eq!(fresh.len(), 10);
        let mut b4 = Browser::new();
        password(&t, &mut b4, "ada").await;
        let r = code(&t, &mut b4, &codes[1]).await;
        assert_eq!(r.status, 400, "old codes are gone");
        let r = code(&t, &mut b4, &fresh[0]).await;
        assert_eq!(r.status, 303);

        // Turning it off asks a code too, and then the password is enough again.
        t.clock.advance(30_000);
        let w = wrong(&t, &secret);
        let kept = b2
            .post(
                &t.url("/compte/securite/desactiver"),
                &[("csrf", token.as_str()), ("code", w.as_str())],
            )
            .await;
        assert_eq!(kept.status, 400);
        let c = now_code(&t, &secret);
        let off = b2
            .post(
                &t.url("/compte/securite/desactiver"),
                &[("csrf", token.as_str()), ("code", c.as_str())],
            )
            .await;
        assert_eq!(off.status, 200, "{}", off.body);
        let mut b5 = Browser::new();
        assert_eq!(location(&password(&t, &mut b5, "ada").await), "/admin");
        let actions: Vec<String> = sqlx::query(
            "SELECT action FROM journal WHERE action LIKE 'second_factor.%' ORDER BY seq",
        )
        .fetch_all(t.app.db.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get("action").unwrap())
        .collect();
        assert_eq!(
            actions,
            [
                "second_factor.enrol",
                "second_factor.recovery_code",
                "second_factor.recovery_renew",
                "second_factor.recovery_code",
                "second_factor.disable"
            ]
        );
    }
}

#[tokio::test]
async fn wrong_codes_end_the_waiting_login_and_are_slowed_like_passwords() {
    let t = TestApp::embedded().await;
    t.tenant("ville").await;
    t.account("ville", "ada", "admin", &[]).await;
    let mut b = Browser::new();
    password(&t, &mut b, "ada").await;
    let (secret, _) = enrol(&t, &mut b).await;
    let w = wrong(&t, &secret);

    let mut b = Browser::new();
    password(&t, &mut b, "ada").await;
    for i in 1..second_factor::MAX_FAILURES {
        let r = code(&t, &mut b, &w).await;
        assert_eq!(r.status, 400, "wrong code {i}");
    }
    let page = b.get(&t.url("/connexion/code")).await;
    let token = csrf(&page.body);
    let last = b
        .post(
            &t.url("/connexion/code"),
            &[
                ("csrf", token.as_str()),
                ("code", w.as_str()),
                ("suite", ""),
            ],
        )
        .await;
    assert_eq!(location(&last), "/connexion", "the password is asked again");
    let again = b.get(&t.url("/connexion/code")).await;
    assert_eq!(location(&again), "/connexion");
    let login_page = b.get(&t.url("/connexion?code=expire")).await;
    assert!(
        login_page.body.contains("La connexion a expiré"),
        "{}",
        login_page.body
    );

    // A new waiting login does not reset the count: the next wrong code waits, then even the
    // right one waits until the delay is over.
    let mut b = Browser::new();
    password(&t, &mut b, "ada").await;
    let r = code(&t, &mut b, &w).await;
    assert_eq!(r.status, 429, "{}", r.body);
    t.clock.advance(30_000);
    let c = now_code(&t, &secret);
    let r = code(&t, &mut b, &c).await;
    assert_eq!(r.status, 303, "after the delay: {}", r.body);
    assert!(b.has(SESSION));
}

#[tokio::test]
async fn a_tenant_that_requires_it_makes_its_admins_enrol_at_login_and_the_operator_resets_it() {
    for t in TestApp::all().await {
        t.tenant("ville").await;
        t.account("ville", "ada", "admin", &[]).await;
        t.account("ville", "dominique", "agent", &[("scolaire", "modify")])
            .await;
        let out = crate::cli::liasse(
            &t,
            &[
                "tenant",
                "second-factor",
                "ville",
                "--require-for-admins",
                "true",
            ],
            None,
        );
        assert!(out.status.success(), "{out:?}");

        // Agents are not concerned.
        let mut b = Browser::new();
        assert_eq!(location(&password(&t, &mut b, "dominique").await), "/agent");

        let before = sessions(&t).await;
        let mut b = Browser::new();
        let asked = password(&t, &mut b, "ada").await;
        assert_eq!(location(&asked), "/connexion/code");
        let page = b.get(&t.url("/connexion/code")).await;
        assert!(
            page.body.contains("Activez votre second facteur"),
            "{}",
            page.body
        );
        let secret = shown_secret(&page.body);
        // The same seed each time the page is opened.
        let again = b.get(&t.url("/connexion/code")).await;
        assert_eq!(shown_secret(&again.body).as_bytes(), secret.as_bytes());
        // No recovery code stands in for an enrolment.
        let r = code(&t, &mut b, "ABCD-EFGH-JKMN-PQRS").await;
        assert_eq!(r.status, 400);
        assert_eq!(sessions(&t).await, before);
        let c = now_code(&t, &secret);
        let done = code(&t, &mut b, &c).await;
        assert_eq!(done.status, 200, "{}", done.body);
        assert_eq!(recovery_codes(&done.body).len(), 10);
        assert!(b.has(SESSION), "the session opens with the codes shown");
        // The API asks the code from now on; a required factor cannot be turned off.
        let page = b.get(&t.url("/compte/securite")).await;
        assert!(
            page.body.contains("ne peut pas être désactivé"),
            "{}",
            page.body
        );
        t.clock.advance(30_000);
        let token = csrf(&page.body);
        let c = now_code(&t, &secret);
        let kept = b
            .post(
                &t.url("/compte/securite/desactiver"),
                &[("csrf", token.as_str()), ("code", c.as_str())],
            )
            .await;
        assert_eq!(kept.status, 400, "{}", kept.body);

        // A lost phone: the operator removes it, journalled; the admin enrols again.
        let out = crate::cli::liasse(
            &t,
            &[
                "user",
                "reset-second-factor",
                "--tenant",
                "ville",
                "--login",
                "ada",
            ],
            None,
        );
        assert!(out.status.success(), "{out:?}");
        assert!(String::from_utf8_lossy(&out.stdout).contains("removed"));
        let mut b = Browser::new();
        password(&t, &mut b, "ada").await;
        let page = b.get(&t.url("/connexion/code")).await;
        let fresh = shown_secret(&page.body);
        assert_ne!(fresh.as_bytes(), secret.as_bytes(), "a new seed");
        let n: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM journal WHERE action = 'second_factor.reset' AND actor_kind = 'operator'",
        )
        .fetch_one(t.app.db.pool())
        .await
        .unwrap()
        .try_get("n")
        .unwrap();
        assert_eq!(n, 1);
        assert!(
            !second_factor::reset(&t.app, Actor::operator(), "ville", "dominique")
                .await
                .unwrap(),
            "an account without a factor: nothing to reset"
        );
    }
}

#[tokio::test]
async fn bad_input_on_the_second_factor_changes_nothing() {
    let t = TestApp::embedded().await;
    t.tenant("ville").await;
    t.account("ville", "ada", "admin", &[]).await;
    t.account("ville", "camille", "citizen", &[]).await;
    // The setting takes a boolean only.
    let p = liasse_app::auth::principal_for_login(&t.app, "ville", "ada")
        .await
        .unwrap();
    let refused =
        liasse_app::admin::set_settings(&t.app, &p, json!({"require_admin_totp": "oui"})).await;
    assert!(
        matches!(
            refused,
            Err(liasse_app::error::AppError::Invalid {
                code: "invalid-settings",
                ..
            })
        ),
        "{refused:?}"
    );
    // A citizen has no security page.
    let mut b = Browser::new();
    password(&t, &mut b, "camille").await;
    let page = b.get(&t.url("/compte/securite")).await;
    assert_eq!(page.status, 403, "{}", page.body);
    // No waiting login, a forged cookie, a form without its token.
    let mut b = Browser::new();
    let r = b.get(&t.url("/connexion/code")).await;
    assert_eq!(location(&r), "/connexion");
    let r = b
        .post(
            &t.url("/connexion/code"),
            &[("csrf", "forged"), ("code", "123456")],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(sessions(&t).await, 1, "the citizen's only");
    // Enrolment twice, a confirmation without a start.
    let mut b = Browser::new();
    password(&t, &mut b, "ada").await;
    let page = b.get(&t.url("/compte/securite")).await;
    let token = csrf(&page.body);
    let r = b
        .post(
            &t.url("/compte/securite/confirmer"),
            &[("csrf", token.as_str()), ("code", "123456")],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("Aucune activation"), "{}", r.body);
    let (_secret, _) = enrol(&t, &mut b).await;
    let r = b
        .post(
            &t.url("/compte/securite/activer"),
            &[("csrf", token.as_str())],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("protège déjà"), "{}", r.body);
}

//! Federated login through the real OpenID Connect providers of the test script
//! (tools/oidc-provider: one like FranceConnect v2, one like ProConnect): first login and the
//! citizen's choice, linking a password account, agents through ProConnect, logout at both,
//! re-link, and every bad input refused with nothing created.

use std::collections::HashMap;

use liasse_domain::journal::Actor;
use liasse_federation::ProviderKind;
use liasse_federation::providers::{self, NewProvider};
use liasse_testkit::TestApp;
use liasse_testkit::oidc::{MISBEHAVIOURS, TestOidc, test_oidc};
use sqlx::Row;
use url::Url;

/// A browser without JavaScript across Liasse and the provider: one cookie jar (both are on
/// 127.0.0.1, which browsers share across ports), redirects followed by hand.
pub(crate) struct Browser {
    http: reqwest::Client,
    cookies: HashMap<String, String>,
}

pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) location: Option<Url>,
    pub(crate) body: String,
}

impl Browser {
    pub(crate) fn new() -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: HashMap::new(),
        }
    }

    async fn send(&mut self, url: &Url, request: reqwest::RequestBuilder) -> Answer {
        let cookie = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let response = request.header("cookie", cookie).send().await.unwrap();
        for set in response.headers().get_all("set-cookie") {
            let set = set.to_str().unwrap();
            let (name, value) = set.split(';').next().unwrap().split_once('=').unwrap();
            let lower = set.to_ascii_lowercase();
            if value.is_empty()
                || lower.contains("max-age=0")
                || lower.contains("expires=thu, 01 jan 1970")
            {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .map(|l| url.join(l.to_str().unwrap()).unwrap());
        let body = response
            .text()
            .await
            .unwrap()
            .replace("&#39;", "'")
            .replace("&quot;", "\"")
            .replace("&#x2f;", "/")
            .replace("&#47;", "/")
            .replace("&#x3d;", "=")
            .replace("&#38;", "&")
            .replace("&amp;", "&");
        Answer {
            status,
            location,
            body,
        }
    }

    pub(crate) async fn get(&mut self, url: &str) -> Answer {
        let url = Url::parse(url).unwrap();
        let request = self.http.get(url.clone());
        self.send(&url, request).await
    }

    pub(crate) async fn post(&mut self, url: &str, fields: &[(&str, &str)]) -> Answer {
        let url = Url::parse(url).unwrap();
        let request = self.http.post(url.clone()).form(fields);
        self.send(&url, request).await
    }

    /// Follows redirects and fills the provider's login and consent forms until the browser
    /// is sent to a URL starting with `until`; returns that URL (not opened).
    async fn walk(&mut self, start: Url, login: &str, password: &str, until: &str) -> Url {
        let mut url = start;
        let mut request = self.http.get(url.clone());
        for _ in 0..20 {
            let answer = self.send(&url, request).await;
            if let Some(location) = answer.location {
                if location.as_str().starts_with(until) {
                    return location;
                }
                url = location;
                request = self.http.get(url.clone());
                continue;
            }
            assert_eq!(answer.status, 200, "{url}: {}", answer.body);
            let (action, mut fields) =
                form(&answer.body).unwrap_or_else(|| panic!("no form at {url}: {}", answer.body));
            let target = url.join(&action).unwrap();
            if action.ends_with("/login") {
                fields.push(("login".into(), login.into()));
                fields.push(("password".into(), password.into()));
            } else if action.contains("/session/end") {
                fields.push(("logout".into(), "yes".into()));
            }
            request = self.http.post(target.clone()).form(&fields);
            url = target;
        }
        panic!("the provider never sent the browser to {until}");
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        self.cookies.contains_key(name)
    }
}

/// The first form of a page: its action and hidden fields.
fn form(html: &str) -> Option<(String, Vec<(String, String)>)> {
    let start = html.find("<form")?;
    let end = html[start..]
        .find("</form>")
        .map_or(html.len(), |e| start + e);
    let form = &html[start..end];
    let tag_end = form.find('>')?;
    let action = attribute(&form[..tag_end], "action")?.replace("&#38;", "&");
    let mut fields = Vec::new();
    for input in form.split("<input").skip(1) {
        let tag = &input[..input.find('>').unwrap_or(input.len())];
        if attribute(tag, "type").as_deref() == Some("hidden")
            && let (Some(name), Some(value)) = (attribute(tag, "name"), attribute(tag, "value"))
        {
            fields.push((name, value));
        }
    }
    Some((action, fields))
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
    let len = tag[start..].find('"')?;
    Some(tag[start..start + len].to_owned())
}

pub(crate) fn csrf(body: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = body
        .find(marker)
        .unwrap_or_else(|| panic!("no csrf in {body}"))
        + marker.len();
    body[start..start + body[start..].find('"').unwrap()].to_owned()
}

const SESSION: &str = "__Host-liasse";

async fn configure(t: &TestApp, slug: &str, o: &TestOidc, kind: ProviderKind, sirets: Vec<String>) {
    configure_acr(t, slug, o, kind, sirets, None).await;
}

async fn configure_acr(
    t: &TestApp,
    slug: &str,
    o: &TestOidc,
    kind: ProviderKind,
    sirets: Vec<String>,
    acr: Option<liasse_oidc::Acr>,
) {
    let issuer = match kind {
        ProviderKind::FranceConnect => &o.fc_issuer,
        ProviderKind::ProConnect => &o.pc_issuer,
    };
    providers::set(
        &t.app,
        slug,
        Actor::operator(),
        NewProvider {
            kind,
            issuer,
            client_id: &o.client_id,
            client_secret: Some(&o.client_secret),
            acr,
            allowed_sirets: sirets,
        },
    )
    .await
    .unwrap();
}

async fn count(t: &TestApp, sql: &str) -> i64 {
    sqlx::query(sql)
        .fetch_one(t.app.db.pool())
        .await
        .unwrap()
        .try_get::<i64, _>(0)
        .unwrap()
}

async fn accounts(t: &TestApp) -> i64 {
    count(t, "SELECT COUNT(*) FROM accounts").await
}

/// Clicks the provider's button and logs in there as `user`: the callback URL Liasse gets.
async fn to_callback(
    t: &TestApp,
    b: &mut Browser,
    slug: &str,
    path: &str,
    user: &str,
    o: &TestOidc,
) -> Url {
    let begun = b
        .get(&t.url(&format!("/auth/{path}?collectivite={slug}")))
        .await;
    assert_eq!(begun.status, 303, "{}", begun.body);
    let at_provider = begun.location.unwrap();
    assert!(
        !at_provider.as_str().starts_with(&t.base_url),
        "{at_provider}"
    );
    b.walk(
        at_provider,
        user,
        &o.password,
        &t.url(&format!("/auth/{path}/callback")),
    )
    .await
}

/// A whole FranceConnect login as `user` up to where Liasse sends the browser.
async fn fc_login(t: &TestApp, b: &mut Browser, slug: &str, user: &str, o: &TestOidc) -> Answer {
    let callback = to_callback(t, b, slug, "franceconnect", user, o).await;
    b.get(callback.as_str()).await
}

#[tokio::test]
async fn a_first_franceconnect_login_creates_the_account_and_the_second_finds_it() {
    let Some(o) = test_oidc() else { return };
    for t in TestApp::all().await {
        t.tenant("blois").await;
        configure(&t, "blois", &o, ProviderKind::FranceConnect, vec![]).await;
        let login_page = Browser::new()
            .get(&t.url("/connexion?collectivite=blois"))
            .await;
        assert!(
            login_page.body.contains("S'identifier avec"),
            "{}",
            login_page.body
        );
        assert!(login_page.body.contains("Qu'est-ce que FranceConnect ?"));

        let before = accounts(&t).await;
        let mut b = Browser::new();
        let answer = fc_login(&t, &mut b, "blois", "angela", &o).await;
        assert_eq!(answer.status, 303, "{}", answer.body);
        assert_eq!(answer.location.unwrap().path(), "/auth/premiere-connexion");
        assert!(!b.has(SESSION));
        let choice = b.get(&t.url("/auth/premiere-connexion")).await;
        assert_eq!(choice.status, 200, "{}", choice.body);
        assert!(choice.body.contains("Angela Claire Louise") && choice.body.contains("DUBOIS"));
        assert!(choice.body.contains("24/08/1962"));
        // Nothing is created until the citizen chooses.
        assert_eq!(accounts(&t).await, before);
        let token = csrf(&choice.body);
        let bad = b
            .post(
                &t.url("/auth/premiere-connexion/creer"),
                &[("csrf", &token), ("email", "pas une adresse")],
            )
            .await;
        assert_eq!(bad.status, 400, "{}", bad.body);
        assert_eq!(accounts(&t).await, before);
        let created = b
            .post(
                &t.url("/auth/premiere-connexion/creer"),
                &[("csrf", &token), ("email", "angela@example.org")],
            )
            .await;
        assert_eq!(created.status, 303, "{}", created.body);
        assert_eq!(created.location.unwrap().path(), "/documents");
        assert!(b.has(SESSION));
        assert_eq!(accounts(&t).await, before + 1);
        let tenant = liasse_app::tenants::by_slug(&t.app, "blois").await.unwrap();
        let account = liasse_store::accounts::by_login(&t.app.db, &tenant.id, "angela.dubois")
            .await
            .unwrap()
            .expect("account created from the pivot identity");
        assert_eq!(account.role, "citizen");
        assert_eq!(account.display_name, "Angela DUBOIS");
        assert_eq!(account.email.as_deref(), Some("angela@example.org"));
        assert!(account.password_hash.is_none());
        // The choice is single use.
        let again = b
            .post(
                &t.url("/auth/premiere-connexion/creer"),
                &[("csrf", &token), ("email", "")],
            )
            .await;
        assert_ne!(again.status, 303);
        assert_eq!(accounts(&t).await, before + 1);

        // The journal the citizen reads says how they logged in.
        let journal = b.get(&t.url("/journal")).await;
        assert_eq!(journal.status, 200);
        assert!(
            journal
                .body
                .contains("connecté·e avec FranceConnect (niveau de garantie eidas1)"),
            "{}",
            journal.body
        );
        let logins = count(
            &t,
            &format!(
                "SELECT COUNT(*) FROM journal WHERE action = 'session.login' AND basis_kind = 'franceconnect' AND basis_id = 'eidas1' AND citizen_id = '{}'",
                account.id
            ),
        )
        .await;
        assert_eq!(logins, 1);

        // Logout ends Liasse's session, then FranceConnect's, and comes back.
        let page = b.get(&t.url("/documents")).await;
        let out = b
            .post(&t.url("/deconnexion"), &[("csrf", &csrf(&page.body))])
            .await;
        // A page that goes on to the provider (a redirect of the form's POST to another site
        // would break the pages' `form-action 'self'`).
        assert_eq!(out.status, 200, "{}", out.body);
        assert!(!b.has(SESSION));
        let marker = "id=\"provider-logout\" href=\"";
        let start = out
            .body
            .find(marker)
            .expect("link to the provider's logout")
            + marker.len();
        let end =
            Url::parse(&out.body[start..start + out.body[start..].find('"').unwrap()]).unwrap();
        assert!(end.as_str().starts_with(&o.fc_issuer), "{end}");
        assert!(end.query().unwrap().contains("id_token_hint="), "{end}");
        let back = b
            .walk(end, "angela", &o.password, &t.url("/auth/logged-out"))
            .await;
        assert_eq!(b.get(back.as_str()).await.status, 200);
        assert_eq!(b.get(&t.url("/documents")).await.status, 303);

        // The second login finds the account by its subject: no choice, same account.
        let mut b2 = Browser::new();
        let second = fc_login(&t, &mut b2, "blois", "angela", &o).await;
        assert_eq!(second.status, 303, "{}", second.body);
        assert_eq!(second.location.unwrap().path(), "/documents");
        assert!(b2.has(SESSION));
        assert_eq!(accounts(&t).await, before + 1);
    }
}

#[tokio::test]
async fn a_first_login_links_an_existing_password_account() {
    let Some(o) = test_oidc() else { return };
    for t in TestApp::all().await {
        t.tenant("blois").await;
        configure(&t, "blois", &o, ProviderKind::FranceConnect, vec![]).await;
        t.account("blois", "pmercier", "citizen", &[]).await;
        let password = "pmercier-password";
        let before = accounts(&t).await;

        let mut b = Browser::new();
        assert_eq!(
            fc_login(&t, &mut b, "blois", "pierre", &o).await.status,
            303
        );
        let choice = b.get(&t.url("/auth/premiere-connexion")).await;
        let token = csrf(&choice.body);
        let wrong = b
            .post(
                &t.url("/auth/premiere-connexion/lier"),
                &[
                    ("csrf", &token),
                    ("login", "pmercier"),
                    ("password", "pas-le-bon"),
                ],
            )
            .await;
        assert_eq!(wrong.status, 401, "{}", wrong.body);
        assert!(!b.has(SESSION));
        // The choice stays open after a wrong password.
        let linked = b
            .post(
                &t.url("/auth/premiere-connexion/lier"),
                &[
                    ("csrf", &token),
                    ("login", "pmercier"),
                    ("password", password),
                ],
            )
            .await;
        assert_eq!(linked.status, 303, "{}", linked.body);
        assert!(b.has(SESSION));
        assert_eq!(accounts(&t).await, before);
        assert_eq!(
            count(&t, "SELECT COUNT(*) FROM federated_identities").await,
            1
        );

        // Next time FranceConnect alone is enough.
        let mut b2 = Browser::new();
        let second = fc_login(&t, &mut b2, "blois", "pierre", &o).await;
        assert_eq!(second.location.unwrap().path(), "/documents");
        assert!(b2.has(SESSION));
    }
}

#[tokio::test]
async fn an_agent_gets_in_through_proconnect_only_with_an_account() {
    let Some(o) = test_oidc() else { return };
    for t in TestApp::all().await {
        t.tenant("blois").await;
        configure(&t, "blois", &o, ProviderKind::ProConnect, vec![]).await;
        liasse_app::auth::create_user(
            &t.app,
            Actor::operator(),
            liasse_app::auth::NewUser {
                tenant_slug: "blois",
                login: "jmartin",
                role: liasse_domain::policy::Role::Agent,
                display_name: Some("Jean Martin"),
                email: Some("Agent@Blois.fr"),
                service: Some("Scolarité"),
                rights: vec![("scolaire".into(), "modify".into())],
                password: None,
            },
        )
        .await
        .unwrap();
        let before = accounts(&t).await;

        let mut b = Browser::new();
        let callback = to_callback(&t, &mut b, "blois", "proconnect", "agent@blois.fr", &o).await;
        let answer = b.get(callback.as_str()).await;
        assert_eq!(answer.status, 303, "{}", answer.body);
        assert_eq!(answer.location.unwrap().path(), "/agent");
        assert!(b.has(SESSION));
        // Rights stay Liasse's: the agent's space opens, the administration does not.
        assert_eq!(b.get(&t.url("/agent")).await.status, 200);
        assert_eq!(b.get(&t.url("/admin")).await.status, 403);

        // No account, no entry: never self-provisioned.
        let mut b2 = Browser::new();
        let callback = to_callback(
            &t,
            &mut b2,
            "blois",
            "proconnect",
            "inconnu@ailleurs.fr",
            &o,
        )
        .await;
        let refused = b2.get(callback.as_str()).await;
        assert_eq!(refused.status, 403, "{}", refused.body);
        assert!(refused.body.contains("Aucun compte d'agent"));
        assert!(!b2.has(SESSION));
        assert_eq!(accounts(&t).await, before);

        // A SIRET list that does not hold the agent's organisation shuts it out.
        configure(
            &t,
            "blois",
            &o,
            ProviderKind::ProConnect,
            vec!["13002526500013".into()],
        )
        .await;
        let mut b3 = Browser::new();
        let callback = to_callback(&t, &mut b3, "blois", "proconnect", "agent@blois.fr", &o).await;
        let refused = b3.get(callback.as_str()).await;
        assert_eq!(refused.status, 403, "{}", refused.body);
        assert!(!b3.has(SESSION));
    }
}

#[tokio::test]
async fn every_bad_callback_is_refused_and_creates_nothing() {
    let Some(o) = test_oidc() else { return };
    for t in TestApp::all().await {
        t.tenant("blois").await;
        // eidas2 asked (FranceConnect+): `low_acr` answers eidas1, below it.
        configure_acr(
            &t,
            "blois",
            &o,
            ProviderKind::FranceConnect,
            vec![],
            Some(liasse_oidc::Acr::Eidas2),
        )
        .await;
        let before = accounts(&t).await;
        let pending_choices = "SELECT COUNT(*) FROM pending_logins WHERE stage = 'choice'";
        for mode in MISBEHAVIOURS {
            let mut b = Browser::new();
            let answer = fc_login(&t, &mut b, "blois", &format!("angela+{mode}"), &o).await;
            assert_eq!(answer.status, 400, "{mode}: {}", answer.body);
            assert!(
                answer
                    .body
                    .contains("Connexion avec FranceConnect impossible"),
                "{mode}"
            );
            assert!(answer.body.contains("Aucun compte n'a été créé"), "{mode}");
            assert!(!b.has(SESSION), "{mode}");
        }
        assert_eq!(accounts(&t).await, before);
        assert_eq!(count(&t, pending_choices).await, 0);

        // A replayed callback, and the same callback in another browser.
        let mut b = Browser::new();
        let callback = to_callback(&t, &mut b, "blois", "franceconnect", "angela", &o).await;
        let mut other = Browser::new();
        let stolen = other.get(callback.as_str()).await;
        assert_eq!(stolen.status, 400, "{}", stolen.body);
        assert!(
            stolen
                .body
                .contains("pas été commencée depuis ce navigateur"),
            "{}",
            stolen.body
        );
        let mut b = Browser::new();
        let callback = to_callback(&t, &mut b, "blois", "franceconnect", "angela", &o).await;
        assert_eq!(b.get(callback.as_str()).await.status, 303);
        let replayed = b.get(callback.as_str()).await;
        assert_eq!(replayed.status, 400, "{}", replayed.body);

        // Forged or missing state, the provider's own refusal, an unknown tenant, a provider
        // the tenant does not have.
        let mut b = Browser::new();
        b.get(&t.url("/auth/franceconnect?collectivite=blois"))
            .await;
        let forged = b
            .get(&t.url("/auth/franceconnect/callback?code=abc&state=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))
            .await;
        assert_eq!(forged.status, 400);
        assert_eq!(
            b.get(&t.url("/auth/franceconnect/callback?code=abc"))
                .await
                .status,
            400
        );
        let denied = b
            .get(&t.url("/auth/franceconnect/callback?error=access_denied&state=x"))
            .await;
        assert_eq!(denied.status, 400);
        assert!(denied.body.contains("Vous avez annulé"), "{}", denied.body);
        let unknown = b
            .get(&t.url("/auth/franceconnect?collectivite=nulle-part"))
            .await;
        assert_eq!(unknown.status, 404);
        let none = b.get(&t.url("/auth/proconnect?collectivite=blois")).await;
        assert_eq!(none.status, 404);
        assert!(none.body.contains("n'est pas proposée"));
        assert_eq!(accounts(&t).await, before);
        assert!(!b.has(SESSION));
    }
}

#[tokio::test]
async fn an_admin_relinks_an_account_whose_subject_changed() {
    let Some(o) = test_oidc() else { return };
    for t in TestApp::all().await {
        t.tenant("blois").await;
        configure(&t, "blois", &o, ProviderKind::FranceConnect, vec![]).await;
        // Angela's account, first linked by her FranceConnect login.
        let mut b = Browser::new();
        fc_login(&t, &mut b, "blois", "angela", &o).await;
        let choice = b.get(&t.url("/auth/premiere-connexion")).await;
        b.post(
            &t.url("/auth/premiere-connexion/creer"),
            &[("csrf", &csrf(&choice.body)), ("email", "")],
        )
        .await;
        // Her civil status changed: FranceConnect now says "lucie". The admin re-links.
        let issued = liasse_federation::relink::issue(
            &t.app,
            "blois",
            Actor::operator(),
            "angela.dubois",
            ProviderKind::FranceConnect,
        )
        .await
        .unwrap();
        assert_eq!(issued.removed, 1);
        let link = Url::parse(&issued.url).unwrap();
        let mut b = Browser::new();
        let begun = b
            .get(&t.url(&format!("{}?{}", link.path(), link.query().unwrap())))
            .await;
        assert_eq!(begun.status, 303, "{}", begun.body);
        let callback = b
            .walk(
                begun.location.unwrap(),
                "lucie",
                &o.password,
                &t.url("/auth/franceconnect/callback"),
            )
            .await;
        let done = b.get(callback.as_str()).await;
        assert_eq!(done.status, 303, "{}", done.body);
        assert_eq!(done.location.unwrap().path(), "/documents");
        let tenant = liasse_app::tenants::by_slug(&t.app, "blois").await.unwrap();
        let account = liasse_store::accounts::by_login(&t.app.db, &tenant.id, "angela.dubois")
            .await
            .unwrap()
            .unwrap();
        let ids = liasse_store::federation::identities_of(&t.app.db, &tenant.id, &account.id)
            .await
            .unwrap();
        assert_eq!(ids.len(), 1);
        // The link was single use.
        let again = Browser::new()
            .get(&t.url(&format!("{}?{}", link.path(), link.query().unwrap())))
            .await;
        assert_eq!(again.status, 400);
        assert_eq!(
            count(&t, &format!("SELECT COUNT(*) FROM journal WHERE action = 'identity.unlink' AND citizen_id = '{}'", account.id)).await,
            1
        );
    }
}

#[tokio::test]
async fn the_client_secret_is_sealed_never_listed_and_survives_a_key_rotation() {
    let Some(o) = test_oidc() else { return };
    let t = TestApp::embedded().await;
    t.tenant("blois").await;
    let secret_file = t.data_dir().join("fc-secret");
    std::fs::write(&secret_file, format!("{}\n", o.client_secret)).unwrap();
    let set = crate::cli::liasse(
        &t,
        &[
            "tenant",
            "identity-provider",
            "set",
            "blois",
            "franceconnect",
            "--issuer",
            &o.fc_issuer,
            "--client-id",
            &o.client_id,
            "--client-secret-file",
            secret_file.to_str().unwrap(),
            "--acr",
            "eidas1",
        ],
        None,
    );
    assert!(set.status.success(), "{}", crate::cli::text(&set));
    let list = crate::cli::liasse(&t, &["tenant", "identity-provider", "list", "blois"], None);
    let listed = crate::cli::text(&list);
    assert!(
        listed.contains("franceconnect") && listed.contains(&o.client_id),
        "{listed}"
    );
    assert!(!listed.contains(&o.client_secret), "{listed}");
    // Not in the database in clear either.
    let rows = sqlx::query("SELECT sealed FROM sealed_secrets")
        .fetch_all(t.app.db.pool())
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let sealed: Vec<u8> = rows[0].try_get(0).unwrap();
    assert!(
        !sealed
            .windows(o.client_secret.len())
            .any(|w| w == o.client_secret.as_bytes())
    );
    let bad = crate::cli::liasse(
        &t,
        &[
            "tenant",
            "identity-provider",
            "set",
            "blois",
            "franceconnect",
            "--issuer",
            "ftp://x",
            "--client-id",
            "c",
        ],
        None,
    );
    assert!(!bad.status.success());
    assert!(
        crate::cli::text(&bad).contains("https://"),
        "{}",
        crate::cli::text(&bad)
    );

    // After a rotation and the old key's retirement the secret still opens: logins work.
    let rotated = crate::cli::liasse(&t, &["keys", "rotate"], None);
    assert!(rotated.status.success(), "{}", crate::cli::text(&rotated));
    let retired = crate::cli::liasse(&t, &["keys", "retire", "v1"], None);
    assert!(retired.status.success(), "{}", crate::cli::text(&retired));
    let t2 = t;
    let mut b = Browser::new();
    assert_eq!(
        fc_login(&t2, &mut b, "blois", "angela", &o).await.status,
        303
    );

    let removed = crate::cli::liasse(
        &t2,
        &[
            "tenant",
            "identity-provider",
            "remove",
            "blois",
            "franceconnect",
        ],
        None,
    );
    assert!(removed.status.success(), "{}", crate::cli::text(&removed));
    assert_eq!(count(&t2, "SELECT COUNT(*) FROM sealed_secrets").await, 0);
}

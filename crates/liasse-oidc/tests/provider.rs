//! liasse-oidc against the real provider of the tests (tools/oidc-provider, two oidc-provider
//! instances started by scripts/test.sh): a scripted browser logs in through its login and
//! consent pages, and every misbehaviour of the provider is refused with its error.
//!
//! Outside the test script (no `LIASSE_TEST_FC_ISSUER`) these tests skip, loudly. They read the
//! same variables as `liasse_testkit::oidc`, without depending on the testkit, which would
//! build the whole server for a crate that has none.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use liasse_oidc::{
    Acr, CallbackQuery, Claims, Client, ClientSecret, Identity, OidcError, Provider, ProviderKind,
};
use url::Url;

const REDIRECT_URI: &str = "http://127.0.0.1/oidc/callback";
const POST_LOGOUT_URI: &str = "http://127.0.0.1/oidc/logged-out";

struct Env {
    fc_issuer: String,
    pc_issuer: String,
    client_id: String,
    client_secret: String,
    password: String,
}

fn env() -> Option<Env> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    match (
        var("LIASSE_TEST_FC_ISSUER"),
        var("LIASSE_TEST_PC_ISSUER"),
        var("LIASSE_TEST_OIDC_CLIENT_ID"),
        var("LIASSE_TEST_OIDC_CLIENT_SECRET"),
    ) {
        (Some(fc_issuer), Some(pc_issuer), Some(client_id), Some(client_secret)) => Some(Env {
            fc_issuer,
            pc_issuer,
            client_id,
            client_secret,
            password: var("LIASSE_TEST_OIDC_PASSWORD").unwrap_or_else(|| "liasse-test".into()),
        }),
        _ => {
            assert!(
                !std::env::var("LIASSE_TEST_REQUIRE_SERVERS").is_ok_and(|v| v == "1"),
                "LIASSE_TEST_REQUIRE_SERVERS=1 but LIASSE_TEST_FC_ISSUER / LIASSE_TEST_PC_ISSUER / LIASSE_TEST_OIDC_* are not set"
            );
            eprintln!(
                "\n*** SKIPPED: no OpenID Connect provider (run scripts/test.sh to start one) ***\n"
            );
            None
        }
    }
}

fn client(env: &Env, kind: ProviderKind, acr: Acr) -> Client {
    let issuer = match kind {
        ProviderKind::FranceConnect => &env.fc_issuer,
        ProviderKind::ProConnect => &env.pc_issuer,
    };
    let provider = Provider::new(
        kind,
        issuer.clone(),
        env.client_id.clone(),
        ClientSecret::new(env.client_secret.clone()),
        REDIRECT_URI,
        POST_LOGOUT_URI,
    )
    .with_acr(acr);
    Client::new(provider).unwrap()
}

/// A browser as small as the provider's pages need: cookies by name (paths ignored), no
/// redirects followed on its own, forms found by their action.
struct Browser {
    http: reqwest::Client,
    cookies: HashMap<String, String>,
}

impl Browser {
    fn new() -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            http,
            cookies: HashMap::new(),
        }
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> (u16, Option<String>, String) {
        let cookie = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let response = request.header("cookie", cookie).send().await.unwrap();
        for set in response.headers().get_all("set-cookie") {
            let set = set.to_str().unwrap();
            let pair = set.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            let expired = set
                .to_ascii_lowercase()
                .contains("expires=thu, 01 jan 1970");
            if expired || value.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned());
        (status, location, response.text().await.unwrap())
    }

    /// Follows redirects and fills the login and consent forms until the provider sends the
    /// browser to a URL starting with `until`; returns that URL.
    async fn walk(&mut self, start: &str, login: &str, password: &str, until: &str) -> Url {
        let mut url = Url::parse(start).unwrap();
        let mut request = self.http.get(url.clone());
        for _ in 0..20 {
            let (status, location, body) = self.send(request).await;
            if let Some(location) = location {
                url = url.join(&location).unwrap();
                if url.as_str().starts_with(until) {
                    return url;
                }
                request = self.http.get(url.clone());
                continue;
            }
            assert_eq!(status, 200, "{url}: {body}");
            let (action, mut fields) =
                form(&body).unwrap_or_else(|| panic!("no form at {url}: {body}"));
            let target = url.join(&action).unwrap();
            if action.ends_with("/login") {
                fields.push(("login".into(), login.into()));
                fields.push(("password".into(), password.into()));
            } else if action.contains("/session/end") {
                fields.push(("logout".into(), "yes".into()));
            }
            request = self.http.post(target).form(&fields);
        }
        panic!("the provider never sent the browser to {until}");
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
    let action = attribute(&form[..tag_end], "action")?
        .replace("&#38;", "&")
        .replace("&amp;", "&");
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

/// A whole login as `login`: returns the client (to log out), the callback and its result.
async fn login(
    env: &Env,
    kind: ProviderKind,
    acr: Acr,
    login: &str,
) -> (Client, CallbackQuery, Result<Identity, OidcError>) {
    let client = client(env, kind, acr);
    let started = client.begin().await.unwrap();
    let mut browser = Browser::new();
    let callback = browser
        .walk(&started.authorize_url, login, &env.password, REDIRECT_URI)
        .await;
    let callback = CallbackQuery::parse(callback.query().unwrap_or_default());
    let result = client.finish(&started.pending, &callback).await;
    (client, callback, result)
}

#[tokio::test]
async fn franceconnect_login_yields_the_pivot_identity_and_logout_is_accepted() {
    let Some(env) = env() else { return };
    let client = client(&env, ProviderKind::FranceConnect, Acr::Eidas1);
    let started = client.begin().await.unwrap();
    assert!(
        started.pending.pkce_verifier.is_some(),
        "the provider advertises S256"
    );
    let mut browser = Browser::new();
    let callback = browser
        .walk(
            &started.authorize_url,
            "angela",
            &env.password,
            REDIRECT_URI,
        )
        .await;
    let callback = CallbackQuery::parse(callback.query().unwrap_or_default());
    let identity = client.finish(&started.pending, &callback).await.unwrap();
    assert_eq!(identity.issuer, env.fc_issuer);
    assert_eq!(identity.acr, Acr::Eidas1);
    assert!(
        !identity.sub.contains("angela"),
        "pairwise sub: {}",
        identity.sub
    );
    let Claims::Pivot(pivot) = &identity.claims else {
        panic!("{identity:?}")
    };
    assert_eq!(pivot.given_name, "Angela Claire Louise");
    assert_eq!(pivot.family_name, "DUBOIS");
    assert_eq!(pivot.birthdate, "1962-08-24");
    assert_eq!(pivot.gender, "female");
    assert_eq!(pivot.birthplace, "75107");
    assert_eq!(pivot.birthcountry, "99100");
    assert_eq!(pivot.email.as_deref(), Some("wossewodda-3728@yopmail.com"));

    // The same person again: the same pairwise sub.
    let (_, _, again) = login(&env, ProviderKind::FranceConnect, Acr::Eidas1, "angela").await;
    assert_eq!(again.unwrap().sub, identity.sub);

    // The code is single use.
    let replayed = client
        .finish(&started.pending, &callback)
        .await
        .unwrap_err();
    assert!(
        matches!(replayed, OidcError::CodeRejected(_)),
        "{replayed:?}"
    );

    // Logout: the provider accepts the hint and sends the browser back with our state.
    let state = Client::logout_state();
    let logout = client
        .logout_url(&identity.id_token, &state)
        .await
        .unwrap()
        .unwrap();
    let back = browser.walk(&logout, "", "", POST_LOGOUT_URI).await;
    let query: HashMap<_, _> = back.query_pairs().into_owned().collect();
    assert_eq!(query.get("state"), Some(&state), "{back}");
}

#[tokio::test]
async fn a_higher_level_asked_is_returned_and_a_lower_one_refused() {
    let Some(env) = env() else { return };
    let (_, _, identity) = login(&env, ProviderKind::FranceConnect, Acr::Eidas2, "pierre").await;
    assert_eq!(identity.unwrap().acr, Acr::Eidas2);
    let (_, _, refused) = login(
        &env,
        ProviderKind::FranceConnect,
        Acr::Eidas2,
        "pierre+low_acr",
    )
    .await;
    assert!(
        matches!(&refused, Err(OidcError::AcrTooLow { got: Some(got), asked: Acr::Eidas2 }) if got == "eidas1"),
        "{refused:?}"
    );
}

#[tokio::test]
async fn proconnect_login_yields_the_agent_claims() {
    let Some(env) = env() else { return };
    let (_, _, identity) = login(
        &env,
        ProviderKind::ProConnect,
        Acr::Eidas1,
        "agent@blois.fr",
    )
    .await;
    let identity = identity.unwrap();
    assert_eq!(identity.issuer, env.pc_issuer);
    let Claims::ProConnect(agent) = &identity.claims else {
        panic!("{identity:?}")
    };
    assert_eq!(agent.email, "agent@blois.fr");
    assert_eq!(agent.usual_name, "MARTIN");
    assert_eq!(agent.siret, "21410018600018");
    assert_eq!(agent.idp_id, "fia1v2");
}

#[tokio::test]
async fn every_misbehaviour_is_refused_with_its_error() {
    let Some(env) = env() else { return };
    let check = |mode: &str, error: &OidcError| match mode {
        "wrong_iss" => matches!(error, OidcError::WrongIssuer(_)),
        "wrong_aud" => matches!(error, OidcError::WrongAudience),
        "expired" => matches!(error, OidcError::Expired),
        "iat_future" => matches!(error, OidcError::IssuedInFuture),
        "bad_signature" => matches!(error, OidcError::BadSignature),
        "unknown_kid" => matches!(error, OidcError::UnknownKid(Some(_))),
        "wrong_nonce" => matches!(error, OidcError::NonceMismatch),
        "alg_none" | "alg_hs256" => matches!(error, OidcError::ForbiddenAlg(_)),
        _ => false,
    };
    for kind in [ProviderKind::FranceConnect, ProviderKind::ProConnect] {
        let user = match kind {
            ProviderKind::FranceConnect => "lucie",
            ProviderKind::ProConnect => "admin@blois.fr",
        };
        for mode in [
            "wrong_iss",
            "wrong_aud",
            "expired",
            "iat_future",
            "bad_signature",
            "unknown_kid",
            "wrong_nonce",
            "alg_none",
            "alg_hs256",
        ] {
            let (_, _, result) = login(&env, kind, Acr::Eidas1, &format!("{user}+{mode}")).await;
            let error = result.expect_err(mode);
            assert!(check(mode, &error), "{kind:?} {mode}: {error:?}");
            assert!(!error.message_fr().is_empty());
        }
    }
}

#[tokio::test]
async fn a_cancelled_login_and_a_forged_state_are_refused() {
    let Some(env) = env() else { return };
    let client = client(&env, ProviderKind::FranceConnect, Acr::Eidas1);
    let started = client.begin().await.unwrap();
    let mut browser = Browser::new();
    // Log in, then cancel at the consent page.
    let mut url = Url::parse(&started.authorize_url).unwrap();
    let mut request = browser.http.get(url.clone());
    let callback = loop {
        let (_, location, body) = browser.send(request).await;
        if let Some(location) = location {
            url = url.join(&location).unwrap();
            if url.as_str().starts_with(REDIRECT_URI) {
                break url;
            }
            request = browser.http.get(url.clone());
        } else if body.contains("/login\"") {
            let (action, _) = form(&body).unwrap();
            request = browser
                .http
                .post(url.join(&action).unwrap())
                .form(&[("login", "angela"), ("password", env.password.as_str())]);
        } else {
            let abort = body.split("<form").find(|f| f.contains("/abort")).unwrap();
            request = browser
                .http
                .post(url.join(&attribute(abort, "action").unwrap()).unwrap());
        }
    };
    let callback = CallbackQuery::parse(callback.query().unwrap_or_default());
    let error = client
        .finish(&started.pending, &callback)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, OidcError::ProviderError { code, .. } if code == "access_denied"),
        "{error:?}"
    );

    let forged = CallbackQuery {
        code: Some("x".into()),
        state: Some("forged".into()),
        ..CallbackQuery::default()
    };
    assert!(matches!(
        client.finish(&started.pending, &forged).await,
        Err(OidcError::StateUnknown)
    ));
}

//! Admins never read contents through agents they create (issue 22, point 3): a staff
//! account created on the admin pages has no password until its holder chooses one with the
//! single-use, short-lived link sent to their address; an address change or a reset asks for
//! a new enrolment; rights, services and addresses are journalled with who changed them and
//! shown on the account's page; the deposit basis compares service ids, chosen from the
//! tenant's list, never a typed name.

use liasse_inspect::samples;
use liasse_store::accounts::AccountRow;
use liasse_testkit::TestApp;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use sqlx::Row;

use crate::web::{Browser, Page};

const TOWN: &str = "enrol";
const GOOD: &str = "Tulipe-orange-volcan-47";

async fn setup(t: &TestApp) {
    t.tenant(TOWN).await;
    t.account(TOWN, "alix", "admin", &[]).await;
}

async fn tenant_id(t: &TestApp, slug: &str) -> String {
    liasse_store::tenants::by_slug(&t.app.db, slug)
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn account(t: &TestApp, login: &str) -> AccountRow {
    liasse_store::accounts::by_login(&t.app.db, &tenant_id(t, TOWN).await, login)
        .await
        .unwrap()
        .unwrap()
}

async fn admin(t: &TestApp) -> Browser {
    let mut b = Browser::new(t);
    b.login(TOWN, "alix", "alix-password").await;
    b
}

async fn csrf(b: &mut Browser, path: &str) -> String {
    let p = b.get(path).await;
    assert_eq!(p.status, 200, "{path}: {}", p.body);
    p.csrf()
}

/// A service created on the admin's services page; returns its id.
async fn service(t: &TestApp, admin: &mut Browser, name: &str) -> String {
    let token = csrf(admin, "/admin/services").await;
    let p = admin
        .post("/admin/services", &[("csrf", &token), ("name", name)])
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    liasse_store::staff::service_by_name(&t.app.db, &tenant_id(t, TOWN).await, name)
        .await
        .unwrap()
        .unwrap()
        .id
}

/// The admin's creation form, with any extra (or forged) fields.
async fn create(admin: &mut Browser, fields: &[(&str, &str)]) -> Page {
    let token = csrf(admin, "/admin/agents").await;
    let mut all = vec![("csrf", token.as_str()), ("role", "agent")];
    all.extend_from_slice(fields);
    admin.post("/admin/agents", &all).await
}

/// The e-mails queued for an account: (address, body as the mailer sends it), oldest first.
/// The queued body holds no link (checked here): the mailer puts it in at delivery.
async fn mails(t: &TestApp, account_id: &str) -> Vec<(String, String)> {
    let rows = sqlx::query(
        "SELECT id, tenant_id FROM outbox WHERE account_id = $1 ORDER BY created_at, id",
    )
    .bind(account_id)
    .fetch_all(t.app.db.pool())
    .await
    .unwrap();
    let mut out = Vec::new();
    for r in rows {
        let id: String = r.get("id");
        let tenant_id: String = r.get("tenant_id");
        let o = liasse_store::outbox::for_account(&t.app.db, &tenant_id, account_id, 1000)
            .await
            .unwrap()
            .into_iter()
            .find(|o| o.id == id)
            .unwrap();
        assert!(
            !o.body.contains("/activation?jeton="),
            "a queued message holds a usable link: {}",
            o.body
        );
        let body = liasse_app::enrolment::delivery_body(&t.app, &o)
            .await
            .unwrap()
            .unwrap_or_default();
        out.push((o.address.clone(), body));
    }
    out
}

/// The secret of the enrolment link in a message's body.
fn secret_in(body: &str) -> String {
    let marker = "/activation?jeton=";
    let start = body
        .find(marker)
        .unwrap_or_else(|| panic!("no link in {body}"))
        + marker.len();
    body[start..]
        .split(|c: char| c.is_whitespace())
        .next()
        .unwrap()
        .to_string()
}

async fn last_secret(t: &TestApp, account_id: &str) -> String {
    let all = mails(t, account_id).await;
    secret_in(&all.last().expect("a message").1)
}

/// The link's holder opens it in a fresh browser and posts a password.
async fn enrol(t: &TestApp, secret: &str, password: &str, confirmation: &str) -> (Page, Page) {
    let mut b = Browser::new(t);
    let form = b.get(&format!("/activation?jeton={secret}")).await;
    let token = if form.status == 200 && form.body.contains("name=\"csrf\"") {
        form.csrf()
    } else {
        // No form on a refused link; post with the cookie a login page gives.
        csrf(&mut b, "/connexion").await
    };
    let done = b
        .post(
            "/activation",
            &[
                ("csrf", &token),
                ("jeton", secret),
                ("password", password),
                ("confirmation", confirmation),
            ],
        )
        .await;
    (form, done)
}

async fn api_login(t: &TestApp, login: &str, password: &str) -> u16 {
    t.http
        .post(t.url("/api/v1/session"))
        .json(&json!({ "tenant": TOWN, "login": login, "password": password }))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// An account's journal entries as (action, actor id, details), oldest first.
async fn history(t: &TestApp, account_id: &str) -> Vec<(String, String, Value)> {
    let mut v: Vec<_> = liasse_store::journal::for_object(
        &t.app.db,
        &tenant_id(t, TOWN).await,
        "account",
        account_id,
        "account.",
        100,
    )
    .await
    .unwrap()
    .into_iter()
    .map(|e| (e.entry.action, e.entry.actor.id, e.entry.details))
    .collect();
    v.reverse();
    v
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_creates_an_agent_but_only_the_agent_chooses_its_password() {
    let t = TestApp::embedded().await;
    setup(&t).await;
    let alix = account(&t, "alix").await;
    let mut admin = admin(&t).await;
    let ccas = service(&t, &mut admin, "CCAS").await;

    // The form asks for an address and a service from the list; no password field any more.
    let form = admin.get("/admin/agents").await;
    assert!(!form.body.contains("name=\"password\""), "{}", form.body);
    assert!(form.body.contains("name=\"email\""));
    assert!(
        form.body
            .contains(&format!("<option value=\"{ccas}\">CCAS</option>"))
    );

    // The address is required; nothing is created without it.
    let p = create(&mut admin, &[("login", "morgan"), ("name", "Morgan Roux")]).await;
    assert_eq!(p.status, 400, "{}", p.body);
    assert!(
        p.body.contains("L'adresse électronique est obligatoire"),
        "{}",
        p.body
    );
    let p = create(
        &mut admin,
        &[
            ("login", "morgan"),
            ("name", "Morgan Roux"),
            ("email", "pas une adresse"),
        ],
    )
    .await;
    assert_eq!(p.status, 400);
    assert!(
        p.body.contains("Adresse électronique invalide"),
        "{}",
        p.body
    );
    assert!(
        liasse_store::accounts::by_login(&t.app.db, &tenant_id(&t, TOWN).await, "morgan")
            .await
            .unwrap()
            .is_none()
    );

    // The admin forges a password field: it is ignored.
    let p = create(
        &mut admin,
        &[
            ("login", "morgan"),
            ("name", "Morgan Roux"),
            ("email", "morgan@enrol.test"),
            ("service", &ccas),
            ("right-social", "consult"),
            ("password", "choisi-par-l-admin"),
        ],
    )
    .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let morgan = account(&t, "morgan").await;
    assert!(
        morgan.password_hash.is_none(),
        "no password until enrolment"
    );
    assert_eq!(morgan.email.as_deref(), Some("morgan@enrol.test"));

    // The admin gets no staff session, whatever it tries.
    for pw in ["choisi-par-l-admin", "", "morgan-password"] {
        assert_eq!(api_login(&t, "morgan", pw).await, 401, "{pw:?}");
    }

    // One message, to the agent's address, with the link; the admin's pages and the journal
    // never carry its secret, and the database keeps only its hash.
    let sent = mails(&t, &morgan.id).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, "morgan@enrol.test");
    let secret = secret_in(&sent[0].1);
    assert!(secret.len() > 40);
    for path in ["/admin/agents", &format!("/admin/agents/{}", morgan.id)] {
        let p = admin.get(path).await;
        assert_eq!(p.status, 200);
        assert!(!p.body.contains(&secret), "{path}");
    }
    let journal_text: Vec<String> = sqlx::query("SELECT details FROM journal")
        .fetch_all(t.app.db.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.get("details"))
        .collect();
    assert!(journal_text.iter().all(|d| !d.contains(&secret)));
    let hashes: Vec<String> =
        sqlx::query("SELECT secret_hash FROM enrolments WHERE account_id = $1")
            .bind(&morgan.id)
            .fetch_all(t.app.db.pool())
            .await
            .unwrap()
            .iter()
            .map(|r| r.get("secret_hash"))
            .collect();
    assert_eq!(hashes, vec![liasse_app::auth::secret_hash(&secret)]);
    // The admin's view of undelivered messages shows no content.
    let admin_token = liasse_app::auth::create_token(
        &t.app,
        liasse_domain::journal::Actor::operator(),
        TOWN,
        "alix",
        "",
        "test",
    )
    .await
    .unwrap();
    let r = t.get(&admin_token, "/api/v1/deliveries").await;
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert!(text.contains("\"pending\""), "{text}");
    assert!(!text.contains(&secret) && !text.contains("jeton"), "{text}");

    // A form without its anti-forgery cookie (the browser dropped it: said so, with a fresh
    // form and its cookie), then with a token that is not the cookie's, changes nothing.
    let mut stranger = Browser::new(&t);
    let forged = [
        ("csrf", "x"),
        ("jeton", secret.as_str()),
        ("password", GOOD),
        ("confirmation", GOOD),
    ];
    let p = stranger.post("/activation", &forged).await;
    assert_eq!(p.status, 403, "{}", p.body);
    assert!(p.body.contains("pas renvoyé le cookie"), "{}", p.body);
    let p = stranger.post("/activation", &forged).await;
    assert_eq!(p.status, 403, "{}", p.body);
    assert!(p.body.contains("Formulaire expiré"), "{}", p.body);
    assert!(account(&t, "morgan").await.password_hash.is_none());

    // A weak password, or two that differ, are refused in French; the link still works.
    let (form, p) = enrol(&t, &secret, "court", "court").await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("Choisir votre mot de passe") && form.body.contains("morgan"));
    assert_eq!(p.status, 400, "{}", p.body);
    assert!(p.body.contains("mot de passe"), "{}", p.body);
    let (_, p) = enrol(&t, &secret, GOOD, "autre-chose-encore-47").await;
    assert_eq!(p.status, 400);
    assert!(p.body.contains("ne sont pas identiques"), "{}", p.body);
    assert!(account(&t, "morgan").await.password_hash.is_none());

    // The agent chooses its password, once.
    let (_, p) = enrol(&t, &secret, GOOD, GOOD).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("Votre compte est activé"), "{}", p.body);
    assert_eq!(api_login(&t, "morgan", GOOD).await, 200);
    let (form, p) = enrol(
        &t,
        &secret,
        "Un-autre-mot-de-passe-88",
        "Un-autre-mot-de-passe-88",
    )
    .await;
    assert_eq!(form.status, 410);
    assert!(form.body.contains("déjà servi"), "{}", form.body);
    assert!(p.body.contains("déjà servi"), "{}", p.body);
    assert_eq!(
        api_login(&t, "morgan", "Un-autre-mot-de-passe-88").await,
        401
    );
    assert_eq!(api_login(&t, "morgan", GOOD).await, 200);

    // The journal says who did what: the admin created and sent, the agent enrolled.
    let h = history(&t, &morgan.id).await;
    let actions: Vec<(&str, &str)> = h
        .iter()
        .map(|(a, who, _)| (a.as_str(), who.as_str()))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("account.create", alix.id.as_str()),
            ("account.enrolment", alix.id.as_str()),
            ("account.enrolled", morgan.id.as_str()),
        ]
    );
    assert_eq!(h[1].2["reason"], "create");
    let page = admin.get(&format!("/admin/agents/{}", morgan.id)).await;
    assert!(
        page.body.contains("Lien d'activation envoyé au titulaire"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("Mot de passe choisi par le titulaire du compte")
    );

    // Unknown links answer in French and change nothing.
    let mut b = Browser::new(&t);
    for q in ["lenr_inconnu", "", &"x".repeat(500)] {
        let p = b.get(&format!("/activation?jeton={q}")).await;
        assert_eq!(p.status, 404, "{q}");
        assert!(p.body.contains("n'est pas valable"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_and_replaced_links_are_refused() {
    let t = TestApp::embedded().await;
    setup(&t).await;
    let mut admin = admin(&t).await;
    let p = create(
        &mut admin,
        &[
            ("login", "noe"),
            ("name", "Noé Blanc"),
            ("email", "noe@enrol.test"),
        ],
    )
    .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let noe = account(&t, "noe").await;
    let first = last_secret(&t, &noe.id).await;

    // 49 hours later the link has expired.
    t.clock.advance(49 * 3600 * 1000);
    let (form, p) = enrol(&t, &first, GOOD, GOOD).await;
    assert_eq!(form.status, 410);
    assert!(form.body.contains("a expiré"), "{}", form.body);
    assert!(p.body.contains("a expiré"), "{}", p.body);
    assert!(account(&t, "noe").await.password_hash.is_none());

    // The admin sends a new one, then another: only the last works.
    admin = self::admin(&t).await;
    let page = format!("/admin/agents/{}", noe.id);
    // Each link is read as it would be sent, before the next one replaces it.
    let mut links = Vec::new();
    for _ in 0..2 {
        let token = csrf(&mut admin, &page).await;
        let p = admin
            .post(&format!("{page}/activation"), &[("csrf", &token)])
            .await;
        assert_eq!(p.status, 303, "{}", p.body);
        links.push(last_secret(&t, &noe.id).await);
    }
    let sent = mails(&t, &noe.id).await;
    assert_eq!(sent.len(), 3);
    assert!(sent.iter().all(|(to, _)| to == "noe@enrol.test"));
    // A message whose link was replaced before it went out is not sent at all.
    assert!(sent[1].1.is_empty(), "a replaced link is never sent");
    let (second, third) = (links[0].clone(), links[1].clone());
    let (form, _) = enrol(&t, &second, GOOD, GOOD).await;
    assert_eq!(form.status, 410);
    assert!(form.body.contains("remplacé"), "{}", form.body);
    assert!(account(&t, "noe").await.password_hash.is_none());
    let (_, p) = enrol(&t, &third, GOOD, GOOD).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(api_login(&t, "noe", GOOD).await, 200);

    // A disabled account gets no link.
    let token = csrf(&mut admin, "/admin/agents").await;
    let p = admin
        .post(
            &format!("/admin/agents/{}/desactiver", noe.id),
            &[("csrf", &token)],
        )
        .await;
    assert_eq!(p.status, 303);
    let token = csrf(&mut admin, &page).await;
    let p = admin
        .post(&format!("{page}/activation"), &[("csrf", &token)])
        .await;
    assert_eq!(p.status, 400, "{}", p.body);
    assert!(p.body.contains("réactivez-le"), "{}", p.body);
    assert_eq!(mails(&t, &noe.id).await.len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reset_or_an_address_change_requires_a_new_enrolment() {
    let t = TestApp::embedded().await;
    setup(&t).await;
    let alix = account(&t, "alix").await;
    let mut admin = admin(&t).await;
    let p = create(
        &mut admin,
        &[
            ("login", "lea"),
            ("name", "Léa Martin"),
            ("email", "lea@enrol.test"),
            ("right-scolaire", "modify"),
        ],
    )
    .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let lea = account(&t, "lea").await;
    let (_, p) = enrol(&t, &last_secret(&t, &lea.id).await, GOOD, GOOD).await;
    assert_eq!(p.status, 200);
    let mut agent = Browser::new(&t);
    agent.login(TOWN, "lea", GOOD).await;
    assert_eq!(agent.get("/agent").await.status, 200);

    let lea_token = liasse_app::auth::create_token(
        &t.app,
        liasse_domain::journal::Actor::operator(),
        TOWN,
        "lea",
        "",
        "test",
    )
    .await
    .unwrap();
    assert_eq!(t.get(&lea_token, "/api/v1/tokens").await.status(), 200);

    let page = format!("/admin/agents/{}", lea.id);
    // A bad address is refused in French and changes nothing.
    let token = csrf(&mut admin, &page).await;
    let p = admin
        .post(
            &format!("{page}/adresse"),
            &[("csrf", &token), ("email", "lea@")],
        )
        .await;
    assert_eq!(p.status, 400, "{}", p.body);
    assert!(p.body.contains("Adresse électronique invalide"));
    assert_eq!(agent.get("/agent").await.status, 200, "still logged in");
    // The agent cannot change addresses, and another town's admin cannot see the account.
    let token = csrf(&mut agent, "/agent").await;
    let p = agent
        .post(
            &format!("{page}/adresse"),
            &[("csrf", &token), ("email", "moi@ailleurs.test")],
        )
        .await;
    assert_eq!(p.status, 403);
    t.tenant("ailleurs").await;
    t.account("ailleurs", "autre", "admin", &[]).await;
    let mut other = Browser::new(&t);
    other.login("ailleurs", "autre", "autre-password").await;
    assert_eq!(other.get(&page).await.status, 404);
    let token = csrf(&mut other, "/admin/agents").await;
    let p = other
        .post(
            &format!("{page}/adresse"),
            &[("csrf", &token), ("email", "pirate@ailleurs.test")],
        )
        .await;
    assert_eq!(p.status, 404);
    let p = other
        .post(&format!("{page}/activation"), &[("csrf", &token)])
        .await;
    assert_eq!(p.status, 404);
    assert_eq!(
        account(&t, "lea").await.email.as_deref(),
        Some("lea@enrol.test")
    );
    assert_eq!(mails(&t, &lea.id).await.len(), 1);
    assert_eq!(t.get(&lea_token, "/api/v1/tokens").await.status(), 200);

    // The address changes: the password, the session and the token stop working, the link
    // goes to the new address only.
    let token = csrf(&mut admin, &page).await;
    let p = admin
        .post(
            &format!("{page}/adresse"),
            &[("csrf", &token), ("email", "lea.martin@enrol.test")],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(agent.get("/agent").await.status, 303, "session ended");
    assert_eq!(api_login(&t, "lea", GOOD).await, 401);
    assert_eq!(
        t.get(&lea_token, "/api/v1/tokens").await.status(),
        401,
        "token revoked"
    );
    let sent = mails(&t, &lea.id).await;
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].0, "lea.martin@enrol.test");
    let second = "Lanterne-girafe-cobalt-93";
    let (_, p) = enrol(&t, &secret_in(&sent[1].1), second, second).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(api_login(&t, "lea", second).await, 200);

    // A reset is a new link as well, never a password the admin types.
    let mut agent = Browser::new(&t);
    agent.login(TOWN, "lea", second).await;
    let token = csrf(&mut admin, &page).await;
    let p = admin
        .post(
            &format!("{page}/activation"),
            &[("csrf", &token), ("password", "choisi-par-l-admin")],
        )
        .await;
    assert_eq!(p.status, 303);
    assert_eq!(agent.get("/agent").await.status, 303, "session ended");
    assert_eq!(api_login(&t, "lea", second).await, 401);
    assert_eq!(api_login(&t, "lea", "choisi-par-l-admin").await, 401);
    let sent = mails(&t, &lea.id).await;
    assert_eq!(sent.len(), 3);
    assert_eq!(sent[2].0, "lea.martin@enrol.test");

    let h = history(&t, &lea.id).await;
    let by_admin: Vec<&str> = h
        .iter()
        .filter(|(_, who, _)| *who == alix.id)
        .map(|(a, _, _)| a.as_str())
        .collect();
    assert_eq!(
        by_admin,
        vec![
            "account.create",
            "account.enrolment",
            "account.email",
            "account.enrolment",
            "account.enrolment"
        ]
    );
    assert!(
        h.iter().all(|(_, _, d)| !d.to_string().contains("@")),
        "no address in the journal"
    );
    let shown = admin.get(&page).await;
    assert!(
        shown.body.contains("Adresse électronique changée"),
        "{}",
        shown.body
    );
    assert!(
        shown
            .body
            .contains("Lien d'activation envoyé à la nouvelle adresse")
    );
    assert!(shown.body.contains("alix (nom) (administration)"));
}

#[tokio::test(flavor = "multi_thread")]
async fn rights_and_service_changes_are_journalled_and_shown() {
    let t = TestApp::embedded().await;
    setup(&t).await;
    let alix = account(&t, "alix").await;
    let mut admin = admin(&t).await;
    let etat_civil = service(&t, &mut admin, "État civil").await;
    let p = create(
        &mut admin,
        &[
            ("login", "sam"),
            ("name", "Sam Petit"),
            ("email", "sam@enrol.test"),
            ("right-scolaire", "consult"),
        ],
    )
    .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let sam = account(&t, "sam").await;
    let page = format!("/admin/agents/{}", sam.id);
    let before = history(&t, &sam.id).await.len();

    // The whole rights form, with one change: one entry, with the levels before and after.
    let token = csrf(&mut admin, "/admin/agents").await;
    let p = admin
        .post(
            &format!("{page}/droits"),
            &[
                ("csrf", &token),
                ("right-scolaire", "modify"),
                ("right-social", "none"),
            ],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    // The same form again changes nothing and writes nothing.
    let p = admin
        .post(
            &format!("{page}/droits"),
            &[
                ("csrf", &token),
                ("right-scolaire", "modify"),
                ("right-social", "none"),
            ],
        )
        .await;
    assert_eq!(p.status, 303);
    let h = history(&t, &sam.id).await;
    assert_eq!(h.len(), before + 1, "{h:?}");
    let (action, who, details) = h.last().unwrap();
    assert_eq!(
        (action.as_str(), who.as_str()),
        ("account.right", alix.id.as_str())
    );
    assert_eq!(
        details,
        &json!({ "domain": "scolaire", "from": "consult", "to": "modify" })
    );

    // The service comes from the list, by id.
    let token = csrf(&mut admin, &page).await;
    let p = admin
        .post(
            &format!("{page}/service"),
            &[("csrf", &token), ("service", &etat_civil)],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let (action, who, details) = history(&t, &sam.id).await.pop().unwrap();
    assert_eq!(
        (action.as_str(), who.as_str()),
        ("account.service", alix.id.as_str())
    );
    assert_eq!(details["to"], "État civil");
    assert_eq!(details["service"], etat_civil.as_str());

    // A typed name or an unknown id is refused and changes nothing.
    let n = history(&t, &sam.id).await.len();
    for forged in ["CCAS", "État civil", "0190c7a2-0000-7000-8000-000000000000"] {
        let p = admin
            .post(
                &format!("{page}/service"),
                &[("csrf", &token), ("service", forged)],
            )
            .await;
        assert_eq!(p.status, 400, "{forged}: {}", p.body);
        assert!(p.body.contains("Ce service n'existe pas"), "{}", p.body);
    }
    assert_eq!(history(&t, &sam.id).await.len(), n);
    let shown = admin.get(&page).await;
    assert!(
        shown.body.contains("Droit sur « ") && shown.body.contains("consultation → modification"),
        "{}",
        shown.body
    );
    assert!(
        shown.body.contains("Service : aucun → État civil"),
        "{}",
        shown.body
    );
    assert!(shown.body.contains("par alix (nom) (administration)"));

    // Renaming a service keeps its members; a name already taken is refused.
    let token = csrf(&mut admin, "/admin/services").await;
    let other = service(&t, &mut admin, "Urbanisme").await;
    let p = admin
        .post(
            &format!("/admin/services/{other}"),
            &[("csrf", &token), ("name", "État civil")],
        )
        .await;
    assert_eq!(p.status, 409, "{}", p.body);
    assert!(p.body.contains("Un service s'appelle déjà"), "{}", p.body);
    let p = admin
        .post(
            &format!("/admin/services/{etat_civil}"),
            &[("csrf", &token), ("name", "État civil et citoyenneté")],
        )
        .await;
    assert_eq!(p.status, 303);
    let alix_p = liasse_app::auth::principal_for_login(&t.app, TOWN, "alix")
        .await
        .unwrap();
    let (m, _) = liasse_app::admin::staff_member(&t.app, &alix_p, &sam.id)
        .await
        .unwrap();
    let m = m.service.unwrap().name;
    assert_eq!(m, "État civil et citoyenneté");
}

async fn letter(t: &TestApp, token: &str, citizen_id: &str) -> String {
    let form = Form::new()
        .text("type", "courrier")
        .text("title", "Décision d'aide")
        .part(
            "file",
            Part::bytes(samples::pdf_with_text("Courrier du CCAS")).file_name("courrier.pdf"),
        );
    let r = t
        .http
        .post(t.url(&format!("/api/v1/citizens/{citizen_id}/documents")))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_typed_service_name_reaches_no_other_services_letters() {
    let t = TestApp::embedded().await;
    setup(&t).await;
    t.account(TOWN, "camille", "citizen", &[]).await;
    let camille = account(&t, "camille").await;
    // The CCAS's agent (made by the operator with its service's name) deposits a letter.
    let ccas_agent = liasse_app::auth::create_user(
        &t.app,
        liasse_domain::journal::Actor::operator(),
        liasse_app::auth::NewUser {
            tenant_slug: TOWN,
            login: "ccas",
            role: liasse_domain::policy::Role::Agent,
            display_name: Some("Agent du CCAS"),
            email: None,
            service: Some("CCAS"),
            rights: Vec::new(),
            password: None,
        },
    )
    .await
    .unwrap();
    let token_of = |login: &'static str| {
        let t = &t;
        async move {
            liasse_app::auth::create_token(
                &t.app,
                liasse_domain::journal::Actor::operator(),
                TOWN,
                login,
                "",
                "test",
            )
            .await
            .unwrap()
        }
    };
    let ccas_token = token_of("ccas").await;
    let letter_id = letter(&t, &ccas_token, &camille.id).await;
    let path = format!("/api/v1/documents/{letter_id}/content");
    assert_eq!(
        t.get(&ccas_token, &path).await.status(),
        200,
        "the CCAS reads its letter back"
    );
    let ccas = liasse_store::staff::service_of(&t.app.db, &camille.tenant_id, &ccas_agent.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ccas.name, "CCAS");

    // The admin types the CCAS's name where a service is chosen: refused, nothing created.
    let mut admin = admin(&t).await;
    let p = create(
        &mut admin,
        &[
            ("login", "faux"),
            ("name", "Faux CCAS"),
            ("email", "faux@enrol.test"),
            ("service", "CCAS"),
        ],
    )
    .await;
    assert_eq!(p.status, 400, "{}", p.body);
    assert!(p.body.contains("Ce service n'existe pas"), "{}", p.body);
    assert!(
        liasse_store::accounts::by_login(&t.app.db, &camille.tenant_id, "faux")
            .await
            .unwrap()
            .is_none()
    );
    // Another tenant's service id is unknown here.
    t.tenant("ailleurs").await;
    let elsewhere = liasse_app::auth::create_user(
        &t.app,
        liasse_domain::journal::Actor::operator(),
        liasse_app::auth::NewUser {
            tenant_slug: "ailleurs",
            login: "x",
            role: liasse_domain::policy::Role::Agent,
            display_name: None,
            email: None,
            service: Some("Voirie"),
            rights: Vec::new(),
            password: None,
        },
    )
    .await
    .unwrap();
    let voirie = liasse_store::staff::service_of(&t.app.db, &elsewhere.tenant_id, &elsewhere.id)
        .await
        .unwrap()
        .unwrap();
    let p = create(
        &mut admin,
        &[
            ("login", "faux"),
            ("name", "Faux"),
            ("email", "faux@enrol.test"),
            ("service", &voirie.id),
        ],
    )
    .await;
    assert_eq!(p.status, 400, "{}", p.body);
    // A second service named like the CCAS cannot be made either.
    let token = csrf(&mut admin, "/admin/services").await;
    let p = admin
        .post("/admin/services", &[("csrf", &token), ("name", "CCAS")])
        .await;
    assert_eq!(p.status, 409, "{}", p.body);

    // An agent of another service, whatever its label, reads nothing of the CCAS's.
    let urba = service(&t, &mut admin, "Urbanisme").await;
    let p = create(
        &mut admin,
        &[
            ("login", "urba"),
            ("name", "Agent urbanisme"),
            ("email", "urba@enrol.test"),
            ("service", &urba),
        ],
    )
    .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let urba_token = token_of("urba").await;
    assert_eq!(t.get(&urba_token, &path).await.status(), 404);
    // Renaming the CCAS away and giving its name to Urbanisme moves no letter.
    let token = csrf(&mut admin, "/admin/services").await;
    let p = admin
        .post(
            &format!("/admin/services/{}", ccas.id),
            &[("csrf", &token), ("name", "CCAS (ancien)")],
        )
        .await;
    assert_eq!(p.status, 303);
    let p = admin
        .post(
            &format!("/admin/services/{urba}"),
            &[("csrf", &token), ("name", "CCAS")],
        )
        .await;
    assert_eq!(p.status, 303);
    assert_eq!(t.get(&urba_token, &path).await.status(), 404);
    assert_eq!(t.get(&ccas_token, &path).await.status(), 200);

    // Put in the CCAS by id on its page, an agent reads the letter, with the basis journalled.
    let urba_agent = account(&t, "urba").await;
    let page = format!("/admin/agents/{}", urba_agent.id);
    let token = csrf(&mut admin, &page).await;
    let p = admin
        .post(
            &format!("{page}/service"),
            &[("csrf", &token), ("service", &ccas.id)],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(t.get(&urba_token, &path).await.status(), 200);
    let (_, journal) = t
        .get_json(
            &{
                liasse_app::auth::create_token(
                    &t.app,
                    liasse_domain::journal::Actor::operator(),
                    TOWN,
                    "camille",
                    "",
                    "test",
                )
                .await
                .unwrap()
            },
            "/api/v1/journal",
        )
        .await;
    let read = journal
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|e| e["action"] == "document.read")
        .unwrap()
        .clone();
    assert_eq!(read["basis_kind"], "deposit", "{read}");
    assert_eq!(read["basis_id"], ccas.id.as_str());
    assert_eq!(read["actor_service"], "CCAS (ancien)");
}

/// The queued e-mail holds no link: the mailer derives it from the key ring as it sends the
/// message, so a dump of the database gives no way to enrol. The link that reaches the SMTP
/// server works; after `liasse keys rotate`, a message sent later carries a link that works.
#[tokio::test(flavor = "multi_thread")]
async fn the_enrolment_link_exists_only_in_the_sent_mail() {
    let smtp = liasse_testkit::smtp_dir();
    let t = TestApp::embedded().await;
    setup(&t).await;
    let mut admin = admin(&t).await;
    let address = format!("sacha-{}@enrol.test", uuid::Uuid::now_v7().simple());
    let p = create(
        &mut admin,
        &[
            ("login", "sacha"),
            ("name", "Sacha Petit"),
            ("email", &address),
        ],
    )
    .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let sacha = account(&t, "sacha").await;

    // What the database holds: a placeholder, no link, no secret.
    let queued: Vec<String> = sqlx::query("SELECT body FROM outbox WHERE account_id = $1")
        .bind(&sacha.id)
        .fetch_all(t.app.db.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.get("body"))
        .collect();
    assert_eq!(queued.len(), 1);
    assert!(!queued[0].contains("jeton="), "{}", queued[0]);
    assert!(!queued[0].contains("lenr_"), "{}", queued[0]);

    match &smtp {
        Some(dir) => {
            let report = liasse_jobs::runner::sweep(&t.app).await.unwrap();
            assert_eq!(report.failed, 0, "{report:?}");
            let got = liasse_testkit::mails_to(dir, &address);
            assert_eq!(got.len(), 1, "{got:?}");
            let body = got[0]["body"].as_str().unwrap();
            let (_, p) = enrol(&t, &secret_in(body), GOOD, GOOD).await;
            assert_eq!(p.status, 200, "{}", p.body);
            assert_eq!(api_login(&t, "sacha", GOOD).await, 200);
        }
        None => {
            let (_, p) = enrol(&t, &last_secret(&t, &sacha.id).await, GOOD, GOOD).await;
            assert_eq!(p.status, 200, "{}", p.body);
        }
    }

    // Keys rotate while a second agent's message waits: the link put in at delivery, under the
    // new key, works, and the one the old key would have given does not.
    let p = create(
        &mut admin,
        &[
            ("login", "camil"),
            ("name", "Camil Roy"),
            ("email", "camil@enrol.test"),
        ],
    )
    .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let camil = account(&t, "camil").await;
    let before = last_secret(&t, &camil.id).await;
    liasse_app::rotate::rotate(&t.app, 100, None).await.unwrap();
    let after = last_secret(&t, &camil.id).await;
    assert_ne!(before, after);
    let (form, _) = enrol(&t, &before, GOOD, GOOD).await;
    assert_eq!(form.status, 404, "{}", form.body);
    let (_, p) = enrol(&t, &after, GOOD, GOOD).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(api_login(&t, "camil", GOOD).await, 200);
}

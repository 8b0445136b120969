//! Nobody reaches another citizen's documents: every route of the OpenAPI document is walked
//! with the tokens of another citizen of the same town, an agent of that town (with rights on
//! the document's domain but no basis), a citizen of another town and an admin of another town.
//! A route naming one of the victim's objects (document, version, member, grant, notification,
//! request) answers 404 as problem+json, so existence never leaks; a route naming the victim's
//! account answers exactly as for an account that does not exist (agents of the same town
//! excepted, who see nothing of the vault without a basis); a collection route never mentions
//! the victim's things; the victim's documents, versions, journal, grants, notifications and
//! requests are untouched afterwards. A path of the OpenAPI document that the walk does not know
//! fails the test, so that no new route is skipped silently.

use std::collections::HashSet;

use liasse_inspect::samples;
use liasse_testkit::TestApp;
use reqwest::Method;
use serde_json::json;

use crate::vault::{Reply, deposit, download, form, reply, req, unzip};

/// How the walk fills and judges a route of the OpenAPI document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kind {
    /// Names one of the victim's documents (or a version of it): `{id}` is its id.
    VictimDocument,
    /// Names one of the victim's household members.
    VictimMember,
    /// Names one of the victim's grants.
    VictimGrant,
    /// Names one of the victim's notifications.
    VictimNotification,
    /// Names the victim's account (the agents' view of a citizen).
    VictimCitizen,
    /// Names one of the victim's requests (`{requirement}`: one of its requirements).
    VictimRequest,
    /// Names one of the victim's API tokens.
    VictimToken,
    /// Names a trusted provider of the victim's town (the caller's own consent to it).
    Provider,
    /// A tracking code, which the attackers can only guess.
    Tracking,
    /// The caller's own collection: the answer must not mention the victim.
    Collection,
    /// The tenant-wide document-type catalogue.
    Catalogue,
    /// The tenant-wide procedures.
    Procedure,
}

/// Every path the walk knows; any other path in the OpenAPI document fails the test, so that a
/// new route is never skipped silently.
fn kind_of(path: &str) -> Option<Kind> {
    Some(match path {
        "/documents/{id}"
        | "/documents/{id}/content"
        | "/documents/{id}/versions/{version}/content"
        | "/documents/{id}/check"
        | "/documents/{id}/review"
        | "/documents/{id}/uses"
        | "/documents/{id}/keep" => Kind::VictimDocument,
        "/household-members/{id}" => Kind::VictimMember,
        "/grants/{id}" => Kind::VictimGrant,
        "/notifications/{id}/read" => Kind::VictimNotification,
        "/citizens/{id}/documents" => Kind::VictimCitizen,
        "/requests/{id}"
        | "/requests/{id}/attachments/{requirement}"
        | "/requests/{id}/transitions"
        | "/requests/{id}/lock"
        | "/requests/{id}/notes"
        | "/requests/{id}/letters" => Kind::VictimRequest,
        "/providers/{id}/consent" => Kind::Provider,
        "/tokens/{id}" => Kind::VictimToken,
        "/tracking/{code}" => Kind::Tracking,
        "/documents" | "/documents/count" | "/journal" | "/export" | "/household-members"
        | "/document-types" | "/grants" | "/notifications" | "/providers" | "/procedures"
        | "/requests" | "/session" | "/dashboard" | "/search/requests" | "/statistics"
        | "/deliveries" | "/preferences" | "/tokens" => Kind::Collection,
        "/document-types/{code}" => Kind::Catalogue,
        "/procedures/{code}" => Kind::Procedure,
        _ => return None,
    })
}

const KINDS: usize = 12;

/// Methods in the order the walk uses them (reads before writes before deletions).
const METHODS: [&str; 6] = ["get", "head", "post", "put", "patch", "delete"];

struct Attacker {
    name: &'static str,
    tenant: &'static str,
    login: &'static str,
    token: String,
    /// Of the victim's town.
    same_town: bool,
    /// An agent or manager.
    staff: bool,
    admin: bool,
}

/// What the victim has, as any leak would show it.
struct Victim {
    token: String,
    account_id: String,
    doc_id: String,
    title: String,
    letter_id: String,
    member_id: String,
    member_name: String,
    grant_id: String,
    notification_id: String,
    provider_id: String,
    request_id: String,
    requirement_id: String,
    token_id: String,
    v1: Vec<u8>,
    v2: Vec<u8>,
}

impl Victim {
    fn secrets(&self) -> [(&'static str, &str); 10] {
        [
            ("document id", &self.doc_id),
            ("document title", &self.title),
            ("letter id", &self.letter_id),
            ("account id", &self.account_id),
            ("member id", &self.member_id),
            ("member name", &self.member_name),
            ("grant id", &self.grant_id),
            ("notification id", &self.notification_id),
            ("request id", &self.request_id),
            ("token id", &self.token_id),
        ]
    }

    /// The value of `{id}` for a route of this kind.
    fn id_for(&self, kind: Kind) -> &str {
        match kind {
            Kind::VictimMember => &self.member_id,
            Kind::VictimGrant => &self.grant_id,
            Kind::VictimNotification => &self.notification_id,
            Kind::VictimCitizen => &self.account_id,
            Kind::Provider => &self.provider_id,
            Kind::VictimRequest => &self.request_id,
            Kind::VictimToken => &self.token_id,
            _ => &self.doc_id,
        }
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// The request an attacker sends for a route; bodies are valid so that only access decides.
fn request(
    t: &TestApp,
    method: &str,
    path: &str,
    template: &str,
    kind: Kind,
    attacker: &Attacker,
    victim_doc: &str,
) -> reqwest::RequestBuilder {
    let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
    let url = format!("/api/v1{path}");
    let r = req(t, m, &url, &attacker.token);
    let pdf_upload = || {
        form(
            &[("type", "justificatif-domicile")],
            Some((
                "remplacement.pdf",
                samples::pdf_with_text("Remplacement par l'attaquant"),
            )),
        )
    };
    match (template, method) {
        ("/session", "post") => r.json(&json!({
            "tenant": attacker.tenant, "login": attacker.login, "password": format!("{}-password", attacker.login)
        })),
        ("/documents", "post") => r.multipart(form(
            &[
                ("type", "photo-identite"),
                ("title", "Document de l'attaquant"),
            ],
            Some(("attaquant.png", samples::small_png(12, 12))),
        )),
        ("/household-members", "post") => {
            r.json(&json!({ "name": "Membre de l'attaquant", "relation": "enfant" }))
        }
        ("/grants", "post") => r.json(&json!({
            "domain": "urbanisme", "types": ["justificatif-domicile"], "purpose": "Partage de l'attaquant", "until": "2026-06-30"
        })),
        ("/requests", "post") => r.json(&json!({
            "procedure": "carte-stationnement-resident", "answers": { "vehicle_owner": true, "plate": "ZZ-999-ZZ" }
        })),
        ("/requests/{id}", "patch") => {
            r.json(&json!({ "answers": { "vehicle_owner": false, "plate": "AA-000-AA" } }))
        }
        ("/requests/{id}/attachments/{requirement}", "put") => {
            r.json(&json!({ "document": victim_doc }))
        }
        ("/requests/{id}/attachments/{requirement}", "post") => r.multipart(pdf_upload()),
        ("/requests/{id}/transitions", "post") => r.json(&json!({ "to": "submitted" })),
        ("/requests/{id}/notes", "post") => {
            r.json(&json!({ "body": "Note de l'attaquant", "visible": true }))
        }
        ("/requests/{id}/letters", "post") => {
            r.json(&json!({ "template": "libre", "text": "Lettre de l'attaquant" }))
        }
        ("/procedures/{code}", "put") => r.json(&json!({
            "title": "Démarche modifiée par un administrateur", "domain": "stationnement",
            "requirements": [{ "key": "carte-grise", "type": "certificat-immatriculation" }]
        })),
        ("/documents/{id}/review", "post") => {
            r.json(&json!({ "decision": "validated", "valid_until": "2030-01-01" }))
        }
        (_, "post" | "put") if kind == Kind::VictimDocument || kind == Kind::VictimCitizen => {
            r.multipart(pdf_upload())
        }
        (_, "put" | "post") if kind == Kind::Catalogue => r.json(&json!({
            "label": "Type modifié par un administrateur", "domain": "general", "validity": "P1M"
        })),
        _ => r,
    }
}

/// Judges one answer; `Err` says what is wrong. `made_up` is the answer to the same request
/// naming an object that does not exist, for the routes judged by comparison with it.
fn judge(
    kind: Kind,
    method: &str,
    attacker: &Attacker,
    r: &Reply,
    made_up: Option<&Reply>,
    victim: &Victim,
) -> Result<(), String> {
    if r.status >= 500 {
        return Err(format!("server error {}", r.text()));
    }
    let problem = |status: u16, code: &str| -> Result<(), String> {
        let body = r.json();
        if r.status != status
            || r.header("content-type") != "application/problem+json"
            || body["type"] != format!("https://liasse.fr/problems/{code}")
        {
            return Err(format!(
                "expected {status} {code} as problem+json, got {} {}",
                r.status,
                r.text()
            ));
        }
        Ok(())
    };
    let no_leak = || -> Result<(), String> {
        let mut texts = vec![r.body.clone()];
        if r.header("content-type") == "application/zip" {
            texts.extend(unzip(&r.body).into_values());
        }
        for (what, secret) in victim.secrets() {
            if texts.iter().any(|t| contains(t, secret)) {
                return Err(format!("the answer contains the victim's {what}"));
            }
        }
        Ok(())
    };
    // Answered as if the object did not exist (role-based refusals included).
    let as_if_absent = || -> Result<(), String> {
        let other = made_up.expect("a made-up id to compare with");
        if r.status != other.status || r.json()["type"] != other.json()["type"] || r.status < 400 {
            return Err(format!(
                "distinguishable from an object that does not exist: {} {} vs {} {}",
                r.status,
                r.text(),
                other.status,
                other.text()
            ));
        }
        no_leak()
    };
    match kind {
        Kind::VictimDocument
        | Kind::VictimMember
        | Kind::VictimGrant
        | Kind::VictimNotification
        | Kind::VictimRequest
        | Kind::VictimToken => problem(404, "not-found"),
        Kind::VictimCitizen if attacker.same_town && attacker.staff => {
            // An agent may know that a citizen of their town exists, nothing of their vault
            // without a basis.
            no_leak()
        }
        Kind::VictimCitizen => as_if_absent(),
        Kind::Provider if !attacker.same_town => as_if_absent(),
        Kind::Provider => match r.status {
            // A citizen's own consent; staff may not consent for anyone.
            204 if !attacker.staff && !attacker.admin => Ok(()),
            403 if attacker.staff => problem(403, "forbidden"),
            _ => Err(format!("unexpected {} {}", r.status, r.text())),
        },
        Kind::Tracking => problem(404, "not-found").and_then(|()| no_leak()),
        Kind::Collection => no_leak(),
        Kind::Catalogue | Kind::Procedure => match method {
            "get" if r.status == 200 => no_leak(),
            "get" => Err(format!(
                "the catalogue of one's own town is readable, got {}",
                r.status
            )),
            // Another town's admin changes their own catalogue (checked after the walk).
            "put" | "post" if attacker.admin && (r.status == 200 || r.status == 201) => Ok(()),
            "delete" if attacker.admin && r.status == 204 => Ok(()),
            _ if attacker.admin => Err(format!("unexpected {} {}", r.status, r.text())),
            _ => problem(403, "forbidden"),
        },
    }
}

/// An agent of a given service (the test kit gives every staff account the same one).
async fn agent_of_service(t: &TestApp, tenant: &str, login: &str, service: &str) -> String {
    use liasse_app::auth;
    use liasse_domain::journal::Actor;
    auth::create_user(
        &t.app,
        Actor::operator(),
        auth::NewUser {
            tenant_slug: tenant,
            login,
            role: liasse_domain::policy::Role::Agent,
            display_name: Some(service),
            email: None,
            service: Some(service),
            rights: Vec::new(),
            password: None,
        },
    )
    .await
    .expect("create agent");
    auth::create_token(&t.app, Actor::operator(), tenant, login, "", "test")
        .await
        .expect("create token")
}

#[tokio::test(flavor = "multi_thread")]
async fn every_route_refuses_other_accounts_and_towns() {
    for t in TestApp::all().await {
        let b = t.backend;
        for slug in ["ville-a", "ville-b"] {
            let tenant = t.tenant(slug).await;
            for p in liasse_domain::catalogue::default_procedures().unwrap() {
                liasse_app::requests::save_procedure(
                    &t.app,
                    &tenant,
                    liasse_domain::journal::Actor::operator(),
                    p,
                )
                .await
                .unwrap();
            }
        }

        // The victim: a document with two versions, a letter from the town hall (and its
        // notification), a household member, a grant, a provider consent, a session.
        let victim_token = t.account("ville-a", "victor", "citizen", &[]).await;
        let title = "Avis d'imposition de Victor 4e1f".to_string();
        let v1 = samples::pdf_with_text("Avis d'imposition 2025");
        let v2 = samples::pdf_with_text("Avis d'imposition 2025, rectifie");
        let r = deposit(
            &t,
            &victim_token,
            &[("type", "justificatif-domicile"), ("title", &title)],
            "avis.pdf",
            v1.clone(),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text());
        let doc_id = r.json()["id"].as_str().unwrap().to_string();
        let (status, body) = t
            .replace(&victim_token, &doc_id, "avis-rectifie.pdf", v2.clone())
            .await;
        assert_eq!(status, 200, "{body}");
        let r = reply(
            req(&t, Method::POST, "/api/v1/household-members", &victim_token)
                .json(&json!({ "name": "Zoé Victorine", "relation": "enfant" })),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text());
        let member_id = r.json()["id"].as_str().unwrap().to_string();
        let r = reply(t.http.post(t.url("/api/v1/session")).json(&json!({
            "tenant": "ville-a", "login": "victor", "password": "victor-password"
        })))
        .await;
        assert_eq!(r.status, 200, "{}", r.text());
        let account_id = r.json()["account"].as_str().unwrap().to_string();

        let mairie = agent_of_service(&t, "ville-a", "courrier", "Service courrier").await;
        let r = reply(
            req(
                &t,
                Method::POST,
                &format!("/api/v1/citizens/{account_id}/documents"),
                &mairie,
            )
            .multipart(form(
                &[("type", "courrier"), ("title", "Courrier pour Victor")],
                Some(("courrier.pdf", samples::pdf_with_text("Courrier"))),
            )),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text());
        let letter_id = r.json()["id"].as_str().unwrap().to_string();
        let (_, notes) = t.get_json(&victim_token, "/api/v1/notifications").await;
        assert_eq!(notes["unread"], 1, "{notes}");
        let notification_id = notes["items"][0]["id"].as_str().unwrap().to_string();

        let r = reply(
            req(&t, Method::POST, "/api/v1/grants", &victim_token).json(&json!({
                "domain": "scolaire", "types": ["certificat-scolarite"], "purpose": "Inscription à la cantine", "until": "2026-06-30"
            })),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text());
        let grant_id = r.json()["id"].as_str().unwrap().to_string();

        t.account("ville-a", "caf", "service", &[]).await;
        let (_, providers) = t.get_json(&victim_token, "/api/v1/providers").await;
        let provider_id = providers[0]["id"].as_str().unwrap().to_string();
        let r = reply(req(
            &t,
            Method::PUT,
            &format!("/api/v1/providers/{provider_id}/consent"),
            &victim_token,
        ))
        .await;
        assert_eq!(r.status, 204, "{}", r.text());

        let r = reply(
            req(&t, Method::POST, "/api/v1/requests", &victim_token).json(&json!({
                "procedure": "carte-stationnement-resident",
                "answers": { "vehicle_owner": true, "plate": "VV-111-VV" }
            })),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text());
        let request_id = r.json()["id"].as_str().unwrap().to_string();
        let requirement_id = r.json()["requirements"][0]["id"]
            .as_str()
            .unwrap()
            .to_string();

        let (_, tokens) = t.get_json(&victim_token, "/api/v1/tokens").await;
        let token_id = tokens[0]["id"].as_str().unwrap().to_string();

        let victim = Victim {
            token: victim_token,
            account_id,
            doc_id,
            title,
            letter_id,
            member_id,
            member_name: "Zoé Victorine".into(),
            grant_id,
            notification_id,
            provider_id,
            request_id,
            requirement_id,
            token_id,
            v1,
            v2,
        };
        let tenant_a = liasse_store::tenants::by_slug(&t.app.db, "ville-a")
            .await
            .unwrap()
            .unwrap()
            .id;
        let (_, type_before) = t
            .get_json(
                &victim.token,
                "/api/v1/document-types/justificatif-domicile",
            )
            .await;
        assert_eq!(type_before["code"], "justificatif-domicile");
        let (_, journal_before) = t.get_json(&victim.token, "/api/v1/journal").await;
        let (_, documents_before) = t.get_json(&victim.token, "/api/v1/documents").await;
        let (_, grants_before) = t.get_json(&victim.token, "/api/v1/grants").await;
        let (_, notifications_before) = t.get_json(&victim.token, "/api/v1/notifications").await;
        let request_path = format!("/api/v1/requests/{}", victim.request_id);
        let (_, request_before) = t.get_json(&victim.token, &request_path).await;
        assert_eq!(request_before["state"], "draft", "{request_before}");
        let (_, requests_before) = t.get_json(&victim.token, "/api/v1/requests").await;
        let (_, procedures_before) = t.get_json(&victim.token, "/api/v1/procedures").await;

        let mut attackers = Vec::new();
        for (name, tenant, login, role, rights) in [
            (
                "citizen, same town",
                "ville-a",
                "voisine",
                "citizen",
                &[][..],
            ),
            (
                "agent, same town",
                "ville-a",
                "agent-a",
                "agent",
                // Rights on the document's domain are not a basis to see it.
                &[("general", "consult"), ("scolaire", "manage")][..],
            ),
            (
                "citizen, other town",
                "ville-b",
                "victor",
                "citizen",
                &[][..],
            ),
            ("admin, other town", "ville-b", "admin-b", "admin", &[][..]),
        ] {
            let token = t.account(tenant, login, role, rights).await;
            attackers.push(Attacker {
                name,
                tenant,
                login,
                token,
                same_town: tenant == "ville-a",
                staff: role == "agent",
                admin: role == "admin",
            });
        }

        // The walk.
        let r = reply(t.http.get(t.url("/api/v1/openapi.json"))).await;
        assert_eq!(r.status, 200);
        let spec = r.json();
        let paths = spec["paths"]
            .as_object()
            .expect("paths in the OpenAPI document");
        let mut rows: Vec<(String, String, &'static str, u16, String)> = Vec::new();
        let mut unknown = Vec::new();
        let mut seen_kinds = HashSet::new();
        for (path, item) in paths {
            let Some(kind) = kind_of(path) else {
                unknown.push(path.clone());
                continue;
            };
            seen_kinds.insert(kind);
            let code = match kind {
                Kind::Procedure => "carte-stationnement-resident",
                Kind::Tracking => "LSS-ABCD-EFGH-2345",
                _ => "justificatif-domicile",
            };
            let fill = |id: &str| {
                path.replace("{id}", id)
                    .replace("{version}", "1")
                    .replace("{requirement}", &victim.requirement_id)
                    .replace("{code}", code)
            };
            let filled = fill(victim.id_for(kind));
            assert!(
                !filled.contains('{'),
                "{path}: a path parameter the walk cannot fill"
            );
            let item = item.as_object().unwrap();
            for method in item
                .keys()
                .filter(|m| *m != "parameters" && !m.starts_with("x-"))
            {
                if !METHODS.contains(&method.as_str()) {
                    unknown.push(format!("{method} {path}"));
                }
            }
            for method in METHODS.iter().filter(|m| item.contains_key(**m)) {
                let mut targets = vec![filled.clone()];
                if path == "/documents/{id}/content" && *method == "get" {
                    targets.push(format!("{filled}?version=1"));
                }
                for target in &targets {
                    for attacker in &attackers {
                        let send = |target: String| {
                            reply(request(
                                &t,
                                method,
                                &target,
                                path,
                                kind,
                                attacker,
                                &victim.doc_id,
                            ))
                        };
                        let r = send(target.clone()).await;
                        let made_up = if matches!(kind, Kind::VictimCitizen | Kind::Provider) {
                            Some(send(fill(&uuid::Uuid::now_v7().to_string())).await)
                        } else {
                            None
                        };
                        let verdict = judge(kind, method, attacker, &r, made_up.as_ref(), &victim)
                            .err()
                            .unwrap_or_default();
                        rows.push((
                            target.clone(),
                            method.to_uppercase(),
                            attacker.name,
                            r.status,
                            verdict,
                        ));
                    }
                }
            }
        }
        let failed = rows.iter().any(|r| !r.4.is_empty());
        if failed || !unknown.is_empty() {
            let mut table = format!(
                "{b:?}\n{:<52} {:<7} {:<20} {:>6}  problem\n",
                "route", "method", "attacker", "status"
            );
            for (route, method, attacker, status, verdict) in &rows {
                let mark = if verdict.is_empty() { "" } else { "<-- " };
                table.push_str(&format!(
                    "{route:<52} {method:<7} {attacker:<20} {status:>6}  {mark}{verdict}\n"
                ));
            }
            if !unknown.is_empty() {
                table.push_str(&format!(
                    "\nthe access walk does not know how to fill {unknown:?}: teach kind_of()\n"
                ));
            }
            panic!("access walk failed:\n{table}");
        }
        assert_eq!(seen_kinds.len(), KINDS, "{seen_kinds:?}");

        // The victim's things are untouched, and the journal shows nobody else.
        let (_, journal_after) = t.get_json(&victim.token, "/api/v1/journal").await;
        assert_eq!(
            journal_after, journal_before,
            "{b:?}: the attackers left traces in the victim's journal"
        );
        let (_, documents_after) = t.get_json(&victim.token, "/api/v1/documents").await;
        assert_eq!(documents_after, documents_before, "{b:?}");
        let (_, grants_after) = t.get_json(&victim.token, "/api/v1/grants").await;
        assert_eq!(grants_after, grants_before, "{b:?}");
        assert_eq!(grants_after[0]["status"], "active");
        let (_, request_after) = t.get_json(&victim.token, &request_path).await;
        assert_eq!(request_after, request_before, "{b:?}");
        let (_, requests_after) = t.get_json(&victim.token, "/api/v1/requests").await;
        assert_eq!(requests_after, requests_before, "{b:?}");
        let (_, procedures_after) = t.get_json(&victim.token, "/api/v1/procedures").await;
        assert_eq!(
            procedures_after, procedures_before,
            "{b:?}: another town's admin changed this town's procedures"
        );
        let (_, notifications_after) = t.get_json(&victim.token, "/api/v1/notifications").await;
        assert_eq!(notifications_after, notifications_before, "{b:?}");
        assert_eq!(notifications_after["unread"], 1);
        assert!(
            liasse_store::notifications::has_optin(
                &t.app.db,
                &tenant_a,
                &victim.account_id,
                &victim.provider_id
            )
            .await
            .unwrap(),
            "the victim's consent to the provider was withdrawn"
        );
        let (status, doc) = t
            .get_json(
                &victim.token,
                &format!("/api/v1/documents/{}", victim.doc_id),
            )
            .await;
        assert_eq!(status, 200, "{doc}");
        assert_eq!(doc["version"], 2);
        assert_eq!(doc["versions"].as_array().unwrap().len(), 2);
        assert_eq!(doc["title"], victim.title.as_str());
        assert_eq!(doc["state"], "submitted");
        let current = download(
            &t,
            &victim.token,
            &format!("/api/v1/documents/{}/content", victim.doc_id),
            "application/pdf",
        )
        .await;
        assert!(current == victim.v2, "the current version changed");
        let old = download(
            &t,
            &victim.token,
            &format!("/api/v1/documents/{}/versions/1/content", victim.doc_id),
            "application/pdf",
        )
        .await;
        assert!(old == victim.v1, "version 1 changed");
        let (_, members) = t.get_json(&victim.token, "/api/v1/household-members").await;
        assert_eq!(members.as_array().unwrap().len(), 1, "{members}");
        assert_eq!(members[0]["id"], victim.member_id.as_str());
        let (_, journal) = t.get_json(&victim.token, "/api/v1/journal").await;
        let journal = journal.as_array().unwrap();
        let before = journal_before.as_array().unwrap().len();
        for e in &journal[before..] {
            assert_eq!(
                e["action"], "document.read",
                "{b:?}: only the victim's own reads since: {e}"
            );
            assert_eq!(e["actor_kind"], "citizen", "{b:?}: {e}");
        }

        // The other town's admin changed (and withdrew) only their own town's type.
        let (status, type_after) = t
            .get_json(
                &victim.token,
                "/api/v1/document-types/justificatif-domicile",
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(
            type_after, type_before,
            "{b:?}: another town's admin changed this town's catalogue"
        );
        let foreign = &attackers[2];
        let (status, _) = t
            .get_json(
                &foreign.token,
                "/api/v1/document-types/justificatif-domicile",
            )
            .await;
        assert_eq!(status, 404, "the other town's admin withdrew it there");
        let r = deposit(
            &t,
            &victim.token,
            &[("type", "justificatif-domicile")],
            "encore.pdf",
            samples::minimal_pdf(),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text());
    }
}

//! Nobody reaches another citizen's documents: every route of the OpenAPI document is walked
//! with the tokens of another citizen of the same town, an agent of that town, a citizen of
//! another town and an admin of another town. A route naming the victim's object answers 404
//! (existence never leaks); a collection route never mentions the victim's things; the victim's
//! document, versions and journal are untouched afterwards.

use std::collections::HashSet;

use liasse_inspect::samples;
use liasse_testkit::TestApp;
use reqwest::Method;
use serde_json::json;

use crate::vault::{Reply, deposit, download, form, reply, req, unzip};

/// How the walk fills and judges a route of the OpenAPI document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Names one of the victim's documents (or a version of it).
    VictimDocument,
    /// Names one of the victim's household members.
    VictimMember,
    /// The caller's own collection: the answer must not mention the victim.
    Collection,
    /// The tenant-wide document-type catalogue.
    Catalogue,
}

/// Every path the walk knows; any other path in the OpenAPI document fails the test, so that a
/// new route is never skipped silently.
fn kind_of(path: &str) -> Option<Kind> {
    Some(match path {
        "/documents/{id}"
        | "/documents/{id}/content"
        | "/documents/{id}/versions/{version}/content"
        | "/documents/{id}/check" => Kind::VictimDocument,
        "/household-members/{id}" => Kind::VictimMember,
        "/documents" | "/documents/count" | "/journal" | "/export" | "/household-members"
        | "/document-types" | "/session" => Kind::Collection,
        "/document-types/{code}" => Kind::Catalogue,
        _ => return None,
    })
}

/// Methods in the order the walk uses them (reads before writes before deletions).
const METHODS: [&str; 6] = ["get", "head", "post", "put", "patch", "delete"];

struct Attacker {
    name: &'static str,
    tenant: &'static str,
    login: &'static str,
    token: String,
    admin: bool,
}

/// What the victim has, as any leak would show it.
struct Victim {
    token: String,
    account_id: String,
    doc_id: String,
    title: String,
    member_id: String,
    member_name: String,
    v1: Vec<u8>,
    v2: Vec<u8>,
}

impl Victim {
    fn secrets(&self) -> [(&'static str, &str); 5] {
        [
            ("document id", &self.doc_id),
            ("document title", &self.title),
            ("account id", &self.account_id),
            ("member id", &self.member_id),
            ("member name", &self.member_name),
        ]
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
    kind: Kind,
    attacker: &Attacker,
) -> reqwest::RequestBuilder {
    let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
    let url = format!("/api/v1{path}");
    let r = req(t, m, &url, &attacker.token);
    match (path, method) {
        ("/session", "post") => r.json(&json!({
            "tenant": attacker.tenant, "login": attacker.login, "password": format!("{}-password", attacker.login)
        })),
        ("/documents", "post") => r.multipart(form(
            &[("type", "photo-identite"), ("title", "Document de l'attaquant")],
            Some(("attaquant.png", samples::small_png(12, 12))),
        )),
        ("/household-members", "post") => r.json(&json!({ "name": "Membre de l'attaquant", "relation": "enfant" })),
        (_, "post" | "put") if kind == Kind::VictimDocument => r.multipart(form(
            &[("type", "justificatif-domicile")],
            Some(("remplacement.pdf", samples::pdf_with_text("Remplacement par l'attaquant"))),
        )),
        (_, "put") if kind == Kind::Catalogue => r.json(&json!({
            "label": "Type modifié par un administrateur", "domain": "general", "validity": "P1M"
        })),
        _ => r,
    }
}

/// Judges one answer; `Err` says what is wrong.
fn judge(
    kind: Kind,
    method: &str,
    attacker: &Attacker,
    r: &Reply,
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
    match kind {
        Kind::VictimDocument | Kind::VictimMember => problem(404, "not-found"),
        Kind::Collection => no_leak(),
        Kind::Catalogue => match method {
            "get" if r.status == 200 => no_leak(),
            "get" => Err(format!(
                "the catalogue of one's own town is readable, got {}",
                r.status
            )),
            // Another town's admin changes their own catalogue (checked after the walk).
            "put" if attacker.admin && (r.status == 200 || r.status == 201) => Ok(()),
            "delete" if attacker.admin && r.status == 204 => Ok(()),
            _ if attacker.admin => Err(format!("unexpected {} {}", r.status, r.text())),
            _ => problem(403, "forbidden"),
        },
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_route_refuses_other_accounts_and_towns() {
    for t in TestApp::all().await {
        let b = t.backend;
        t.tenant("ville-a").await;
        t.tenant("ville-b").await;

        // The victim: a document with two versions, a household member, a session.
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
        let victim = Victim {
            token: victim_token,
            account_id,
            doc_id,
            title,
            member_id,
            member_name: "Zoé Victorine".into(),
            v1,
            v2,
        };
        let (_, type_before) = t
            .get_json(
                &victim.token,
                "/api/v1/document-types/justificatif-domicile",
            )
            .await;
        assert_eq!(type_before["code"], "justificatif-domicile");
        let (_, journal_before) = t.get_json(&victim.token, "/api/v1/journal").await;

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
                &[("general", "manage"), ("fiscalite", "manage")][..],
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
            seen_kinds.insert(format!("{kind:?}"));
            let filled = path
                .replace(
                    "{id}",
                    if kind == Kind::VictimMember {
                        &victim.member_id
                    } else {
                        &victim.doc_id
                    },
                )
                .replace("{version}", "1")
                .replace("{code}", "justificatif-domicile");
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
                        let r = reply(request(&t, method, target, kind, attacker)).await;
                        let verdict = judge(kind, method, attacker, &r, &victim)
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
        assert!(
            unknown.is_empty(),
            "the access walk does not know how to fill {unknown:?}: teach kind_of()"
        );
        assert_eq!(seen_kinds.len(), 4, "{seen_kinds:?}");
        if rows.iter().any(|r| !r.4.is_empty()) {
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
            panic!("access walk failed:\n{table}");
        }

        // The victim's things are untouched, and the journal shows nobody else.
        let (_, journal_after) = t.get_json(&victim.token, "/api/v1/journal").await;
        assert_eq!(
            journal_after, journal_before,
            "{b:?}: the attackers left traces in the victim's journal"
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
        let (_, list) = t.get_json(&victim.token, "/api/v1/documents").await;
        assert_eq!(
            list.as_array().unwrap().len(),
            1,
            "nothing was added to the victim's vault: {list}"
        );
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
        let (_, list) = t.get_json(&foreign.token, "/api/v1/documents").await;
        assert!(!list.to_string().contains(&victim.doc_id));
    }
}

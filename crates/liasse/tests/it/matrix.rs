//! The access matrix: every role × every document route × every basis, each cell checked
//! against an expectation written out by hand (not recomputed from the policy), the whole
//! table printed when a cell is wrong. Then what the citizen sees of it: a journal listing
//! every read, check, review, replacement and deletion with the actor's name, service and
//! basis, in order, and a journal chain that `liasse verify` still accepts. A second test
//! shows that a tenant admin manages the catalogue, procedures and accounts but cannot read
//! a byte of any document.

use std::fmt;

use liasse_app::{auth, verify};
use liasse_domain::journal::Actor;
use liasse_inspect::samples;
use liasse_testkit::TestApp;
use reqwest::Method;
use serde_json::{Value, json};

use crate::cli::{liasse, text};
use crate::vault::{Reply, form, reply, req, unzip};

const TOWN: &str = "ville-matrice";
const OTHER_TOWN: &str = "ville-voisine";
/// The domain of the procedure and of the grants: the bases' domain.
const DOMAIN: &str = "scolaire";
const PROCEDURE: &str = "matrice-scolaire";
/// The citizens' documents are of a type of another domain (`general`): rights on the
/// document's own domain are no basis.
const DOC_TYPE: &str = "justificatif-domicile";
/// The service of the agents who deposit letters (and of the agent without any right).
const SCHOOL_SERVICE: &str = "Service scolaire";
const PROVIDER_SERVICE: &str = "CAF";
const DAY_MS: i64 = 86_400_000;

// ------------------------------------------------------------------------------ the axes

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// The citizen whose document it is.
    Owner,
    /// Another citizen of the same town.
    OtherCitizen,
    /// An agent of the letter-writing service with no right at all (`scolaire=none`).
    AgentNoRight,
    /// `scolaire=consult`, same service.
    AgentConsult,
    /// `scolaire=modify`, same service; also the one who deposits letters and handles requests.
    AgentModify,
    /// `social=modify` and `general=consult` (the document type's domain), another service.
    AgentOtherDomain,
    /// `scolaire=manage`, another service.
    Manager,
    /// The town's admin, with `scolaire=manage` too: rights give an admin nothing.
    Admin,
    /// An agent of another town with `scolaire=modify` and the same service name.
    OtherTownAgent,
    /// A service client that the grant-basis citizens name in a grant.
    ServiceGranted,
    /// A service client nobody granted anything.
    ServiceNoGrant,
    /// A trusted provider (CAF) that pushes certified documents.
    Provider,
}

const ROLES: [Role; 12] = [
    Role::Owner,
    Role::OtherCitizen,
    Role::AgentNoRight,
    Role::AgentConsult,
    Role::AgentModify,
    Role::AgentOtherDomain,
    Role::Manager,
    Role::Admin,
    Role::OtherTownAgent,
    Role::ServiceGranted,
    Role::ServiceNoGrant,
    Role::Provider,
];

impl Role {
    fn label(self) -> &'static str {
        match self {
            Role::Owner => "citizen owner",
            Role::OtherCitizen => "other citizen",
            Role::AgentNoRight => "agent, no right",
            Role::AgentConsult => "agent, consult",
            Role::AgentModify => "agent, modify",
            Role::AgentOtherDomain => "agent, other domain",
            Role::Manager => "manager",
            Role::Admin => "tenant admin",
            Role::OtherTownAgent => "other town's agent",
            Role::ServiceGranted => "service, granted",
            Role::ServiceNoGrant => "service, no grant",
            Role::Provider => "provider",
        }
    }

    /// `actor_kind` in the journal.
    fn kind(self) -> &'static str {
        match self {
            Role::Owner | Role::OtherCitizen => "citizen",
            Role::Manager => "manager",
            Role::Admin => "admin",
            Role::ServiceGranted | Role::ServiceNoGrant | Role::Provider => "service",
            _ => "agent",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Basis {
    /// A document in the vault, nothing else.
    None,
    /// Attached to a submitted request of the `scolaire` procedure.
    OpenRequest,
    /// Attached to a request that was handled and closed.
    ClosedRequest,
    /// A grant to the `scolaire` domain (by document) and one to the granted service client
    /// (by type), both live.
    GrantValid,
    /// The same two grants, revoked.
    GrantRevoked,
    /// The same two grants, ended yesterday.
    GrantExpired,
    /// A letter the `scolaire=modify` agent deposited (service "Service scolaire").
    Letter,
    /// A certified document the provider pushed to a citizen who opted in.
    Certified,
}

const BASES: [Basis; 8] = [
    Basis::None,
    Basis::OpenRequest,
    Basis::ClosedRequest,
    Basis::GrantValid,
    Basis::GrantRevoked,
    Basis::GrantExpired,
    Basis::Letter,
    Basis::Certified,
];

impl Basis {
    fn label(self) -> &'static str {
        match self {
            Basis::None => "no basis",
            Basis::OpenRequest => "open request",
            Basis::ClosedRequest => "closed request",
            Basis::GrantValid => "grant valid",
            Basis::GrantRevoked => "grant revoked",
            Basis::GrantExpired => "grant expired",
            Basis::Letter => "letter (agency)",
            Basis::Certified => "certified (provider)",
        }
    }
}

/// In the order the cells run: reads, the listing, reviews, then the replacement and the
/// deletion (the owner's deletion is the very last cell of a basis).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Route {
    /// GET /documents/{id}
    Get,
    /// GET /documents/{id}/content
    Content,
    /// GET /documents/{id}/versions/1/content
    Version1,
    /// POST /documents/{id}/check
    Check,
    /// GET /citizens/{citizen}/documents
    Listing,
    /// POST /documents/{id}/review {decision: validated}
    Validate,
    /// POST /documents/{id}/review {decision: rejected, reason}
    Reject,
    /// PUT /documents/{id}/content
    Replace,
    /// DELETE /documents/{id}
    Delete,
}

const ROUTES: [Route; 9] = [
    Route::Get,
    Route::Content,
    Route::Version1,
    Route::Check,
    Route::Listing,
    Route::Validate,
    Route::Reject,
    Route::Replace,
    Route::Delete,
];

impl Route {
    fn label(self) -> &'static str {
        match self {
            Route::Get => "get",
            Route::Content => "content",
            Route::Version1 => "v1",
            Route::Check => "check",
            Route::Listing => "list",
            Route::Validate => "validate",
            Route::Reject => "reject",
            Route::Replace => "replace",
            Route::Delete => "delete",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Route::Get => "GET /documents/{id}",
            Route::Content => "GET /documents/{id}/content",
            Route::Version1 => "GET /documents/{id}/versions/1/content",
            Route::Check => "POST /documents/{id}/check",
            Route::Listing => "GET /citizens/{citizen}/documents (in: listed, out: not listed)",
            Route::Validate => "POST /documents/{id}/review {validated}",
            Route::Reject => "POST /documents/{id}/review {rejected, reason}",
            Route::Replace => "PUT /documents/{id}/content",
            Route::Delete => "DELETE /documents/{id}",
        }
    }

    /// The journal action a successful call leaves, if any.
    fn journal_action(self) -> Option<&'static str> {
        match self {
            Route::Content | Route::Version1 => Some("document.read"),
            Route::Check => Some("document.check"),
            Route::Validate | Route::Reject => Some("document.review"),
            Route::Replace => Some("document.replace"),
            Route::Delete => Some("document.delete"),
            Route::Get | Route::Listing => None,
        }
    }

    fn mutates(self) -> bool {
        matches!(
            self,
            Route::Validate | Route::Reject | Route::Replace | Route::Delete
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Status(u16),
    /// The listing answered 200 and contains the document.
    Listed,
    /// The listing answered 200 and does not mention the document.
    NotListed,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Status(s) => write!(f, "{s}"),
            Outcome::Listed => write!(f, "in"),
            Outcome::NotListed => write!(f, "out"),
        }
    }
}

// ------------------------------------------------------------------------------ the expectation

/// The expected answer of every cell, written from the rules of the issue:
///
/// - the citizen does everything with their own documents except reviewing them;
/// - agents and managers read (metadata, content, check) through an open request of a domain
///   where they have at least consult, a live grant to such a domain, or a document their own
///   service deposited; they review (modify at least) through the first two only; they never
///   replace or delete;
/// - service clients read through a live grant to them or their own deposits, nothing else;
/// - admins, other citizens and other towns have nothing;
/// - a refusal is 404 (existence never leaks), except the role-restricted agents' listing
///   (403 for citizens and admins, 404 for a citizen of another town).
fn expected(role: Role, route: Route, basis: Basis) -> Outcome {
    use Basis as B;
    use Outcome::{Listed, NotListed, Status};
    use Role as R;
    let reads = match role {
        R::Owner => true,
        R::OtherCitizen | R::Admin | R::OtherTownAgent => false,
        // Same service as the letter's depositor: the letter, and nothing else.
        R::AgentNoRight => basis == B::Letter,
        R::AgentConsult | R::AgentModify => {
            matches!(basis, B::OpenRequest | B::GrantValid | B::Letter)
        }
        // Rights, but on other domains than the bases', and another service.
        R::AgentOtherDomain => false,
        // Right on the domain, but not the service that wrote the letter.
        R::Manager => matches!(basis, B::OpenRequest | B::GrantValid),
        R::ServiceGranted => basis == B::GrantValid,
        R::ServiceNoGrant => false,
        R::Provider => basis == B::Certified,
    };
    let reviews = matches!(role, R::AgentModify | R::Manager)
        && matches!(basis, B::OpenRequest | B::GrantValid);
    let denied = Status(404);
    match route {
        Route::Get | Route::Content | Route::Version1 | Route::Check => {
            if reads {
                Status(200)
            } else {
                denied
            }
        }
        Route::Listing => match role {
            R::Owner | R::OtherCitizen | R::Admin => Status(403),
            R::OtherTownAgent => Status(404),
            _ if reads => Listed,
            _ => NotListed,
        },
        Route::Validate | Route::Reject => {
            if reviews {
                Status(200)
            } else {
                denied
            }
        }
        Route::Replace => {
            if role == R::Owner {
                Status(200)
            } else {
                denied
            }
        }
        Route::Delete => {
            if role == R::Owner {
                Status(204)
            } else {
                denied
            }
        }
    }
}

// ------------------------------------------------------------------------------ the cast

#[derive(Clone, Debug)]
struct Who {
    id: String,
    token: String,
    name: String,
    service: String,
}

#[allow(clippy::too_many_arguments)]
async fn account(
    t: &TestApp,
    town: &str,
    login: &str,
    name: &str,
    role: &str,
    service: &str,
    rights: &[(&str, &str)],
    scopes: &str,
) -> Who {
    let row = auth::create_user(
        &t.app,
        Actor::operator(),
        auth::NewUser {
            tenant_slug: town,
            login,
            role: liasse_domain::policy::Role::parse(role).expect("role"),
            display_name: Some(name),
            email: None,
            service: (!service.is_empty()).then_some(service),
            rights: rights
                .iter()
                .map(|(d, l)| (d.to_string(), l.to_string()))
                .collect(),
            password: None,
        },
    )
    .await
    .expect("create user");
    let token = auth::create_token(&t.app, Actor::operator(), town, login, scopes, "matrice")
        .await
        .expect("create token");
    Who {
        id: row.id,
        token,
        name: name.into(),
        service: service.into(),
    }
}

/// Everyone but the owners (one per basis).
struct Cast {
    others: Vec<(Role, Who)>,
}

impl Cast {
    async fn new(t: &TestApp) -> Cast {
        let mut others = Vec::new();
        for (role, town, login, name, kind, service, rights, scopes) in [
            (
                Role::OtherCitizen,
                TOWN,
                "voisine",
                "Valérie Voisine",
                "citizen",
                "",
                &[][..],
                "",
            ),
            (
                Role::AgentNoRight,
                TOWN,
                "agent-sans-droit",
                "Noé Sansdroit",
                "agent",
                SCHOOL_SERVICE,
                &[(DOMAIN, "none")][..],
                "",
            ),
            (
                Role::AgentConsult,
                TOWN,
                "agent-consult",
                "Claire Consult",
                "agent",
                SCHOOL_SERVICE,
                &[(DOMAIN, "consult")][..],
                "",
            ),
            (
                Role::AgentModify,
                TOWN,
                "agent-modif",
                "Marc Modif",
                "agent",
                SCHOOL_SERVICE,
                &[(DOMAIN, "modify")][..],
                "",
            ),
            (
                Role::AgentOtherDomain,
                TOWN,
                "agent-social",
                "Sophie Social",
                "agent",
                "CCAS",
                &[("social", "modify"), ("general", "consult")][..],
                "",
            ),
            (
                Role::Manager,
                TOWN,
                "responsable",
                "Rémi Responsable",
                "manager",
                "Direction de l'éducation",
                &[(DOMAIN, "manage")][..],
                "",
            ),
            (
                Role::Admin,
                TOWN,
                "admin",
                "Adèle Admin",
                "admin",
                "",
                &[(DOMAIN, "manage")][..],
                "",
            ),
            (
                Role::OtherTownAgent,
                OTHER_TOWN,
                "agent-voisin",
                "Victor Voisin",
                "agent",
                SCHOOL_SERVICE,
                &[(DOMAIN, "modify")][..],
                "",
            ),
            (
                Role::ServiceGranted,
                TOWN,
                "portail",
                "Portail famille",
                "service",
                "Portail famille",
                &[][..],
                "deposit",
            ),
            (
                Role::ServiceNoGrant,
                TOWN,
                "logiciel",
                "Logiciel métier",
                "service",
                "Éditeur logiciel",
                &[][..],
                "deposit",
            ),
            (
                Role::Provider,
                TOWN,
                "caf",
                "Caisse d'allocations familiales",
                "service",
                PROVIDER_SERVICE,
                &[][..],
                "provider",
            ),
        ] {
            let who = account(t, town, login, name, kind, service, rights, scopes).await;
            others.push((role, who));
        }
        Cast { others }
    }

    fn get(&self, role: Role) -> &Who {
        &self
            .others
            .iter()
            .find(|(r, _)| *r == role)
            .expect("a member of the cast")
            .1
    }
}

// ------------------------------------------------------------------------------ the fixtures

/// One citizen and one document per basis, so that the cells of one basis cannot influence
/// another's.
struct Fixture {
    basis: Basis,
    owner: Who,
    doc_id: String,
    title: String,
    /// Text inside the PDF: no refused answer may contain it.
    marker: String,
    content: Vec<u8>,
    request_id: String,
    domain_grant: String,
    client_grant: String,
    /// The ids of the services whose deposits are a basis (letters, certified documents).
    school_service: String,
    provider_service: String,
}

impl Fixture {
    fn who<'a>(&'a self, cast: &'a Cast, role: Role) -> &'a Who {
        if role == Role::Owner {
            &self.owner
        } else {
            cast.get(role)
        }
    }

    /// The basis the journal (and the agents' listing) must show for an allowed access.
    fn basis_of(&self, role: Role) -> (&'static str, String) {
        match (role, self.basis) {
            (Role::Owner, _) => ("owner", String::new()),
            (Role::ServiceGranted, _) => ("grant", self.client_grant.clone()),
            (Role::Provider, _) => ("deposit", self.provider_service.clone()),
            (_, Basis::OpenRequest) => ("request", self.request_id.clone()),
            (_, Basis::GrantValid) => ("grant", self.domain_grant.clone()),
            (_, Basis::Letter) => ("deposit", self.school_service.clone()),
            _ => ("?", "?".into()),
        }
    }
}

async fn call(t: &TestApp, method: Method, path: &str, token: &str, body: Option<Value>) -> Reply {
    let r = req(t, method, path, token);
    reply(match body {
        Some(b) => r.json(&b),
        None => r,
    })
    .await
}

fn ok(r: &Reply, status: u16, what: &str) -> Value {
    assert_eq!(r.status, status, "{what}: {}", r.text());
    r.json()
}

async fn fixture(t: &TestApp, cast: &Cast, basis: Basis, n: usize) -> Fixture {
    let owner = account(
        t,
        TOWN,
        &format!("usager-{n}"),
        &format!("Usager {n}"),
        "citizen",
        "",
        &[],
        "",
    )
    .await;
    let modify = cast.get(Role::AgentModify);
    let tag = format!("{:08x}", rand_tag(n));
    let title = format!("Pièce {} {tag}", basis.label());
    let marker = format!("Contenu confidentiel {tag}");
    let content = samples::pdf_with_text(&marker);
    let deposit = |token: &str, path: &str, doc_type: &str| {
        reply(req(t, Method::POST, path, token).multipart(form(
            &[("type", doc_type), ("title", &title)],
            Some(("piece.pdf", content.clone())),
        )))
    };
    let doc = match basis {
        Basis::Letter => {
            let path = format!("/api/v1/citizens/{}/documents", owner.id);
            ok(
                &deposit(&modify.token, &path, "courrier").await,
                201,
                "letter",
            )
        }
        Basis::Certified => {
            let provider = cast.get(Role::Provider);
            let path = format!("/api/v1/providers/{}/consent", provider.id);
            ok(
                &call(t, Method::PUT, &path, &owner.token, None).await,
                204,
                "consent",
            );
            let path = format!(
                "/api/v1/citizens/{}/documents",
                t.citizen_ref(&provider.token, &owner.id).await
            );
            let doc = deposit(&provider.token, &path, "attestation-caf-certifiee").await;
            let doc = ok(&doc, 201, "certified document");
            assert_eq!(doc["state"], "certified", "{doc}");
            doc
        }
        _ => ok(
            &deposit(&owner.token, "/api/v1/documents", DOC_TYPE).await,
            201,
            "deposit",
        ),
    };
    let doc_id = doc["id"].as_str().unwrap().to_string();
    let service_id = |name: &'static str| async move {
        let tenant = liasse_store::tenants::by_slug(&t.app.db, TOWN)
            .await
            .unwrap()
            .unwrap();
        liasse_store::staff::service_by_name(&t.app.db, &tenant.id, name)
            .await
            .unwrap()
            .map(|s| s.id)
            .unwrap_or_default()
    };
    let mut fx = Fixture {
        school_service: service_id(SCHOOL_SERVICE).await,
        provider_service: service_id(PROVIDER_SERVICE).await,
        basis,
        owner,
        doc_id,
        title,
        marker,
        content,
        request_id: String::new(),
        domain_grant: String::new(),
        client_grant: String::new(),
    };
    match basis {
        Basis::OpenRequest | Basis::ClosedRequest => {
            let token = fx.owner.token.clone();
            let body = json!({ "procedure": PROCEDURE, "answers": {} });
            let r = call(t, Method::POST, "/api/v1/requests", &token, Some(body)).await;
            fx.request_id = ok(&r, 201, "request")["id"].as_str().unwrap().to_string();
            let base = format!("/api/v1/requests/{}", fx.request_id);
            let body = json!({ "document": fx.doc_id });
            let r = call(
                t,
                Method::PUT,
                &format!("{base}/attachments/domicile"),
                &token,
                Some(body),
            )
            .await;
            ok(&r, 200, "attach");
            let steps: &[(&str, &str)] = if basis == Basis::OpenRequest {
                &[("submitted", "owner")]
            } else {
                &[
                    ("submitted", "owner"),
                    ("in_progress", "agent"),
                    ("completed", "agent"),
                    ("closed", "agent"),
                ]
            };
            for (to, by) in steps {
                let who = if *by == "owner" {
                    &token
                } else {
                    &modify.token
                };
                let r = call(
                    t,
                    Method::POST,
                    &format!("{base}/transitions"),
                    who,
                    Some(json!({ "to": to })),
                )
                .await;
                assert_eq!(ok(&r, 200, to)["state"], *to);
            }
        }
        Basis::GrantValid | Basis::GrantRevoked | Basis::GrantExpired => {
            // The expired grants end today; the clock moves one day before the cells run.
            let until = if basis == Basis::GrantExpired {
                "2026-01-15"
            } else {
                "2026-06-30"
            };
            let token = fx.owner.token.clone();
            let body = json!({
                "domain": DOMAIN, "documents": [fx.doc_id], "purpose": "Inscription à l'école", "until": until
            });
            let r = call(t, Method::POST, "/api/v1/grants", &token, Some(body)).await;
            fx.domain_grant = ok(&r, 201, "domain grant")["id"]
                .as_str()
                .unwrap()
                .to_string();
            let body = json!({
                "client": cast.get(Role::ServiceGranted).id, "types": [DOC_TYPE], "purpose": "Portail famille", "until": until
            });
            let r = call(t, Method::POST, "/api/v1/grants", &token, Some(body)).await;
            fx.client_grant = ok(&r, 201, "client grant")["id"]
                .as_str()
                .unwrap()
                .to_string();
            if basis == Basis::GrantRevoked {
                for id in [&fx.domain_grant, &fx.client_grant] {
                    let r = call(
                        t,
                        Method::DELETE,
                        &format!("/api/v1/grants/{id}"),
                        &token,
                        None,
                    )
                    .await;
                    ok(&r, 204, "revoke");
                }
            }
        }
        _ => {}
    }
    fx
}

/// A distinct tag per fixture and run, so that a leak of one document is recognisable.
fn rand_tag(n: usize) -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    nanos
        .wrapping_mul(2_654_435_761)
        .wrapping_add(n as u32 * 7919)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

// ------------------------------------------------------------------------------ the cells

struct Cell {
    role: Role,
    basis: Basis,
    route: Route,
    expected: Outcome,
    actual: Outcome,
    /// Empty when the cell is right.
    problem: String,
}

/// One journal line as the citizen reads it.
type Line = (String, String, String, String, String, String, String);

fn line(action: &str, kind: &str, who: &Who, basis: (&str, String), doc_id: &str) -> Line {
    (
        action.into(),
        kind.into(),
        who.name.clone(),
        who.service.clone(),
        basis.0.into(),
        basis.1,
        doc_id.into(),
    )
}

async fn snapshot(t: &TestApp, fx: &Fixture) -> (u16, Value) {
    let r = call(
        t,
        Method::GET,
        &format!("/api/v1/documents/{}", fx.doc_id),
        &fx.owner.token,
        None,
    )
    .await;
    (r.status, r.json())
}

/// Runs one cell; returns the outcome and what is wrong besides the status.
async fn run_cell(
    t: &TestApp,
    fx: &Fixture,
    who: &Who,
    role: Role,
    route: Route,
    expected: Outcome,
) -> (Outcome, String) {
    let doc = format!("/api/v1/documents/{}", fx.doc_id);
    let before = if route.mutates() {
        Some(snapshot(t, fx).await)
    } else {
        None
    };
    let r = match route {
        Route::Get => call(t, Method::GET, &doc, &who.token, None).await,
        Route::Content => call(t, Method::GET, &format!("{doc}/content"), &who.token, None).await,
        Route::Version1 => {
            call(
                t,
                Method::GET,
                &format!("{doc}/versions/1/content"),
                &who.token,
                None,
            )
            .await
        }
        Route::Check => call(t, Method::POST, &format!("{doc}/check"), &who.token, None).await,
        Route::Listing => {
            let path = format!(
                "/api/v1/citizens/{}/documents",
                t.citizen_ref(&who.token, &fx.owner.id).await
            );
            call(t, Method::GET, &path, &who.token, None).await
        }
        Route::Validate => {
            let body = json!({ "decision": "validated" });
            call(
                t,
                Method::POST,
                &format!("{doc}/review"),
                &who.token,
                Some(body),
            )
            .await
        }
        Route::Reject => {
            let body = json!({ "decision": "rejected", "reason": "Pièce illisible" });
            call(
                t,
                Method::POST,
                &format!("{doc}/review"),
                &who.token,
                Some(body),
            )
            .await
        }
        Route::Replace => {
            let file = samples::pdf_with_text(&format!("Remplacement par {}", role.label()));
            reply(
                req(t, Method::PUT, &format!("{doc}/content"), &who.token)
                    .multipart(form(&[], Some(("nouvelle.pdf", file)))),
            )
            .await
        }
        Route::Delete => call(t, Method::DELETE, &doc, &who.token, None).await,
    };
    let body = r.json();
    let actual = match (route, r.status) {
        (Route::Listing, 200) => {
            let listed = body
                .as_array()
                .is_some_and(|items| items.iter().any(|i| i["id"] == fx.doc_id.as_str()));
            if listed {
                Outcome::Listed
            } else {
                Outcome::NotListed
            }
        }
        (_, s) => Outcome::Status(s),
    };
    let mut problems: Vec<String> = Vec::new();
    if r.status >= 500 {
        problems.push(format!("server error: {}", r.text()));
    }
    let allowed =
        matches!(expected, Outcome::Listed) || matches!(expected, Outcome::Status(s) if s < 300);
    if actual == expected && allowed {
        let wrong = match route {
            Route::Get => (body["id"] != fx.doc_id.as_str() || body["title"] != fx.title.as_str())
                .then(|| format!("not the document: {body}")),
            Route::Content | Route::Version1 => {
                (r.body != fx.content).then(|| "not the document's bytes".to_string())
            }
            Route::Check => (body["intact"] != true).then(|| format!("not intact: {body}")),
            Route::Listing => {
                let item = body
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|i| i["id"] == fx.doc_id.as_str())
                    .cloned()
                    .unwrap_or_default();
                let (kind, id) = fx.basis_of(role);
                (item["basis"]["kind"] != kind || item["basis"]["id"] != id.as_str())
                    .then(|| format!("listed with basis {}, expected {kind} {id}", item["basis"]))
            }
            _ => None,
        };
        problems.extend(wrong);
    } else if let Outcome::Status(s @ (403 | 404)) = actual {
        let code = if s == 403 { "forbidden" } else { "not-found" };
        if r.header("content-type") != "application/problem+json"
            || body["type"] != format!("https://liasse.fr/problems/{code}")
        {
            problems.push(format!(
                "not a {code} problem: {} {}",
                r.header("content-type"),
                r.text()
            ));
        }
    }
    if !allowed || actual != expected {
        // A refusal (or an unexpected answer) says nothing of the document.
        for (what, secret) in [
            ("title", fx.title.as_bytes()),
            ("content", fx.marker.as_bytes()),
            ("document id", fx.doc_id.as_bytes()),
        ] {
            if contains(&r.body, secret) {
                problems.push(format!("the answer contains the document's {what}"));
            }
        }
    }
    if let Some((before_status, before)) = before {
        let (after_status, after) = snapshot(t, fx).await;
        let succeeded = matches!(actual, Outcome::Status(s) if s < 300);
        // (is it wrong, what is wrong)
        let checks: Vec<(bool, String)> = match (route, succeeded) {
            (_, false) => vec![(
                (after_status, &after) != (before_status, &before),
                format!("refused, yet the document changed: {before} -> {after}"),
            )],
            (Route::Validate | Route::Reject, true) => {
                let decision = if route == Route::Validate {
                    "validated"
                } else {
                    "rejected"
                };
                vec![
                    (
                        after["review_state"] != decision || after["version"] != before["version"],
                        format!("review not applied: {after}"),
                    ),
                    (
                        route == Route::Reject && after["review_reason"] != "Pièce illisible",
                        format!("rejection without its reason: {after}"),
                    ),
                ]
            }
            (Route::Replace, true) => {
                let v = before["version"].as_i64().unwrap_or(0);
                vec![
                    (
                        after["version"] != v + 1
                            || after["versions"].as_array().map(Vec::len) != Some(v as usize + 1),
                        format!("no new version: {after}"),
                    ),
                    // A new version has not been reviewed by anyone, whoever made the previous one.
                    (
                        after["review_state"] != "submitted",
                        format!("the new version kept the state {}", after["review_state"]),
                    ),
                ]
            }
            (Route::Delete, true) => vec![(
                after_status != 404,
                format!("still there after deletion: {after_status} {after}"),
            )],
            _ => Vec::new(),
        };
        problems.extend(
            checks
                .into_iter()
                .filter(|(bad, _)| *bad)
                .map(|(_, what)| what),
        );
    }
    (actual, problems.join("; "))
}

fn table(backend: &str, cells: &[Cell]) -> String {
    let mut out = format!(
        "{backend}: {} roles × {} bases × {} routes = {} cells; each cell is expected/actual, * marks a wrong cell\n",
        ROLES.len(),
        BASES.len(),
        ROUTES.len(),
        cells.len()
    );
    for route in ROUTES {
        out.push_str(&format!("  {:<9} {}\n", route.label(), route.describe()));
    }
    out.push_str(&format!("{:<44}", "role / basis"));
    for route in ROUTES {
        out.push_str(&format!("{:<11}", route.label()));
    }
    out.push('\n');
    for basis in BASES {
        for role in ROLES {
            out.push_str(&format!(
                "{:<44}",
                format!("{} / {}", role.label(), basis.label())
            ));
            for route in ROUTES {
                let c = cells
                    .iter()
                    .find(|c| c.role == role && c.basis == basis && c.route == route);
                let text = match c {
                    Some(c) => {
                        let mark = if c.problem.is_empty() { "" } else { "*" };
                        format!("{}/{}{mark}", c.expected, c.actual)
                    }
                    None => "MISSING".into(),
                };
                out.push_str(&format!("{text:<11}"));
            }
            out.push('\n');
        }
    }
    let wrong: Vec<&Cell> = cells.iter().filter(|c| !c.problem.is_empty()).collect();
    out.push_str(&format!("\n{} wrong cell(s):\n", wrong.len()));
    for c in wrong {
        out.push_str(&format!(
            "  {} / {} / {}: expected {}, got {}: {}\n",
            c.role.label(),
            c.basis.label(),
            c.route.describe(),
            c.expected,
            c.actual,
            c.problem
        ));
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn access_matrix_roles_routes_and_bases() {
    for t in TestApp::all().await {
        let backend = format!("{:?}", t.backend);
        t.tenant(TOWN).await;
        t.tenant(OTHER_TOWN).await;
        let cast = Cast::new(&t).await;
        let admin = cast.get(Role::Admin);
        let procedure = json!({
            "title": "Inscription scolaire (matrice)",
            "domain": DOMAIN,
            "requirements": [{ "key": "domicile", "type": DOC_TYPE, "mandatory": true, "for": "citizen" }]
        });
        let r = call(
            &t,
            Method::PUT,
            &format!("/api/v1/procedures/{PROCEDURE}"),
            &admin.token,
            Some(procedure),
        )
        .await;
        ok(&r, 201, "procedure");

        let mut fixtures = Vec::new();
        for (n, basis) in BASES.into_iter().enumerate() {
            fixtures.push(fixture(&t, &cast, basis, n).await);
        }
        // The expired grants ended yesterday; every other basis is unaffected by the day.
        t.clock.advance(DAY_MS);

        let mut cells: Vec<Cell> = Vec::new();
        let mut journals: Vec<Vec<Line>> = vec![Vec::new(); fixtures.len()];
        for (fx, expected_journal) in fixtures.iter().zip(journals.iter_mut()) {
            for route in ROUTES {
                // The owner's deletion comes last: everyone else tries it first.
                let mut order: Vec<Role> = ROLES.to_vec();
                if route == Route::Delete {
                    order.retain(|r| *r != Role::Owner);
                    order.push(Role::Owner);
                }
                for role in order {
                    let who = fx.who(&cast, role);
                    let want = expected(role, route, fx.basis);
                    let (actual, mut problem) = run_cell(&t, fx, who, role, route, want).await;
                    if actual != want {
                        problem = if problem.is_empty() {
                            "wrong answer".into()
                        } else {
                            format!("wrong answer; {problem}")
                        };
                    }
                    if let (Some(action), Outcome::Status(s)) = (route.journal_action(), actual)
                        && s < 300
                    {
                        expected_journal.push(line(
                            action,
                            role.kind(),
                            who,
                            fx.basis_of(role),
                            &fx.doc_id,
                        ));
                    }
                    cells.push(Cell {
                        role,
                        basis: fx.basis,
                        route,
                        expected: want,
                        actual,
                        problem,
                    });
                }
            }
        }
        assert_eq!(cells.len(), ROLES.len() * BASES.len() * ROUTES.len());
        if cells.iter().any(|c| !c.problem.is_empty()) {
            panic!("access matrix failed\n{}", table(&backend, &cells));
        }
        eprintln!("{}", table(&backend, &cells));

        // Each citizen's journal lists every access that happened, with who, which service and
        // on what basis, in order, and nothing for the refused cells.
        let tracked = [
            "document.read",
            "document.check",
            "document.review",
            "document.replace",
            "document.delete",
        ];
        for (fx, want) in fixtures.iter().zip(&journals) {
            let r = call(&t, Method::GET, "/api/v1/journal", &fx.owner.token, None).await;
            let journal = ok(&r, 200, "journal");
            let got: Vec<Line> = journal
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| tracked.iter().any(|a| e["action"] == *a))
                .map(|e| {
                    let s = |k: &str| e[k].as_str().unwrap_or_default().to_string();
                    (
                        s("action"),
                        s("actor_kind"),
                        s("actor_name"),
                        s("actor_service"),
                        s("basis_kind"),
                        s("basis_id"),
                        s("object_id"),
                    )
                })
                .collect();
            assert_eq!(
                &got,
                want,
                "{backend} / {}: the citizen's journal",
                fx.basis.label()
            );
            // Every agent read is there: the basis of each is a real one of this document.
            let agent_reads = got
                .iter()
                .filter(|l| l.0 == "document.read" && l.1 != "citizen")
                .count();
            let expected_reads = ROLES
                .iter()
                .filter(|r| {
                    **r != Role::Owner
                        && expected(**r, Route::Content, fx.basis) == Outcome::Status(200)
                })
                .count()
                * 2;
            assert_eq!(
                agent_reads,
                expected_reads,
                "{backend} / {}",
                fx.basis.label()
            );
            // Seq numbers only grow: the journal is in order.
            let seqs: Vec<i64> = journal
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["seq"].as_i64().unwrap())
                .collect();
            assert!(
                seqs.windows(2).all(|w| w[0] < w[1]),
                "{backend}: journal out of order"
            );
        }

        // And the chain and the blobs still verify, in-process and with the binary.
        let report = verify::run(&t.app, false).await.expect("verify");
        assert!(report.is_clean(), "{backend}: {report:?}");
        let out = liasse(&t, &["verify"], None);
        assert!(
            out.status.success(),
            "{backend}: liasse verify: {}",
            text(&out)
        );
    }
}

// ------------------------------------------------------------------------------ the admin

/// A tenant admin (even with rights on the domain) manages the catalogue, the procedures and
/// the accounts, and reads nothing: every document route answers 404 (403 for the agents'
/// routes), and no answer carries the document's title or a byte of its content.
#[tokio::test(flavor = "multi_thread")]
async fn admin_manages_everything_but_reads_no_document() {
    for t in TestApp::all().await {
        let b = format!("{:?}", t.backend);
        t.tenant(TOWN).await;
        let admin = account(
            &t,
            TOWN,
            "admin",
            "Adèle Admin",
            "admin",
            "Mairie",
            &[(DOMAIN, "manage")],
            "",
        )
        .await;
        let citizen = account(&t, TOWN, "usager", "Ursule Usager", "citizen", "", &[], "").await;
        let title = "Avis d'imposition confidentiel 5d1e";
        let (marker1, marker2) = ("Revenu fiscal 5d1e premier", "Revenu fiscal 5d1e second");
        let (v1, v2) = (
            samples::pdf_with_text(marker1),
            samples::pdf_with_text(marker2),
        );
        let r = reply(
            req(&t, Method::POST, "/api/v1/documents", &citizen.token).multipart(form(
                &[("type", DOC_TYPE), ("title", title)],
                Some(("avis.pdf", v1.clone())),
            )),
        )
        .await;
        let doc_id = ok(&r, 201, "deposit")["id"].as_str().unwrap().to_string();
        let doc = format!("/api/v1/documents/{doc_id}");
        let r = reply(
            req(&t, Method::PUT, &format!("{doc}/content"), &citizen.token)
                .multipart(form(&[], Some(("avis2.pdf", v2.clone())))),
        )
        .await;
        ok(&r, 200, "replace");

        let mut admin_answers: Vec<(String, Reply)> = Vec::new();

        // The admin manages the procedures...
        let mut procedure = json!({
            "title": "Inscription scolaire",
            "domain": DOMAIN,
            "requirements": [{ "key": "domicile", "type": DOC_TYPE, "mandatory": true, "for": "citizen" }]
        });
        let path = format!("/api/v1/procedures/{PROCEDURE}");
        let r = call(
            &t,
            Method::PUT,
            &path,
            &admin.token,
            Some(procedure.clone()),
        )
        .await;
        ok(&r, 201, "create procedure");
        admin_answers.push((format!("PUT {path}"), r));
        procedure["title"] = json!("Inscription scolaire et périscolaire");
        let r = call(&t, Method::PUT, &path, &admin.token, Some(procedure)).await;
        ok(&r, 200, "update procedure");
        admin_answers.push((format!("PUT {path} (update)"), r));

        // ...the catalogue...
        let path = "/api/v1/document-types/attestation-natation";
        let def =
            json!({ "label": "Attestation de natation", "domain": DOMAIN, "validity": "P1Y" });
        let r = call(&t, Method::PUT, path, &admin.token, Some(def)).await;
        ok(&r, 201, "create type");
        admin_answers.push((format!("PUT {path}"), r));
        let def = json!({ "label": "Attestation d'aisance aquatique", "domain": DOMAIN, "validity": "P1Y" });
        let r = call(&t, Method::PUT, path, &admin.token, Some(def)).await;
        ok(&r, 200, "update type");
        admin_answers.push((format!("PUT {path} (update)"), r));
        let r = call(&t, Method::GET, path, &citizen.token, None).await;
        assert_eq!(
            ok(&r, 200, "type")["label"],
            "Attestation d'aisance aquatique"
        );
        let r = call(&t, Method::DELETE, path, &admin.token, None).await;
        ok(&r, 204, "delete type");
        admin_answers.push((format!("DELETE {path}"), r));
        let r = call(&t, Method::GET, path, &citizen.token, None).await;
        assert_eq!(r.status, 404, "{b}: a withdrawn type is not offered");

        // ...and the accounts: an agent it creates reads what a basis allows (the agent
        // chooses its password through the link sent to its address; the admin never can).
        let admin_p = auth::principal_for_login(&t.app, TOWN, "admin")
            .await
            .unwrap();
        let school = liasse_app::admin::create_service(&t.app, &admin_p, SCHOOL_SERVICE)
            .await
            .expect("the admin creates a service");
        liasse_app::enrolment::create_staff(
            &t.app,
            &admin_p,
            liasse_app::enrolment::NewStaff {
                login: "guichet",
                name: "Gaël Guichet",
                email: "guichet@example.org",
                role: liasse_domain::policy::Role::Agent,
                service_id: Some(&school.id),
                rights: vec![(DOMAIN.into(), "consult".into())],
            },
        )
        .await
        .expect("the admin creates an agent");
        let agent = auth::create_token(&t.app, Actor::operator(), TOWN, "guichet", "", "test")
            .await
            .unwrap();

        // Bases on the admin's own domain: an open request and a live grant.
        let r = call(
            &t,
            Method::POST,
            "/api/v1/requests",
            &citizen.token,
            Some(json!({ "procedure": PROCEDURE, "answers": {} })),
        )
        .await;
        let request_id = ok(&r, 201, "request")["id"].as_str().unwrap().to_string();
        let base = format!("/api/v1/requests/{request_id}");
        let r = call(
            &t,
            Method::PUT,
            &format!("{base}/attachments/domicile"),
            &citizen.token,
            Some(json!({ "document": doc_id })),
        )
        .await;
        ok(&r, 200, "attach");
        let r = call(
            &t,
            Method::POST,
            &format!("{base}/transitions"),
            &citizen.token,
            Some(json!({ "to": "submitted" })),
        )
        .await;
        ok(&r, 200, "submit");
        let grant = json!({ "domain": DOMAIN, "documents": [doc_id], "purpose": "Cantine", "until": "2026-06-30" });
        let r = call(
            &t,
            Method::POST,
            "/api/v1/grants",
            &citizen.token,
            Some(grant),
        )
        .await;
        let grant_id = ok(&r, 201, "grant")["id"].as_str().unwrap().to_string();
        let r = call(&t, Method::GET, &format!("{doc}/content"), &agent, None).await;
        assert!(
            r.status == 200 && r.body == v2,
            "{b}: the agent reads through the request: {}",
            r.status
        );

        // Every document route refuses the admin.
        let replace = || {
            form(
                &[],
                Some((
                    "admin.pdf",
                    samples::pdf_with_text("Remplacement par l'admin"),
                )),
            )
        };
        let letter = || {
            form(
                &[("type", "courrier"), ("title", "Courrier de l'admin")],
                Some(("courrier.pdf", samples::minimal_pdf())),
            )
        };
        let citizen_docs = format!("/api/v1/citizens/{}/documents", citizen.id);
        let attempts: Vec<(Method, String, Option<Value>, bool, u16)> = vec![
            (Method::GET, doc.clone(), None, false, 404),
            (Method::GET, format!("{doc}/content"), None, false, 404),
            (
                Method::GET,
                format!("{doc}/content?version=1"),
                None,
                false,
                404,
            ),
            (
                Method::GET,
                format!("{doc}/versions/1/content"),
                None,
                false,
                404,
            ),
            (
                Method::GET,
                format!("{doc}/versions/2/content"),
                None,
                false,
                404,
            ),
            (Method::POST, format!("{doc}/check"), None, false, 404),
            (
                Method::POST,
                format!("{doc}/review"),
                Some(json!({ "decision": "validated" })),
                false,
                404,
            ),
            (
                Method::POST,
                format!("{doc}/review"),
                Some(json!({ "decision": "rejected", "reason": "Test" })),
                false,
                404,
            ),
            (Method::PUT, format!("{doc}/content"), None, true, 404),
            (Method::DELETE, doc.clone(), None, false, 404),
            (Method::GET, base.clone(), None, false, 404),
            (Method::GET, citizen_docs.clone(), None, false, 403),
            (Method::POST, citizen_docs.clone(), None, true, 403),
        ];
        for (method, path, body, multipart, status) in attempts {
            let label = format!("{method} {path}");
            let r = req(&t, method.clone(), &path, &admin.token);
            let r = if multipart {
                r.multipart(if method == Method::PUT {
                    replace()
                } else {
                    letter()
                })
            } else if let Some(body) = body {
                r.json(&body)
            } else {
                r
            };
            let r = reply(r).await;
            let code = if status == 403 {
                "forbidden"
            } else {
                "not-found"
            };
            assert_eq!(r.status, status, "{b}: {label}: {}", r.text());
            assert_eq!(
                r.header("content-type"),
                "application/problem+json",
                "{b}: {label}"
            );
            assert_eq!(
                r.json()["type"],
                format!("https://liasse.fr/problems/{code}"),
                "{b}: {label}"
            );
            admin_answers.push((label, r));
        }
        // The admin's own collections say nothing of the citizen's document either.
        for path in [
            "/api/v1/documents",
            "/api/v1/documents/count",
            "/api/v1/journal",
            "/api/v1/export",
            "/api/v1/grants",
            "/api/v1/requests",
            "/api/v1/notifications",
            "/api/v1/document-types",
            "/api/v1/procedures",
        ] {
            let r = call(&t, Method::GET, path, &admin.token, None).await;
            assert!(r.status < 500, "{b}: GET {path}: {}", r.text());
            admin_answers.push((format!("GET {path}"), r));
        }
        for (label, r) in &admin_answers {
            let mut texts = vec![r.body.clone()];
            if r.header("content-type") == "application/zip" {
                texts.extend(unzip(&r.body).into_values());
            }
            for text in &texts {
                for (what, secret) in [
                    ("title", title.as_bytes()),
                    ("first version's text", marker1.as_bytes()),
                    ("second version's text", marker2.as_bytes()),
                    ("first version's bytes", &v1[..]),
                    ("second version's bytes", &v2[..]),
                ] {
                    assert!(
                        !contains(text, secret),
                        "{b}: {label}: the answer to the admin contains the document's {what}"
                    );
                }
            }
        }

        // Nothing changed, and the citizen's journal shows the agent's read and no admin.
        let (status, after) = t.get_json(&citizen.token, &doc).await;
        assert_eq!(status, 200, "{b}: {after}");
        assert_eq!(after["version"], 2);
        assert_eq!(after["review_state"], "submitted");
        assert_eq!(after["title"], title);
        let (_, journal) = t.get_json(&citizen.token, "/api/v1/journal").await;
        let journal = journal.as_array().unwrap();
        assert!(
            journal.iter().all(|e| e["actor_kind"] != "admin"),
            "{b}: the admin touched the citizen's things: {journal:?}"
        );
        let reads: Vec<&Value> = journal
            .iter()
            .filter(|e| e["action"] == "document.read")
            .collect();
        assert_eq!(reads.len(), 1, "{b}: {reads:?}");
        assert_eq!(reads[0]["actor_name"], "Gaël Guichet");
        assert_eq!(reads[0]["actor_service"], SCHOOL_SERVICE);
        assert_eq!(reads[0]["basis_kind"], "request");
        assert_eq!(reads[0]["basis_id"], request_id.as_str());
        let r = call(&t, Method::GET, "/api/v1/grants", &citizen.token, None).await;
        let grants = ok(&r, 200, "grants");
        assert_eq!(grants[0]["id"], grant_id.as_str());
        assert_eq!(grants[0]["status"], "active");
        let report = verify::run(&t.app, false).await.expect("verify");
        assert!(report.is_clean(), "{b}: {report:?}");
    }
}

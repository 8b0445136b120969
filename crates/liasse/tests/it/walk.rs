//! The route-by-role walk (issue 13): every operation of the OpenAPI document the server serves,
//! as each role of one town, answers what the access policy decides for that role. The
//! expectation is not written by hand: each row of `ROUTES` names the `policy::Access` the route
//! stands for, and the walk asks `policy::authorize` with the facts the app builds for the
//! account (`Principal::facts`). A refusal must be answered as the policy's `Denial` says (hidden
//! → 404, forbidden → 403, a conflict → 409); an allowance must not be answered 401, 403 or 404.
//! An operation of the OpenAPI document that the table does not cover fails the walk, so that a
//! new route cannot be forgotten. The pages are walked the same way, each role logged in through
//! the login form, against `Access::Enter` of the page's space (what `policy::menu` shows) and
//! what the page shows; a GET route of liasse-web missing from `PAGES` fails too. Every mismatch
//! is collected and printed before failing; a row marked `known` (with a `// KNOWN:` comment) is
//! one the app answers otherwise today, printed but not failing.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use liasse_app::auth;
use liasse_domain::journal::Actor;
use liasse_domain::policy::{
    self, Access, Action, ActorFacts, Context, Denial, DocumentFacts, Op, Page, RequestFacts,
    RequestRecord, Space, Task, VaultOp, Warrant,
};
use liasse_inspect::samples;
use liasse_testkit::TestApp;
use reqwest::Method;
use serde_json::{Value, json};

use crate::vault::{Reply, form, reply, req};
use crate::web::{Browser, Page as WebPage};

pub(crate) const TOWN: &str = "ville-parcours";
/// The domain of the procedure, of the request and of the agent's rights.
const DOMAIN: &str = "scolaire";
const PROCEDURE: &str = "parcours-scolaire";
pub(crate) const DOC_TYPE: &str = "justificatif-domicile";
/// The codes the walk creates, changes and withdraws (the town's own stay untouched).
const WALK_TYPE: &str = "parcours-type";
const WALK_PROCEDURE: &str = "parcours-autre";

// ------------------------------------------------------------------------------ the roles

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// The citizen whose document and request the routes name.
    Owner,
    OtherCitizen,
    /// `scolaire=modify`: the request's domain.
    AgentWithRight,
    /// No right on any domain.
    AgentWithout,
    /// `scolaire=manage`.
    Manager,
    Admin,
    /// A service client with the `deposit` scope.
    Service,
}

const ROLES: [Role; 7] = [
    Role::Owner,
    Role::OtherCitizen,
    Role::AgentWithRight,
    Role::AgentWithout,
    Role::Manager,
    Role::Admin,
    Role::Service,
];

impl Role {
    fn login(self) -> &'static str {
        match self {
            Role::Owner => "camille",
            Role::OtherCitizen => "dominique",
            Role::AgentWithRight => "agent-scolaire",
            Role::AgentWithout => "agent-sans-droit",
            Role::Manager => "responsable",
            Role::Admin => "admin",
            Role::Service => "logiciel",
        }
    }

    fn kind(self) -> &'static str {
        match self {
            Role::Owner | Role::OtherCitizen => "citizen",
            Role::AgentWithRight | Role::AgentWithout => "agent",
            Role::Manager => "manager",
            Role::Admin => "admin",
            Role::Service => "service",
        }
    }

    fn rights(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Role::AgentWithRight => &[(DOMAIN, "modify")],
            Role::Manager => &[(DOMAIN, "manage")],
            _ => &[],
        }
    }

    fn scopes(self) -> &'static str {
        match self {
            Role::Service => "deposit",
            _ => "",
        }
    }
}

// ------------------------------------------------------------------------------ the world

/// The objects the routes name, and what of the request's life the walk itself changes.
pub(crate) struct World {
    tenant_id: String,
    pub(crate) owner_id: String,
    /// The id the service client knows the owner by (its pairwise id): what its paths name.
    pub(crate) owner_for_service: String,
    pub(crate) doc_id: String,
    request_id: String,
    requirement: String,
    pub(crate) member_id: String,
    grant_id: String,
    notification_id: String,
    provider_id: String,
    /// A spare token of the owner, for the revocation.
    token_id: String,
    /// The agent with rights, as the admin's pages name them.
    agent_id: String,
    /// The request's state and lock holder as the walk has left them.
    state: String,
    lock_holder: Option<String>,
}

impl World {
    fn document(&self) -> DocumentFacts<'_> {
        DocumentFacts {
            tenant_id: &self.tenant_id,
            id: &self.doc_id,
            owner_id: &self.owner_id,
            type_code: DOC_TYPE,
            deleted: false,
            depositor_service_id: "",
        }
    }

    fn request(&self) -> RequestRecord<'_> {
        RequestRecord {
            tenant_id: &self.tenant_id,
            citizen_id: &self.owner_id,
            domain: DOMAIN,
            state: &self.state,
            lock_holder: self.lock_holder.as_deref(),
            lock_live: self.lock_holder.is_some(),
        }
    }

    fn fill(&self, template: &str) -> String {
        let id = match template.split('/').nth(1).unwrap_or("") {
            "documents" => &self.doc_id,
            "household-members" => &self.member_id,
            "grants" => &self.grant_id,
            "notifications" => &self.notification_id,
            "citizens" => &self.owner_id,
            "requests" => &self.request_id,
            "providers" => &self.provider_id,
            "tokens" => &self.token_id,
            _ => "",
        };
        let code = if template.starts_with("/procedures") {
            WALK_PROCEDURE
        } else if template.starts_with("/tracking") {
            "LSS-ABCD-EFGH-2345"
        } else {
            WALK_TYPE
        };
        format!(
            "/api/v1{}",
            template
                .replace("{id}", id)
                .replace("{version}", "1")
                .replace("{requirement}", &self.requirement)
                .replace("{code}", code)
        )
    }
}

// ------------------------------------------------------------------------------ the table

/// What the walk expects of one role on one route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// Anything but 401, 403, 404 (a 409 or a 400 of the use case is an allowance too).
    Allowed,
    /// The policy's refusal.
    Denied(Denial),
    /// The policy lets the role do this to its own things; the object named is someone
    /// else's, so it does not exist for them.
    Absent,
}

impl Expect {
    fn from(decision: Result<Warrant, Denial>) -> Expect {
        match decision {
            Ok(_) => Expect::Allowed,
            Err(d) => Expect::Denied(d),
        }
    }

    fn accepts(self, status: u16) -> bool {
        match self {
            Expect::Allowed => status < 500 && !matches!(status, 401 | 403 | 404 | 405),
            Expect::Denied(Denial::Hidden) | Expect::Absent => status == 404,
            Expect::Denied(Denial::Forbidden) => status == 403,
            Expect::Denied(_) => status == 409,
        }
    }
}

/// The decision for a role: the world, the account's facts and its token's scopes.
type Decide = fn(&World, &ActorFacts, &[String]) -> Expect;

/// What a route sends.
#[derive(Clone, Copy)]
enum Body {
    None,
    Json(fn(&World) -> Value),
    /// A multipart upload of a small PDF of this type.
    Upload(&'static str),
}

pub(crate) struct Row {
    pub(crate) method: &'static str,
    pub(crate) path: &'static str,
    body: Body,
    decide: Decide,
    /// Why the app answers otherwise today; the lead removes it once the app follows.
    known: Option<&'static str>,
}

const fn row(method: &'static str, path: &'static str, body: Body, decide: Decide) -> Row {
    Row {
        method,
        path,
        body,
        decide,
        known: None,
    }
}

/// A row the app answers otherwise today, and why (none today: keep it for the next gap
/// found, so that it is written down rather than hidden).
#[allow(dead_code)]
const fn known(mut r: Row, why: &'static str) -> Row {
    r.known = Some(why);
    r
}

fn ask(a: &ActorFacts, access: &Access) -> Expect {
    Expect::from(policy::authorize(a, access))
}

fn doc(w: &World, a: &ActorFacts, action: Action) -> Expect {
    let d = w.document();
    let requests = [RequestFacts {
        id: &w.request_id,
        domain: DOMAIN,
        open: policy::request_is_open(&w.state),
    }];
    let ctx = Context {
        today: "",
        grants: &[],
        requests: &requests,
    };
    ask(
        a,
        &Access::Document {
            action,
            doc: &d,
            ctx: &ctx,
        },
    )
}

/// A request's route asks first whether the role sees the request (hidden: not found), then
/// what the route does.
fn seen_then(w: &World, a: &ActorFacts, access: &Access) -> Expect {
    match ask(a, &Access::ReadRequest(&w.request())) {
        Expect::Allowed => ask(a, access),
        e => e,
    }
}

/// The policy allows the role this on its own things; on the owner's, only the owner.
fn own(w: &World, a: &ActorFacts, access: &Access) -> Expect {
    match ask(a, access) {
        Expect::Allowed if a.account_id != w.owner_id => Expect::Absent,
        e => e,
    }
}

/// Any account, whatever its role (its own tokens, its session, the catalogue).
fn anyone(_: &World, _: &ActorFacts, _: &[String]) -> Expect {
    Expect::Allowed
}

/// The object named exists for the owner only (their own token, a notification).
fn owner_only(w: &World, a: &ActorFacts, _: &[String]) -> Expect {
    if a.account_id == w.owner_id {
        Expect::Allowed
    } else {
        Expect::Absent
    }
}

fn nobody(_: &World, _: &ActorFacts, _: &[String]) -> Expect {
    Expect::Absent
}

fn type_body(_: &World) -> Value {
    json!({ "label": "Type du parcours", "domain": "general", "validity": "P1M" })
}

/// Every operation of the API, in the order the walk runs them: reads, then writes, then the
/// changes of the request's life, then deletions (the owner's last), then the session.
pub(crate) const ROUTES: &[Row] = &[
    // Reads.
    row("get", "/documents", Body::None, |_, a, _| {
        ask(a, &Access::OwnVault(VaultOp::List))
    }),
    row("get", "/documents/count", Body::None, |_, a, _| {
        ask(a, &Access::OwnVault(VaultOp::List))
    }),
    row("get", "/documents/{id}", Body::None, |w, a, _| {
        doc(w, a, Action::ReadMetadata)
    }),
    row("get", "/documents/{id}/content", Body::None, |w, a, _| {
        doc(w, a, Action::ReadContent)
    }),
    row(
        "get",
        "/documents/{id}/versions/{version}/content",
        Body::None,
        |w, a, _| doc(w, a, Action::ReadContent),
    ),
    row("get", "/document-types", Body::None, anyone),
    row("get", "/household-members", Body::None, |_, a, _| {
        ask(a, &Access::Household(Op::List))
    }),
    row("get", "/citizens/{id}/documents", Body::None, |_, a, _| {
        ask(a, &Access::CitizenFiles)
    }),
    row("get", "/dashboard", Body::None, |_, a, _| {
        ask(a, &Access::Dashboard)
    }),
    row("get", "/search/requests", Body::None, |_, a, _| {
        ask(a, &Access::Dashboard)
    }),
    row("get", "/statistics", Body::None, |_, a, _| {
        ask(a, &Access::Statistics)
    }),
    // A citizen's own grants; a service client's, those citizens gave it.
    row("get", "/grants", Body::None, |_, a, _| {
        match ask(a, &Access::ReceivedGrants) {
            Expect::Allowed => Expect::Allowed,
            _ => ask(a, &Access::Sharing(Op::List)),
        }
    }),
    row("get", "/notifications", Body::None, anyone),
    row("get", "/preferences", Body::None, anyone),
    row("get", "/deliveries", Body::None, anyone),
    row("get", "/providers", Body::None, anyone),
    row("get", "/procedures", Body::None, anyone),
    row("get", "/requests", Body::None, |_, a, _| {
        ask(a, &Access::ListRequests)
    }),
    row("get", "/requests/{id}", Body::None, |w, a, _| {
        ask(a, &Access::ReadRequest(&w.request()))
    }),
    row("get", "/tracking/{code}", Body::None, nobody),
    row("get", "/journal", Body::None, anyone),
    row("get", "/export", Body::None, |_, a, _| {
        ask(a, &Access::ExportVault)
    }),
    row("get", "/tokens", Body::None, anyone),
    // Writes that leave the owner's things as they are.
    row("post", "/documents", Body::Upload(DOC_TYPE), |_, a, _| {
        ask(a, &Access::OwnVault(VaultOp::Deposit))
    }),
    row("post", "/documents/{id}/check", Body::None, |w, a, _| {
        doc(w, a, Action::Check)
    }),
    row(
        "post",
        "/documents/{id}/review",
        Body::Json(|_| json!({ "decision": "validated", "valid_until": "2030-01-01" })),
        |w, a, _| doc(w, a, Action::Review),
    ),
    row("post", "/documents/{id}/keep", Body::None, |w, a, _| {
        doc(w, a, Action::Replace)
    }),
    row(
        "put",
        "/documents/{id}/content",
        Body::Upload(DOC_TYPE),
        |w, a, _| doc(w, a, Action::Replace),
    ),
    row(
        "put",
        "/document-types/{code}",
        Body::Json(type_body),
        |_, a, _| ask(a, &Access::Administer(Task::Catalogue)),
    ),
    row(
        "post",
        "/document-types/{code}",
        Body::Json(type_body),
        |_, a, _| ask(a, &Access::Administer(Task::Catalogue)),
    ),
    row("get", "/document-types/{code}", Body::None, anyone),
    row(
        "post",
        "/household-members",
        Body::Json(|_| json!({ "name": "Membre du parcours", "relation": "enfant" })),
        |_, a, _| ask(a, &Access::Household(Op::Add)),
    ),
    row(
        "post",
        "/citizens/{id}/documents",
        Body::Upload("courrier"),
        |_, a, scopes| {
            ask(
                a,
                &Access::DepositTypeForCitizen {
                    domain: "courrier",
                    scopes,
                },
            )
        },
    ),
    row(
        "post",
        "/grants",
        Body::Json(
            |_| json!({ "domain": "urbanisme", "types": [DOC_TYPE], "purpose": "Parcours", "until": "2026-06-30" }),
        ),
        |_, a, _| ask(a, &Access::Sharing(Op::Add)),
    ),
    row("post", "/notifications/{id}/read", Body::None, owner_only),
    row("put", "/preferences", Body::Json(|_| json!({})), anyone),
    row("put", "/providers/{id}/consent", Body::None, |_, a, _| {
        ask(a, &Access::ProviderConsent)
    }),
    row(
        "delete",
        "/providers/{id}/consent",
        Body::None,
        |_, a, _| ask(a, &Access::ProviderConsent),
    ),
    row(
        "put",
        "/procedures/{code}",
        Body::Json(|_| {
            json!({ "title": "Démarche du parcours", "domain": DOMAIN,
                    "requirements": [{ "key": "domicile", "type": DOC_TYPE }] })
        }),
        |_, a, _| ask(a, &Access::PutProcedure { domain: DOMAIN }),
    ),
    row(
        "post",
        "/requests",
        Body::Json(|_| json!({ "procedure": PROCEDURE, "answers": {} })),
        |_, a, _| ask(a, &Access::CreateRequest),
    ),
    row(
        "post",
        "/documents/{id}/uses",
        Body::Json(|_| json!({ "case": "DOSSIER-PARCOURS" })),
        |w, a, _| doc(w, a, Action::ReadMetadata),
    ),
    // The request's life.
    row(
        "patch",
        "/requests/{id}",
        Body::Json(|_| json!({ "answers": {} })),
        |w, a, _| ask(a, &Access::ChangeRequest(&w.request())),
    ),
    row(
        "put",
        "/requests/{id}/attachments/{requirement}",
        Body::Json(|w| json!({ "document": w.doc_id })),
        |w, a, _| ask(a, &Access::ChangeRequest(&w.request())),
    ),
    row(
        "post",
        "/requests/{id}/attachments/{requirement}",
        Body::Upload(DOC_TYPE),
        |w, a, _| ask(a, &Access::ChangeRequest(&w.request())),
    ),
    row(
        "post",
        "/requests/{id}/notes",
        Body::Json(|_| json!({ "body": "Note du parcours", "visible": false })),
        |w, a, _| seen_then(w, a, &Access::AddNote(&w.request())),
    ),
    row(
        "post",
        "/requests/{id}/letters",
        Body::Json(|_| json!({ "template": "libre", "text": "Lettre du parcours" })),
        |w, a, _| seen_then(w, a, &Access::WriteLetter(&w.request())),
    ),
    row(
        "post",
        "/requests/{id}/transitions",
        Body::Json(|_| json!({ "to": "in_progress" })),
        |w, a, _| {
            seen_then(
                w,
                a,
                &Access::Transition {
                    request: &w.request(),
                    to: "in_progress",
                },
            )
        },
    ),
    row(
        "post",
        "/requests/{id}/lock",
        Body::Json(|_| json!({})),
        |w, a, _| {
            seen_then(
                w,
                a,
                &Access::Lock {
                    request: &w.request(),
                    force: false,
                },
            )
        },
    ),
    row("delete", "/requests/{id}/lock", Body::None, |w, a, _| {
        seen_then(w, a, &Access::Unlock(&w.request()))
    }),
    row(
        "delete",
        "/requests/{id}/attachments/{requirement}",
        Body::None,
        |w, a, _| ask(a, &Access::ChangeRequest(&w.request())),
    ),
    // Deletions: everyone else tries first, the owner last.
    row("delete", "/document-types/{code}", Body::None, |_, a, _| {
        ask(a, &Access::Administer(Task::Catalogue))
    }),
    row(
        "delete",
        "/household-members/{id}",
        Body::None,
        |w, a, _| own(w, a, &Access::Household(Op::Remove)),
    ),
    row("delete", "/grants/{id}", Body::None, |w, a, _| {
        own(w, a, &Access::Sharing(Op::Remove))
    }),
    row("delete", "/tokens/{id}", Body::None, owner_only),
    row("delete", "/documents/{id}", Body::None, |w, a, _| {
        doc(w, a, Action::Delete)
    }),
    // The session: a log-in with the role's password, then the log-out.
    row("post", "/session", Body::Json(|_| json!({})), anyone),
    row("delete", "/session", Body::None, anyone),
];

// ------------------------------------------------------------------------------ the pages

/// A page of the site (GET), and the decision it stands for.
struct PageRow {
    path: &'static str,
    decide: Decide,
    known: Option<&'static str>,
}

const fn page(path: &'static str, decide: Decide) -> PageRow {
    PageRow {
        path,
        decide,
        known: None,
    }
}

/// A page of a space: first whether the role enters the space, then what the page shows.
fn within(a: &ActorFacts, space: Space, then: Expect) -> Expect {
    match ask(a, &Access::Enter(space)) {
        Expect::Allowed => then,
        e => e,
    }
}

fn menu_page(a: &ActorFacts, p: Page) -> Expect {
    ask(a, &Access::Enter(p.space()))
}

/// The pages, each decided as the policy's menu decides it (`Access::Enter` of its space),
/// and, for a page naming an object, by what it shows of it.
const PAGES: &[PageRow] = &[
    page("/documents", |_, a, _| menu_page(a, Page::Documents)),
    page("/documents.json", |_, a, _| menu_page(a, Page::Documents)),
    page("/documents/nouveau", |_, a, _| menu_page(a, Page::Deposit)),
    page("/demandes", |_, a, _| menu_page(a, Page::Requests)),
    page("/courriers", |_, a, _| menu_page(a, Page::Letters)),
    page("/foyer", |_, a, _| menu_page(a, Page::Household)),
    page("/partages", |_, a, _| menu_page(a, Page::Sharing)),
    page("/journal", |_, a, _| menu_page(a, Page::Journal)),
    page("/notifications", |_, a, _| {
        menu_page(a, Page::Notifications)
    }),
    page("/preferences", |_, a, _| menu_page(a, Page::Preferences)),
    page("/export", |_, a, _| {
        within(a, Space::Citizen, ask(a, &Access::ExportVault))
    }),
    page("/documents/{id}", |w, a, _| {
        within(a, Space::Citizen, doc(w, a, Action::ReadMetadata))
    }),
    // Shared by the citizen and the agents who reach the document through a basis.
    page("/documents/{id}/contenu", |w, a, _| {
        doc(w, a, Action::ReadContent)
    }),
    // Shared by the citizen and the agents who reach the document through a basis.
    page("/documents/{id}/apercu", |w, a, _| {
        doc(w, a, Action::ReadContent)
    }),
    page("/documents/{id}/supprimer", |w, a, _| {
        within(a, Space::Citizen, doc(w, a, Action::Delete))
    }),
    page("/demandes/{id}", |w, a, _| {
        within(
            a,
            Space::Citizen,
            ask(a, &Access::ReadRequest(&w.request())),
        )
    }),
    page("/agent", |_, a, _| menu_page(a, Page::Dashboard)),
    page("/agent/guichet", |_, a, _| menu_page(a, Page::Counter)),
    page("/agent/statistiques", |_, a, _| {
        menu_page(a, Page::Statistics)
    }),
    page("/agent/statistiques.csv", |_, a, _| {
        within(a, Space::Statistics, ask(a, &Access::Statistics))
    }),
    page("/agent/usagers/{id}", |_, a, _| {
        within(a, Space::Agency, ask(a, &Access::CitizenFiles))
    }),
    page("/agent/demandes/{id}", |w, a, _| {
        within(a, Space::Agency, ask(a, &Access::ReadRequest(&w.request())))
    }),
    page("/admin", |_, a, _| menu_page(a, Page::Administration)),
    page("/admin/types", |_, a, _| menu_page(a, Page::DocumentTypes)),
    page("/admin/types/nouveau", |_, a, _| {
        menu_page(a, Page::DocumentTypes)
    }),
    page("/admin/types/{code}", |_, a, _| {
        menu_page(a, Page::DocumentTypes)
    }),
    page("/admin/demarches", |_, a, _| menu_page(a, Page::Procedures)),
    page("/admin/demarches/nouvelle", |_, a, _| {
        menu_page(a, Page::Procedures)
    }),
    page("/admin/demarches/{code}", |_, a, _| {
        menu_page(a, Page::Procedures)
    }),
    page("/admin/agents", |_, a, _| menu_page(a, Page::Staff)),
    page("/admin/agents/{id}", |_, a, _| menu_page(a, Page::Staff)),
    page("/admin/services", |_, a, _| {
        within(
            a,
            Space::Administration,
            ask(a, &Access::Administer(Task::Services)),
        )
    }),
    page("/admin/apparence", |_, a, _| menu_page(a, Page::Appearance)),
    page("/admin/identite", |_, a, _| {
        within(
            a,
            Space::Administration,
            ask(a, &Access::Administer(Task::Settings)),
        )
    }),
    page("/compte/securite", |_, a, _| menu_page(a, Page::Security)),
];

impl World {
    fn fill_page(&self, template: &str) -> String {
        let id = match template.split('/').nth(1).unwrap_or("") {
            "documents" => &self.doc_id,
            "demandes" => &self.request_id,
            "agent" if template.starts_with("/agent/usagers") => &self.owner_id,
            "agent" => &self.request_id,
            "admin" => &self.agent_id,
            _ => "",
        };
        let code = if template.starts_with("/admin/demarches") {
            PROCEDURE
        } else {
            DOC_TYPE
        };
        template.replace("{id}", id).replace("{code}", code)
    }
}

/// The pages anyone opens, signed in or not: not the policy's to decide.
const PUBLIC_PAGES: [&str; 19] = [
    "/",
    "/connexion",
    // The code asked after the password, for a login in progress (its own cookie).
    "/connexion/code",
    // A resident's sign-up, and the page its link opens.
    "/inscription",
    "/inscription/confirmer",
    "/hors-ligne",
    "/activation",
    "/static/{file}",
    "/manifest.webmanifest",
    "/sw.js",
    "/favicon.ico",
    "/theme/{slug}/brand.css",
    "/theme/{slug}/logo",
    "/deconnexion",
    // Federated login: the button's target, the provider's callback, a re-link link, the
    // first-login choice and the page after the provider's logout.
    "/auth/{provider}",
    "/auth/{provider}/callback",
    "/auth/{provider}/rattacher",
    "/auth/premiere-connexion",
    "/auth/logged-out",
];

/// The paths liasse-web routes a GET to, read from its sources (the router cannot be listed):
/// a page missing from `PAGES` fails the walk, as a route missing from the table does.
fn routed_pages() -> BTreeSet<String> {
    fn read(dir: &std::path::Path, into: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).expect("liasse-web's sources") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                read(&path, into);
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("a source file");
            for line in text.lines() {
                let Some((_, rest)) = line.split_once(".route(\"") else {
                    continue;
                };
                let Some((route, handlers)) = rest.split_once('"') else {
                    continue;
                };
                if handlers.contains("get(") {
                    into.insert(route.to_string());
                }
            }
        }
    }
    let crates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut pages = BTreeSet::new();
    for web in [
        "liasse-web",
        "liasse-web-citizen",
        "liasse-web-agent",
        "liasse-web-admin",
    ] {
        read(&crates.join(web).join("src"), &mut pages);
    }
    pages
}

/// Logs in through the form; `false` when the account is refused a session.
async fn log_in(b: &mut Browser, role: Role) -> bool {
    let form = b.get("/connexion").await;
    assert_eq!(form.status, 200, "the login form");
    let csrf = form.csrf();
    let password = format!("{}-password", role.login());
    let done = b
        .post(
            "/connexion",
            &[
                ("csrf", csrf.as_str()),
                ("tenant", TOWN),
                ("login", role.login()),
                ("password", password.as_str()),
                ("suite", ""),
            ],
        )
        .await;
    done.status == 303 && !done.header("location").starts_with("/connexion")
}

/// A refused page answers the policy's refusal, or sends the visitor to the login form.
fn page_accepts(expect: Expect, got: &WebPage) -> bool {
    let to_login = got.status == 303 && got.header("location").starts_with("/connexion");
    match expect {
        Expect::Allowed => got.status == 200,
        Expect::Denied(Denial::Forbidden) => got.status == 403 || to_login,
        Expect::Denied(Denial::Hidden) | Expect::Absent => got.status == 404 || to_login,
        Expect::Denied(_) => got.status == 409,
    }
}

// ------------------------------------------------------------------------------ the walk

pub(crate) struct Account {
    pub(crate) role: Role,
    pub(crate) token: String,
    pub(crate) principal: auth::Principal,
}

async fn account(t: &TestApp, role: Role) -> Account {
    let login = role.login();
    t.account(TOWN, login, role.kind(), role.rights()).await;
    let token = auth::create_token(
        &t.app,
        Actor::operator(),
        TOWN,
        login,
        role.scopes(),
        "parcours",
    )
    .await
    .expect("token");
    let principal = auth::principal_from_token(&t.app, &token)
        .await
        .expect("principal")
        .expect("a known token");
    Account {
        role,
        token,
        principal,
    }
}

fn ok(r: &Reply, status: u16, what: &str) -> Value {
    assert_eq!(r.status, status, "{what}: {}", r.text());
    r.json()
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_string()
}

/// The town, its accounts, and the owner's document, request (attached and submitted),
/// household member, grant, notification and spare token.
pub(crate) async fn setup(t: &TestApp) -> (Vec<Account>, World) {
    let tenant_id = t.tenant(TOWN).await;
    let mut accounts = Vec::new();
    for role in ROLES {
        accounts.push(account(t, role).await);
    }
    let token = |role: Role| {
        accounts
            .iter()
            .find(|a| a.role == role)
            .map(|a| a.token.clone())
            .expect("every role has an account")
    };
    let owner = token(Role::Owner);
    let owner_id = accounts[0].principal.account_id.clone();

    let procedure = json!({
        "title": "Inscription scolaire (parcours)",
        "domain": DOMAIN,
        "requirements": [{ "key": "domicile", "type": DOC_TYPE, "mandatory": true, "for": "citizen" }]
    });
    let r = reply(
        req(
            t,
            Method::PUT,
            &format!("/api/v1/procedures/{PROCEDURE}"),
            &token(Role::Admin),
        )
        .json(&procedure),
    )
    .await;
    ok(&r, 201, "procedure");

    let r = reply(
        req(t, Method::POST, "/api/v1/documents", &owner).multipart(form(
            &[("type", DOC_TYPE), ("title", "Justificatif du parcours")],
            Some(("domicile.pdf", samples::pdf_with_text("Domicile"))),
        )),
    )
    .await;
    let doc_id = id(&ok(&r, 201, "deposit"));

    let r = reply(
        req(t, Method::POST, "/api/v1/requests", &owner)
            .json(&json!({ "procedure": PROCEDURE, "answers": {} })),
    )
    .await;
    let request_id = id(&ok(&r, 201, "request"));
    let base = format!("/api/v1/requests/{request_id}");
    let r = reply(
        req(
            t,
            Method::PUT,
            &format!("{base}/attachments/domicile"),
            &owner,
        )
        .json(&json!({ "document": doc_id })),
    )
    .await;
    ok(&r, 200, "attach");
    let r = reply(
        req(t, Method::POST, &format!("{base}/transitions"), &owner)
            .json(&json!({ "to": "submitted" })),
    )
    .await;
    ok(&r, 200, "submit");

    let r = reply(
        req(t, Method::POST, "/api/v1/household-members", &owner)
            .json(&json!({ "name": "Zoé", "relation": "enfant" })),
    )
    .await;
    let member_id = id(&ok(&r, 201, "member"));
    let r = reply(req(t, Method::POST, "/api/v1/grants", &owner).json(&json!({
        "domain": "urbanisme", "types": [DOC_TYPE], "purpose": "Permis", "until": "2026-06-30"
    })))
    .await;
    let grant_id = id(&ok(&r, 201, "grant"));

    let r = reply(
        req(
            t,
            Method::POST,
            &format!("/api/v1/citizens/{owner_id}/documents"),
            &token(Role::AgentWithRight),
        )
        .multipart(form(
            &[("type", "courrier"), ("title", "Courrier du parcours")],
            Some(("courrier.pdf", samples::pdf_with_text("Courrier"))),
        )),
    )
    .await;
    ok(&r, 201, "letter");
    let r = reply(req(t, Method::GET, "/api/v1/notifications", &owner)).await;
    let notification_id = ok(&r, 200, "notifications")["items"][0]["id"]
        .as_str()
        .expect("the letter's notification")
        .to_string();
    let r = reply(req(t, Method::GET, "/api/v1/providers", &owner)).await;
    let provider_id = ok(&r, 200, "providers")[0]["id"]
        .as_str()
        .unwrap_or("aucun-fournisseur")
        .to_string();
    let spare = auth::issue_token(
        &t.app,
        Actor::operator(),
        auth::NewToken {
            tenant_slug: TOWN,
            login: Role::Owner.login(),
            scopes: "",
            name: "de rechange",
            lifetime: auth::TokenLifetime::Never,
        },
    )
    .await
    .expect("spare token");

    let service = accounts
        .iter()
        .find(|a| a.role == Role::Service)
        .expect("the service client");
    let owner_for_service =
        liasse_app::pairwise::hand_out(&t.app, &service.principal, std::slice::from_ref(&owner_id))
            .await
            .expect("the service's pairwise id")
            .remove(&owner_id)
            .expect("the owner's");
    let world = World {
        tenant_id,
        owner_id,
        owner_for_service,
        doc_id,
        request_id,
        requirement: "domicile".into(),
        member_id,
        grant_id,
        notification_id,
        provider_id,
        token_id: spare.id,
        agent_id: accounts[2].principal.account_id.clone(),
        state: "submitted".into(),
        lock_holder: None,
    };
    (accounts, world)
}

pub(crate) fn send(
    t: &TestApp,
    row: &Row,
    world: &World,
    who: &Account,
) -> reqwest::RequestBuilder {
    let method = Method::from_bytes(row.method.to_uppercase().as_bytes()).expect("a method");
    let mut path = world.fill(row.path);
    if who.role == Role::Service {
        // A service client knows the owner by its pairwise id only.
        path = path.replace(&world.owner_id, &world.owner_for_service);
    }
    let r = req(t, method, &path, &who.token);
    match row.body {
        Body::None => r,
        Body::Json(_) if row.path == "/session" => r.json(&json!({
            "tenant": TOWN, "login": who.role.login(), "password": format!("{}-password", who.role.login())
        })),
        Body::Json(body) => r.json(&body(world)),
        Body::Upload(type_code) => r.multipart(form(
            &[("type", type_code), ("title", "Pièce du parcours")],
            Some(("parcours.pdf", samples::pdf_with_text("Parcours"))),
        )),
    }
}

/// What a successful answer changed in the request's life, for the next decisions.
fn follow(row: &Row, who: &Account, status: u16, world: &mut World) {
    if !(200..300).contains(&status) {
        return;
    }
    match (row.method, row.path) {
        ("post", "/requests/{id}/transitions") => world.state = "in_progress".into(),
        ("post", "/requests/{id}/lock") => {
            world.lock_holder = Some(who.principal.account_id.clone())
        }
        ("delete", "/requests/{id}/lock") => world.lock_holder = None,
        _ => {}
    }
}

/// The operations of the served OpenAPI document, as `METHOD path`.
async fn operations(t: &TestApp) -> BTreeSet<String> {
    let r = reply(t.http.get(t.url("/api/v1/openapi.json"))).await;
    let spec = ok(&r, 200, "openapi");
    let mut ops = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("a path item").keys() {
            if method != "parameters" && !method.starts_with("x-") {
                ops.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    ops
}

#[tokio::test(flavor = "multi_thread")]
async fn every_route_answers_each_role_as_the_policy_decides() {
    for t in TestApp::all().await {
        let backend = t.backend;
        let (accounts, mut world) = setup(&t).await;

        let covered: BTreeSet<String> = ROUTES
            .iter()
            .map(|r| format!("{} {}", r.method.to_uppercase(), r.path))
            .collect();
        let served = operations(&t).await;
        let forgotten: Vec<&String> = served.difference(&covered).collect();
        let stale: Vec<&String> = covered.difference(&served).collect();

        let mut report = String::new();
        let mut mismatches = 0;
        for row in ROUTES {
            let mut order: Vec<&Account> = accounts.iter().collect();
            if row.method == "delete" {
                // The owner's deletion comes last: everyone else tries it first.
                order.reverse();
            }
            for who in order {
                let expect = (row.decide)(&world, &who.principal.facts(), &who.principal.scopes);
                let r = reply(send(&t, row, &world, who)).await;
                follow(row, who, r.status, &mut world);
                if expect.accepts(r.status) {
                    continue;
                }
                let mark = match row.known {
                    Some(why) => format!("KNOWN: {why}"),
                    None => {
                        mismatches += 1;
                        "<--".to_string()
                    }
                };
                let _ = writeln!(
                    report,
                    "{:<7} {:<46} {:<18} expected {:<20} got {} {mark} {}",
                    row.method.to_uppercase(),
                    row.path,
                    format!("{:?}", who.role),
                    format!("{expect:?}"),
                    r.status,
                    r.text().chars().take(160).collect::<String>(),
                );
            }
        }
        if mismatches > 0 || !forgotten.is_empty() || !stale.is_empty() {
            panic!(
                "{backend:?}: the walk found {mismatches} answers the policy does not give\n\
                 {report}\nserved but not in the walk's table: {forgotten:?}\n\
                 in the table but not served: {stale:?}"
            );
        }
        if !report.is_empty() {
            eprintln!("{backend:?}: known mismatches\n{report}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_page_answers_each_role_as_the_policy_decides() {
    for t in TestApp::all().await {
        let backend = t.backend;
        let (accounts, world) = setup(&t).await;
        let walked: BTreeSet<String> = PAGES
            .iter()
            .map(|p| p.path.to_string())
            .chain(PUBLIC_PAGES.iter().map(|p| p.to_string()))
            .collect();
        let forgotten: Vec<String> = routed_pages().difference(&walked).cloned().collect();
        assert!(
            forgotten.is_empty(),
            "pages routed by liasse-web that the walk's PAGES table does not cover: {forgotten:?}"
        );
        let mut report = String::new();
        let mut mismatches = 0;
        for who in &accounts {
            let facts = who.principal.facts();
            let mut b = Browser::new(&t);
            let session = log_in(&mut b, who.role).await;
            // A role with no page at all (a service client) may be refused a session.
            if session == policy::home(&facts).is_none() {
                // KNOWN: a service client opens a session through the login form although
                // the policy gives it no page (its pages then answer as refused).
                let known = who.role == Role::Service;
                if !known {
                    mismatches += 1;
                }
                let _ = writeln!(
                    report,
                    "{:?}: a session {}, but the policy's home is {:?} {}",
                    who.role,
                    if session { "opened" } else { "refused" },
                    policy::home(&facts),
                    if known {
                        "KNOWN: sessions do not ask the policy"
                    } else {
                        "<--"
                    },
                );
            }
            for row in PAGES {
                let expect = (row.decide)(&world, &facts, &who.principal.scopes);
                let got = b.get(&world.fill_page(row.path)).await;
                if page_accepts(expect, &got) {
                    continue;
                }
                let mark = match row.known {
                    Some(why) => format!("KNOWN: {why}"),
                    None => {
                        mismatches += 1;
                        "<--".to_string()
                    }
                };
                let _ = writeln!(
                    report,
                    "{:<30} {:<16} expected {:<18} got {} {} {mark}",
                    row.path,
                    format!("{:?}", who.role),
                    format!("{expect:?}"),
                    got.status,
                    got.header("location"),
                );
            }
        }
        assert!(
            mismatches == 0,
            "{backend:?}: the page walk found {mismatches} answers the policy does not give\n{report}"
        );
        if !report.is_empty() {
            eprintln!("{backend:?}: known mismatches of the pages\n{report}");
        }
    }
}

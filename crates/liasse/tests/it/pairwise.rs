//! Pairwise ids for service clients (issue 14): a service client never sees a citizen's
//! internal id. Two clients learn two different ids for one citizen from the grants the citizen
//! gave them, the same on every call and after the keys rotate; each uses its own in paths
//! (list, deposit) and bodies (a household member as subject), the other's and the internal id
//! are "not found" as an unknown citizen is; staff keep internal ids. Then every route of the
//! walk's table, called by a service client that holds a grant, answers no internal citizen or
//! household-member id, in its body or its headers.

use liasse_app::auth;
use liasse_domain::journal::Actor;
use liasse_inspect::samples;
use liasse_testkit::TestApp;
use reqwest::Method;
use serde_json::{Value, json};

use crate::vault::{Reply, form, reply, req};
use crate::walk::{self, DOC_TYPE, ROUTES, Role};

const TOWN: &str = "ville-pseudonymes";

fn ok(r: &Reply, status: u16, what: &str) -> Value {
    assert_eq!(r.status, status, "{what}: {}", r.text());
    r.json()
}

fn text(r: &Reply) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

/// A service client with the `deposit` scope: its token and account id.
async fn client(t: &TestApp, login: &str) -> (String, String) {
    t.account(TOWN, login, "service", &[]).await;
    let token = auth::create_token(&t.app, Actor::operator(), TOWN, login, "deposit", "test")
        .await
        .expect("a scoped token");
    let p = auth::principal_from_token(&t.app, &token)
        .await
        .expect("principal")
        .expect("a known token");
    (token, p.account_id)
}

async fn account_id(t: &TestApp, token: &str) -> String {
    auth::principal_from_token(&t.app, token)
        .await
        .expect("principal")
        .expect("a known token")
        .account_id
}

/// The citizen's grant of `DOC_TYPE` to the client.
async fn grant(t: &TestApp, citizen: &str, client_id: &str) -> String {
    let r = reply(
        req(t, Method::POST, "/api/v1/grants", citizen).json(&json!({
            "client": client_id, "types": [DOC_TYPE, "courrier"],
            "purpose": "Aide au transport scolaire", "until": "2026-06-30"
        })),
    )
    .await;
    ok(&r, 201, "grant")["id"].as_str().unwrap().to_string()
}

/// The citizen id the client reads in the grants it received.
async fn learned_id(t: &TestApp, token: &str, grant_id: &str) -> String {
    let r = reply(req(t, Method::GET, "/api/v1/grants", token)).await;
    let grants = ok(&r, 200, "the client's grants");
    let g = grants
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == grant_id)
        .unwrap_or_else(|| panic!("the grant among the client's: {grants}"));
    assert_eq!(g["status"], "active");
    g["citizen_id"].as_str().unwrap().to_string()
}

fn upload(title: &str) -> reqwest::multipart::Form {
    form(
        &[("type", "courrier"), ("title", title)],
        Some(("courrier.pdf", samples::pdf_with_text(title))),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn two_clients_know_one_citizen_by_two_stable_ids_that_only_they_can_use() {
    for t in TestApp::all().await {
        t.tenant(TOWN).await;
        let camille = t.account(TOWN, "camille", "citizen", &[]).await;
        let camille_id = account_id(&t, &camille).await;
        let agent = t
            .account(TOWN, "agent", "agent", &[("scolaire", "modify")])
            .await;
        let (wcs, wcs_id) = client(&t, "wcs").await;
        let (caf, caf_id) = client(&t, "caf").await;

        let r = reply(
            req(&t, Method::POST, "/api/v1/household-members", &camille)
                .json(&json!({ "name": "Zoé", "relation": "enfant" })),
        )
        .await;
        let zoe = ok(&r, 201, "member")["id"].as_str().unwrap().to_string();
        let r = reply(
            req(&t, Method::POST, "/api/v1/documents", &camille).multipart(form(
                &[("type", DOC_TYPE), ("title", "Domicile"), ("subject", &zoe)],
                Some(("domicile.pdf", samples::pdf_with_text("Domicile"))),
            )),
        )
        .await;
        let doc = ok(&r, 201, "deposit")["id"].as_str().unwrap().to_string();

        // Each client learns its id for Camille from the grant she gave it.
        let wcs_grant = grant(&t, &camille, &wcs_id).await;
        let caf_grant = grant(&t, &camille, &caf_id).await;
        let for_wcs = learned_id(&t, &wcs, &wcs_grant).await;
        let for_caf = learned_id(&t, &caf, &caf_grant).await;
        for id in [&for_wcs, &for_caf] {
            assert!(id.starts_with("pw_") && id.len() == 46, "{id}");
            assert!(!id.contains(&camille_id));
        }
        assert_ne!(for_wcs, for_caf, "two clients, two ids");
        // Stable: the same on the next call, and after the keys rotate.
        assert_eq!(learned_id(&t, &wcs, &wcs_grant).await, for_wcs);
        liasse_app::rotate::rotate(&t.app, 100, None)
            .await
            .expect("keys rotate");
        assert_eq!(learned_id(&t, &wcs, &wcs_grant).await, for_wcs);
        assert_eq!(learned_id(&t, &caf, &caf_grant).await, for_caf);
        // The grant was announced to its client, and an opt-in to a provider names the
        // citizen by the provider's id.
        let r = reply(req(&t, Method::GET, "/api/v1/notifications", &wcs)).await;
        let items = ok(&r, 200, "wcs's notifications")["items"].clone();
        assert!(
            items
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n["kind"] == "grant.received" && n["object_id"] == wcs_grant.as_str()),
            "{items}"
        );
        let consent = format!("/api/v1/providers/{caf_id}/consent");
        let r = reply(req(&t, Method::PUT, &consent, &camille)).await;
        assert_eq!(r.status, 204, "{}", r.text());
        let r = reply(req(&t, Method::GET, "/api/v1/notifications", &caf)).await;
        let items = ok(&r, 200, "caf's notifications")["items"].clone();
        assert!(
            items
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n["kind"] == "provider.optin" && n["object_id"] == for_caf.as_str()),
            "{items}"
        );
        assert!(!text(&r).contains(&camille_id));
        // A client sees only its own grants.
        let r = reply(req(&t, Method::GET, "/api/v1/grants", &wcs)).await;
        assert_eq!(ok(&r, 200, "wcs's grants").as_array().unwrap().len(), 1);

        // Each lists Camille's documents by its id; the household member is pseudonymous too.
        let mut subjects = Vec::new();
        for (token, id) in [(&wcs, &for_wcs), (&caf, &for_caf)] {
            let path = format!("/api/v1/citizens/{id}/documents");
            let r = reply(req(&t, Method::GET, &path, token)).await;
            let docs = ok(&r, 200, "the citizen's documents");
            let d = &docs[0];
            assert_eq!(d["id"], doc.as_str());
            assert_eq!(d["basis"]["kind"], "grant");
            let subject = d["subject"].as_str().unwrap().to_string();
            assert!(subject.starts_with("pwm_") && subject != zoe, "{subject}");
            assert!(!text(&r).contains(&camille_id) && !text(&r).contains(&zoe));
            // The document read alone names the same subject.
            let r = reply(req(
                &t,
                Method::GET,
                &format!("/api/v1/documents/{doc}"),
                token,
            ))
            .await;
            assert_eq!(ok(&r, 200, "the document")["subject"], subject.as_str());
            subjects.push(subject);
        }
        assert_ne!(subjects[0], subjects[1], "two clients, two ids for Zoé");

        // Each deposits by its id, about Zoé by its id for her.
        for (token, id, subject) in [
            (&wcs, &for_wcs, &subjects[0]),
            (&caf, &for_caf, &subjects[1]),
        ] {
            let path = format!("/api/v1/citizens/{id}/documents");
            let r = reply(req(&t, Method::POST, &path, token).multipart(form(
                &[
                    ("type", "courrier"),
                    ("title", "Accusé"),
                    ("subject", subject),
                ],
                Some(("accuse.pdf", samples::pdf_with_text("Accusé"))),
            )))
            .await;
            let letter = ok(&r, 201, "the client's deposit");
            assert_eq!(letter["subject"], subject.as_str());
            // Camille sees the letter about Zoé, by Zoé's own id.
            let r = reply(req(
                &t,
                Method::GET,
                &format!("/api/v1/documents/{}", letter["id"].as_str().unwrap()),
                &camille,
            ))
            .await;
            assert_eq!(ok(&r, 200, "Camille's letter")["subject"], zoe.as_str());
        }
        // Zoé by her internal id, or by the other client's id, is no one of the household.
        for subject in [zoe.as_str(), subjects[1].as_str()] {
            let path = format!("/api/v1/citizens/{for_wcs}/documents");
            let r = reply(req(&t, Method::POST, &path, &wcs).multipart(form(
                &[
                    ("type", "courrier"),
                    ("title", "Accusé"),
                    ("subject", subject),
                ],
                Some(("accuse.pdf", samples::pdf_with_text("Accusé"))),
            )))
            .await;
            assert_eq!(r.status, 400, "{subject}: {}", r.text());
            assert!(r.text().contains("unknown-subject"), "{}", r.text());
        }

        // The other client's id, the internal id, a made-up id: "not found", all alike.
        let unknown = format!("pw_{}", "A".repeat(43));
        let answer = |r: &Reply| (r.status, r.json()["type"].clone());
        let path = |id: &str| format!("/api/v1/citizens/{id}/documents");
        let reference = answer(&reply(req(&t, Method::GET, &path(&unknown), &wcs)).await);
        assert_eq!(reference.0, 404);
        for id in [
            for_caf.as_str(),
            camille_id.as_str(),
            "pw_court",
            "not-an-id",
        ] {
            let r = reply(req(&t, Method::GET, &path(id), &wcs)).await;
            assert_eq!(answer(&r), reference, "GET with {id}: {}", r.text());
            let r = reply(req(&t, Method::POST, &path(id), &wcs).multipart(upload("Refusé"))).await;
            assert_eq!(answer(&r), reference, "POST with {id}: {}", r.text());
        }
        let r = reply(req(&t, Method::GET, &path(&for_wcs), &caf)).await;
        assert_eq!(answer(&r), reference, "wcs's id used by caf");
        // Camille received the two letters and nothing of the refused deposits.
        let r = reply(req(
            &t,
            Method::GET,
            "/api/v1/documents?type=courrier",
            &camille,
        ))
        .await;
        assert_eq!(ok(&r, 200, "letters").as_array().unwrap().len(), 2);

        // Staff keep internal ids, and a pairwise id names no one for them.
        let r = reply(req(&t, Method::GET, &path(&camille_id), &agent)).await;
        ok(&r, 200, "the agent's view");
        assert!(text(&r).contains(&zoe), "staff see the member's id");
        let r = reply(req(&t, Method::GET, &path(&for_wcs), &agent)).await;
        assert_eq!(r.status, 404, "{}", r.text());
        // Camille's own answers keep her ids.
        let r = reply(req(&t, Method::GET, "/api/v1/grants", &camille)).await;
        let mine = ok(&r, 200, "Camille's grants");
        assert!(
            mine.as_array()
                .unwrap()
                .iter()
                .all(|g| g["citizen_id"] == camille_id.as_str())
        );

        // One recorded id per client and citizen, each the one handed out.
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT client_id, pairwise_id FROM pairwise_ids WHERE citizen_id = $1 ORDER BY client_id",
        )
        .bind(&camille_id)
        .fetch_all(t.app.db.pool())
        .await
        .unwrap()
        .into_iter()
        .collect();
        let mut expected = vec![(wcs_id.clone(), for_wcs.clone()), (caf_id, for_caf)];
        expected.sort();
        assert_eq!(rows, expected);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn no_answer_to_a_service_client_carries_an_internal_citizen_id() {
    for t in TestApp::all().await {
        let backend = t.backend;
        let (accounts, world) = walk::setup(&t).await;
        let owner = accounts.iter().find(|a| a.role == Role::Owner).unwrap();
        let other = accounts
            .iter()
            .find(|a| a.role == Role::OtherCitizen)
            .unwrap();
        let service = accounts.iter().find(|a| a.role == Role::Service).unwrap();
        // The owner lets the client read her documents of the walk's type, so that the walk
        // reads them; one of them is about her household member.
        let grant_id = grant(&t, &owner.token, &service.principal.account_id).await;
        let r = reply(
            req(&t, Method::POST, "/api/v1/documents", &owner.token).multipart(form(
                &[
                    ("type", DOC_TYPE),
                    ("title", "Domicile de Zoé"),
                    ("subject", &world.member_id),
                ],
                Some(("zoe.pdf", samples::pdf_with_text("Zoé"))),
            )),
        )
        .await;
        ok(&r, 201, "the member's document");
        let learned = learned_id(&t, &service.token, &grant_id).await;

        let internal = [
            ("the owner's account id", world.owner_id.as_str()),
            (
                "the other citizen's account id",
                other.principal.account_id.as_str(),
            ),
            ("the household member's id", world.member_id.as_str()),
        ];
        let mut leaks = Vec::new();
        let mut answered = 0;
        let mut read_documents = 0;
        for row in ROUTES {
            let r = reply(walk::send(&t, row, &world, service)).await;
            let route = format!("{} {} ({})", row.method.to_uppercase(), row.path, r.status);
            if (200..300).contains(&r.status) {
                answered += 1;
            }
            if row.path == "/citizens/{id}/documents" && row.method == "get" {
                read_documents = ok(&r, 200, "the citizen's documents as the client")
                    .as_array()
                    .unwrap()
                    .len();
            }
            let body = text(&r);
            for (what, id) in internal {
                if body.contains(id) {
                    leaks.push(format!("{route}: {what} in the body: {body}"));
                }
                for (name, value) in &r.headers {
                    if value.to_str().is_ok_and(|v| v.contains(id)) {
                        leaks.push(format!("{route}: {what} in the header {name}"));
                    }
                }
            }
        }
        assert!(
            leaks.is_empty(),
            "{backend:?}: answers to a service client carry internal ids:\n{}",
            leaks.join("\n")
        );
        assert_eq!(
            learned, world.owner_for_service,
            "the grant names the walk's id"
        );
        // The walk read something: the grant's documents, and the deposits it made.
        assert!(
            read_documents >= 2,
            "{backend:?}: {read_documents} documents read"
        );
        assert!(
            answered >= 10,
            "{backend:?}: only {answered} routes answered"
        );
    }
}

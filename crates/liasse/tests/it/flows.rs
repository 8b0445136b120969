//! The four request flows a new user walked into (issue 22, points 10 to 13): a request sent
//! empty, a refusal never told, a lock that did not lock, a board that miscounted. Each test
//! goes through the API and the pages as the citizen and the agent would.

use liasse_app::requests;
use liasse_domain::clock::DAY_MS;
use liasse_domain::journal::Actor;
use liasse_inspect::samples;
use liasse_testkit::TestApp;
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::web::Browser;

/// A tenant with the demo procedures, a citizen (camille), a school agent (dominique) and
/// a civil-status agent (claude); returns their API tokens.
async fn setup(t: &TestApp, slug: &str) -> (String, String, String) {
    let tenant = t.tenant(slug).await;
    for p in liasse_domain::catalogue::default_procedures().unwrap() {
        requests::save_procedure(&t.app, &tenant, Actor::operator(), p)
            .await
            .unwrap();
    }
    let citizen = t.account(slug, "camille", "citizen", &[]).await;
    let agent = t
        .account(slug, "dominique", "agent", &[("scolaire", "modify")])
        .await;
    let civil = t
        .account(slug, "claude", "agent", &[("etat-civil", "modify")])
        .await;
    (citizen, agent, civil)
}

async fn upload(t: &TestApp, token: &str, fields: &[(&str, &str)]) -> String {
    let (s, d) = t
        .upload(token, fields, "piece.pdf", samples::minimal_pdf())
        .await;
    assert_eq!(s, 201, "{d}");
    d["id"].as_str().unwrap().to_string()
}

async fn attach(t: &TestApp, token: &str, id: &str, requirement: &str, doc: &str) -> (u16, Value) {
    t.send(
        Method::PUT,
        token,
        &format!("/api/v1/requests/{id}/attachments/{requirement}"),
        Some(json!({ "document": doc })),
    )
    .await
}

async fn to(t: &TestApp, token: &str, id: &str, body: Value) -> (u16, Value) {
    t.send(
        Method::POST,
        token,
        &format!("/api/v1/requests/{id}/transitions"),
        Some(body),
    )
    .await
}

fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors in {problem}"))
        .iter()
        .map(|e| {
            assert!(!e["detail"].as_str().unwrap().is_empty(), "{e}");
            e["field"].as_str().unwrap().to_string()
        })
        .collect()
}

/// A school registration with the citizen's two documents attached but no answer and no
/// child: before, it was sent; now it is refused with every field listed, and nothing changes.
#[tokio::test(flavor = "multi_thread")]
async fn an_empty_request_is_refused_with_its_fields_and_a_complete_one_goes() {
    for t in TestApp::all().await {
        let (citizen, _, _) = setup(&t, "vide").await;
        let other = t.account("vide", "intrus", "citizen", &[]).await;
        let address = upload(&t, &citizen, &[("type", "justificatif-domicile")]).await;
        let card = upload(
            &t,
            &citizen,
            &[
                ("type", "carte-nationale-identite"),
                ("valid_until", "2031-05-01"),
            ],
        )
        .await;
        let (s, req) = t
            .send(
                Method::POST,
                &citizen,
                "/api/v1/requests",
                Some(json!({ "procedure": "inscription-scolaire" })),
            )
            .await;
        assert_eq!(s, 201, "{req}");
        let id = req["id"].as_str().unwrap().to_string();
        for (key, doc) in [("domicile", &address), ("identite", &card)] {
            let (s, v) = attach(&t, &citizen, &id, key, doc).await;
            assert_eq!(s, 200, "{v}");
        }
        // The request says what is missing before the citizen even tries.
        let (_, v) = t
            .get_json(&citizen, &format!("/api/v1/requests/{id}"))
            .await;
        assert!(v["missing"].as_array().unwrap().is_empty(), "{v}");
        assert!(!v["incomplete"].as_array().unwrap().is_empty(), "{v}");

        let (s, refused) = to(&t, &citizen, &id, json!({ "to": "submitted" })).await;
        assert_eq!(s, 422, "{refused}");
        assert_eq!(
            refused["type"],
            "https://liasse.fr/problems/request-incomplete"
        );
        assert!(
            refused["detail"]
                .as_str()
                .unwrap()
                .contains("Année scolaire")
        );
        let f = fields(&refused);
        for field in [
            "answers.separated_parents",
            "answers.canteen",
            "answers.school_year",
            "members",
        ] {
            assert!(f.contains(&field.to_string()), "{field} in {refused}");
        }
        let (_, v) = t
            .get_json(&citizen, &format!("/api/v1/requests/{id}"))
            .await;
        assert_eq!(v["state"], "draft", "nothing was submitted");
        assert!(v["submitted_at"].is_null());

        // Another citizen cannot even see it; an agent cannot send it.
        let (s, _) = to(&t, &other, &id, json!({ "to": "submitted" })).await;
        assert_eq!(s, 404);

        // Answers of the wrong type are refused when typed; a choice must be one of the choices.
        let (s, bad) = t
            .send(
                Method::PATCH,
                &citizen,
                &format!("/api/v1/requests/{id}"),
                Some(json!({ "answers": { "canteen": "oui" } })),
            )
            .await;
        assert_eq!(s, 400, "{bad}");
        assert_eq!(bad["type"], "https://liasse.fr/problems/invalid-answers");
        let (s, bad) = t
            .send(
                Method::POST,
                &citizen,
                "/api/v1/requests",
                Some(json!({ "procedure": "demande-acte-etat-civil", "answers": { "act": "divorce", "for_self": true } })),
            )
            .await;
        assert_eq!(s, 400, "{bad}");
        assert!(
            bad["detail"].as_str().unwrap().contains("naissance"),
            "{bad}"
        );

        // Some answers given: only what is still missing is listed.
        let (s, _) = t
            .send(
                Method::PATCH,
                &citizen,
                &format!("/api/v1/requests/{id}"),
                Some(json!({ "answers": { "canteen": false, "separated_parents": false } })),
            )
            .await;
        assert_eq!(s, 200);
        let (s, refused) = to(&t, &citizen, &id, json!({ "to": "submitted" })).await;
        assert_eq!(s, 422);
        let f = fields(&refused);
        assert!(f.contains(&"answers.school_year".to_string()), "{refused}");
        assert!(f.contains(&"members".to_string()), "{refused}");
        assert!(!f.contains(&"answers.canteen".to_string()), "{refused}");

        // The child is declared and chosen: its vaccination record is now required too.
        let (s, child) = t
            .send(
                Method::POST,
                &citizen,
                "/api/v1/household-members",
                Some(json!({ "name": "Léa Martin", "birth_date": "2019-03-02", "relation": "enfant" })),
            )
            .await;
        assert_eq!(s, 201, "{child}");
        let child = child["id"].as_str().unwrap().to_string();
        let (s, _) = t
            .send(
                Method::PATCH,
                &citizen,
                &format!("/api/v1/requests/{id}"),
                Some(json!({
                    "answers": { "canteen": false, "separated_parents": false, "school_year": "2026-2027" },
                    "members": [child],
                })),
            )
            .await;
        assert_eq!(s, 200);
        let (s, refused) = to(&t, &citizen, &id, json!({ "to": "submitted" })).await;
        assert_eq!(s, 422);
        assert_eq!(
            fields(&refused),
            vec![format!("requirements.vaccins:{child}")]
        );
        let vaccins = upload(
            &t,
            &citizen,
            &[("type", "carnet-vaccination"), ("subject", &child)],
        )
        .await;
        let (s, v) = attach(&t, &citizen, &id, &format!("vaccins:{child}"), &vaccins).await;
        assert_eq!(s, 200, "{v}");
        let (s, sent) = to(&t, &citizen, &id, json!({ "to": "submitted" })).await;
        assert_eq!(s, 200, "{sent}");
        assert_eq!(sent["state"], "submitted");
        assert!(sent["incomplete"].as_array().unwrap().is_empty());
    }
}

/// The same on the pages: the page no longer says "envoyée"; it lists what is missing,
/// each item linking to where to fix it (the household page to declare the child).
#[tokio::test(flavor = "multi_thread")]
async fn an_empty_request_is_refused_on_the_page_with_links_to_fix_it() {
    let t = TestApp::embedded().await;
    let (citizen_token, _, _) = setup(&t, "page").await;
    let mut b = Browser::new(&t);
    let csrf = b.login("page", "camille", "camille-password").await.csrf();
    let r = b
        .post(
            "/demandes",
            &[("csrf", &csrf), ("procedure", "inscription-scolaire")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let path = r.header("location").split('?').next().unwrap().to_string();
    let id = path.trim_start_matches("/demandes/").to_string();
    for (req, fields) in [
        ("domicile", vec![]),
        ("identite", vec![("valid_until", "2031-05-01")]),
    ] {
        let mut form = Form::new().text("csrf", csrf.clone());
        for (k, v) in fields {
            form = form.text(k, v);
        }
        let form = form.part(
            "file",
            Part::bytes(samples::minimal_pdf())
                .file_name("piece.pdf")
                .mime_str("application/pdf")
                .unwrap(),
        );
        let r = b
            .post_multipart(&format!("{path}/deposer?exigence={req}"), form)
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
    }
    // The page offers no send button and says what to do, with links.
    let page = b.get(&path).await;
    assert!(!page.body.contains("Envoyer ma demande"), "{}", page.body);
    assert!(page.body.contains("href=\"/foyer#name\""), "{}", page.body);
    assert!(
        page.body.contains("href=\"#q-school_year\""),
        "{}",
        page.body
    );

    // Sent anyway (an old page, a double click): refused, nothing sent, every gap listed.
    let sent = b.post(&format!("{path}/envoyer"), &[("csrf", &csrf)]).await;
    assert_eq!(sent.status, 422, "{}", sent.body);
    assert!(
        !sent.body.contains("Votre demande a été envoyée"),
        "{}",
        sent.body
    );
    assert!(sent.body.contains("error-summary"), "{}", sent.body);
    assert!(
        sent.body
            .contains("Déclarez d'abord dans votre foyer la personne concernée"),
        "{}",
        sent.body
    );
    assert!(sent.body.contains("href=\"/foyer#name\""), "{}", sent.body);
    assert!(
        sent.body
            .contains("Répondez à la question « Année scolaire (par exemple 2026-2027) »"),
        "{}",
        sent.body
    );
    let (_, v) = t
        .get_json(&citizen_token, &format!("/api/v1/requests/{id}"))
        .await;
    assert_eq!(v["state"], "draft");

    // Declared, answered, chosen, documented: sent.
    let r = b
        .post(
            "/foyer",
            &[
                ("csrf", &csrf),
                ("name", "Léa Martin"),
                ("relation", "enfant"),
                ("birth_date", "2019-03-02"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let (_, members) = t
        .get_json(&citizen_token, "/api/v1/household-members")
        .await;
    let child = members[0]["id"].as_str().unwrap().to_string();
    let page = b.get(&path).await;
    assert!(page.body.contains("href=\"#membres\""), "{}", page.body);
    let r = b
        .post(
            &format!("{path}/reponses"),
            &[
                ("csrf", &csrf),
                ("q_canteen", "non"),
                ("q_separated_parents", "non"),
                ("q_school_year", "2026-2027"),
                ("members", &child),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let form = Form::new().text("csrf", csrf.clone()).part(
        "file",
        Part::bytes(samples::small_png(30, 40))
            .file_name("carnet.png")
            .mime_str("image/png")
            .unwrap(),
    );
    let r = b
        .post_multipart(&format!("{path}/deposer?exigence=vaccins:{child}"), form)
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = b.get(&path).await;
    assert!(page.body.contains("Envoyer ma demande"), "{}", page.body);
    let sent = b.post(&format!("{path}/envoyer"), &[("csrf", &csrf)]).await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    assert!(
        sent.body.contains("Votre demande a été envoyée"),
        "{}",
        sent.body
    );
}

/// The citizen's messages of one request: (subject, body) of the e-mails in the outbox.
async fn mails(
    t: &TestApp,
    tenant: &str,
    account: &str,
    request_number: &str,
) -> Vec<(String, String)> {
    let mut rows = liasse_store::outbox::for_account(&t.app.db, tenant, account, 100)
        .await
        .unwrap();
    // Newest first from the store; the story reads oldest first.
    rows.reverse();
    rows.into_iter()
        .filter(|o| o.channel == "email" && o.subject.contains(request_number))
        .map(|o| (o.subject, o.body))
        .collect()
}

/// A civil-status request with the citizen's ID card attached: (id, number).
async fn start(t: &TestApp, citizen: &str, card: &str) -> (String, String) {
    let (s, req) = t
        .send(
            Method::POST,
            citizen,
            "/api/v1/requests",
            Some(json!({ "procedure": "demande-acte-etat-civil", "answers": { "act": "naissance", "for_self": true } })),
        )
        .await;
    assert_eq!(s, 201, "{req}");
    let id = req["id"].as_str().unwrap().to_string();
    let (s, v) = attach(t, citizen, &id, "identite", card).await;
    assert_eq!(s, 200, "{v}");
    (id, req["number"].as_str().unwrap().to_string())
}

/// Every change of a request's state leaves one notice for the citizen, with what to do next
/// and the link to the request; a refusal carries its reason. Before, nothing was sent.
#[tokio::test(flavor = "multi_thread")]
async fn every_state_change_tells_the_citizen() {
    for t in TestApp::all().await {
        let (citizen, _, civil) = setup(&t, "avis").await;
        let (s, _) = t
            .send(
                Method::PUT,
                &citizen,
                "/api/v1/preferences",
                Some(json!({ "email": "camille@example.org" })),
            )
            .await;
        assert_eq!(s, 200);
        let me = liasse_app::auth::principal_for_login(&t.app, "avis", "camille")
            .await
            .unwrap();
        let card = upload(
            &t,
            &citizen,
            &[
                ("type", "carte-nationale-identite"),
                ("valid_until", "2031-05-01"),
            ],
        )
        .await;
        let public = t.app.config.public_url().trim_end_matches('/').to_string();

        // Refused with a reason: received, taken up, refused (with the reason), closed.
        let (id, number) = start(&t, &citizen, &card).await;
        let link = format!("{public}/demandes/{id}");
        assert!(
            mails(&t, &me.tenant_id, &me.account_id, &number)
                .await
                .is_empty()
        );
        let steps: [(&str, Value, &str); 2] = [
            ("submitted", json!({ "to": "submitted" }), "reçue"),
            (
                "in_progress",
                json!({ "to": "in_progress" }),
                "prise en charge",
            ),
        ];
        for (n, (state, body, subject)) in steps.into_iter().enumerate() {
            let who = if state == "submitted" {
                &citizen
            } else {
                &civil
            };
            let (s, v) = to(&t, who, &id, body).await;
            assert_eq!(s, 200, "{v}");
            let m = mails(&t, &me.tenant_id, &me.account_id, &number).await;
            assert_eq!(m.len(), n + 1, "one notice per change: {m:?}");
            assert!(m[n].0.contains(subject), "{m:?}");
            assert!(m[n].1.contains(&link), "{m:?}");
        }
        // A refusal without a reason is refused and tells nothing.
        let (s, bad) = to(&t, &civil, &id, json!({ "to": "rejected", "reason": "  " })).await;
        assert_eq!(s, 400, "{bad}");
        assert_eq!(bad["type"], "https://liasse.fr/problems/reason-required");
        assert_eq!(
            mails(&t, &me.tenant_id, &me.account_id, &number)
                .await
                .len(),
            2
        );
        let reason = "Aucun acte de naissance à ce nom n'est dressé dans la commune";
        let (s, v) = to(
            &t,
            &civil,
            &id,
            json!({ "to": "rejected", "reason": reason }),
        )
        .await;
        assert_eq!(s, 200, "{v}");
        let m = mails(&t, &me.tenant_id, &me.account_id, &number).await;
        assert_eq!(m.len(), 3);
        assert!(m[2].0.contains("refusée"), "{m:?}");
        assert!(m[2].1.contains(reason) && m[2].1.contains(&link), "{m:?}");
        // The same notice is in the application.
        let (_, notes) = t.get_json(&citizen, "/api/v1/notifications").await;
        assert!(
            notes["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n["kind"] == "request.state.rejected"
                    && n["body"].as_str().unwrap().contains(reason)),
            "{notes}"
        );
        let mut b = Browser::new(&t);
        b.login("avis", "camille", "camille-password").await.csrf();
        let page = b.get("/notifications").await;
        assert!(
            page.body.contains(&format!("href=\"/demandes/{id}\"")) && page.body.contains(reason),
            "{}",
            page.body
        );
        let (s, _) = to(&t, &civil, &id, json!({ "to": "closed" })).await;
        assert_eq!(s, 200);
        let m = mails(&t, &me.tenant_id, &me.account_id, &number).await;
        assert_eq!(m.len(), 4);
        assert!(m[3].0.contains("close"), "{m:?}");

        // Complement asked, complement received, accepted.
        let (id, number) = start(&t, &citizen, &card).await;
        for (who, body) in [
            (&citizen, json!({ "to": "submitted" })),
            (&civil, json!({ "to": "in_progress" })),
        ] {
            let (s, v) = to(&t, who, &id, body).await;
            assert_eq!(s, 200, "{v}");
        }
        let asked = "La pièce d'identité est illisible : déposez un scan en couleur";
        let (s, v) = to(
            &t,
            &civil,
            &id,
            json!({ "to": "complement", "reason": asked, "requirements": ["identite"] }),
        )
        .await;
        assert_eq!(s, 200, "{v}");
        let m = mails(&t, &me.tenant_id, &me.account_id, &number).await;
        assert_eq!(m.len(), 3);
        assert!(m[2].0.contains("complément"), "{m:?}");
        assert!(
            m[2].1.contains(asked) && m[2].1.contains(&format!("{public}/demandes/{id}")),
            "{m:?}"
        );
        let (s, v) = to(&t, &citizen, &id, json!({ "to": "submitted" })).await;
        assert_eq!(s, 200, "{v}");
        assert!(
            v["tracking_code"].is_null(),
            "the tracking code is given once"
        );
        let m = mails(&t, &me.tenant_id, &me.account_id, &number).await;
        assert_eq!(m.len(), 4);
        assert!(m[3].0.contains("complément reçu"), "{m:?}");
        for (n, state) in ["in_progress", "completed"].iter().enumerate() {
            let (s, v) = to(&t, &civil, &id, json!({ "to": state })).await;
            assert_eq!(s, 200, "{v}");
            let m = mails(&t, &me.tenant_id, &me.account_id, &number).await;
            assert_eq!(m.len(), 5 + n);
        }
        let m = mails(&t, &me.tenant_id, &me.account_id, &number).await;
        assert!(m[5].0.contains("acceptée"), "{m:?}");
    }
}

/// While an agent holds the lock the citizen changes nothing (409 request-locked, and the
/// page offers no button); once sent, the citizen changes only what an agent asked for.
#[tokio::test(flavor = "multi_thread")]
async fn a_locked_or_sent_request_changes_only_as_the_agent_asked() {
    for t in TestApp::all().await {
        let (citizen, _, civil) = setup(&t, "verrou").await;
        let other = t.account("verrou", "intrus", "citizen", &[]).await;
        let card = upload(
            &t,
            &citizen,
            &[
                ("type", "carte-nationale-identite"),
                ("valid_until", "2031-05-01"),
            ],
        )
        .await;
        let (s, req) = t
            .send(
                Method::POST,
                &citizen,
                "/api/v1/requests",
                Some(json!({ "procedure": "demande-acte-etat-civil", "answers": { "act": "naissance", "for_self": false } })),
            )
            .await;
        assert_eq!(s, 201, "{req}");
        let id = req["id"].as_str().unwrap().to_string();
        let book = upload(&t, &citizen, &[("type", "livret-famille")]).await;
        for (key, doc) in [("identite", &card), ("livret", &book)] {
            let (s, v) = attach(&t, &citizen, &id, key, doc).await;
            assert_eq!(s, 200, "{v}");
        }
        let (s, _) = to(&t, &citizen, &id, json!({ "to": "submitted" })).await;
        assert_eq!(s, 200);
        let (s, _) = to(&t, &civil, &id, json!({ "to": "in_progress" })).await;
        assert_eq!(s, 200);

        // Locked: no removal, no attachment, no upload (and nothing lands in the vault).
        let detach = |token: &str, requirement: &str| {
            let token = token.to_string();
            let path = format!("/api/v1/requests/{id}/attachments/{requirement}");
            let t = &t;
            async move { t.send(Method::DELETE, &token, &path, None).await }
        };
        let (s, locked) = detach(&citizen, "livret").await;
        assert_eq!(s, 409, "{locked}");
        assert_eq!(locked["type"], "https://liasse.fr/problems/request-locked");
        assert!(
            locked["detail"].as_str().unwrap().contains("agent"),
            "{locked}"
        );
        let (s, locked) = attach(&t, &citizen, &id, "livret", &book).await;
        assert_eq!(s, 409, "{locked}");
        let (_, before) = t.get_json(&citizen, "/api/v1/documents").await;
        let form = Form::new().part(
            "file",
            Part::bytes(samples::minimal_pdf()).file_name("livret2.pdf"),
        );
        let r = t
            .http
            .post(t.url(&format!("/api/v1/requests/{id}/attachments/livret")))
            .bearer_auth(&citizen)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 409);
        let (_, after) = t.get_json(&citizen, "/api/v1/documents").await;
        assert_eq!(
            before.as_array().unwrap().len(),
            after.as_array().unwrap().len()
        );
        let (_, v) = t
            .get_json(&citizen, &format!("/api/v1/requests/{id}"))
            .await;
        assert_eq!(v["locked"], true);
        assert!(
            v["requirements"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["editable"] == false && !r["attached"].is_null()),
            "{v}"
        );
        // Another citizen still sees nothing.
        let (s, _) = detach(&other, "livret").await;
        assert_eq!(s, 404);

        // On the page: a French message, no button; a forged form is refused the same way.
        let mut b = Browser::new(&t);
        let csrf = b
            .login("verrou", "camille", "camille-password")
            .await
            .csrf();
        let page = b.get(&format!("/demandes/{id}")).await;
        assert_eq!(page.status, 200);
        assert!(
            page.body.contains("Un agent instruit votre demande"),
            "{}",
            page.body
        );
        assert!(!page.body.contains("Retirer cette pièce"), "{}", page.body);
        let r = b
            .post(
                &format!("/demandes/{id}/retirer"),
                &[("csrf", &csrf), ("requirement", "livret")],
            )
            .await;
        assert_eq!(r.status, 409, "{}", r.body);
        assert!(
            r.body.contains("Un agent instruit votre demande"),
            "{}",
            r.body
        );

        // The lock lapses: still sent, so still nothing the agent did not ask for.
        t.clock.advance(31 * 60 * 1000);
        let (s, sent) = detach(&citizen, "livret").await;
        assert_eq!(s, 409, "{sent}");
        assert_eq!(sent["type"], "https://liasse.fr/problems/request-sent");

        // The agent asks for a new family record book: that one only can change.
        let (s, bad) = to(
            &t,
            &civil,
            &id,
            json!({ "to": "complement", "reason": "Livret illisible" }),
        )
        .await;
        assert_eq!(s, 400, "{bad}");
        assert_eq!(
            bad["type"],
            "https://liasse.fr/problems/requirements-required"
        );
        let (s, bad) = to(
            &t,
            &civil,
            &id,
            json!({ "to": "complement", "reason": "Livret illisible", "requirements": ["passeport"] }),
        )
        .await;
        assert_eq!(s, 400, "{bad}");
        let (s, _) = to(
            &t,
            &citizen,
            &id,
            json!({ "to": "complement", "reason": "x", "requirements": ["livret"] }),
        )
        .await;
        assert_eq!(s, 409, "the citizen cannot ask themself for a complement");
        // The agent asks from the request page: the requirements are ticked there.
        let mut agent = Browser::new(&t);
        let agent_csrf = agent
            .login("verrou", "claude", "claude-password")
            .await
            .csrf();
        let page = agent.get(&format!("/agent/demandes/{id}")).await;
        assert!(
            page.body.contains("name=\"requirements\" value=\"livret\""),
            "{}",
            page.body
        );
        let r = agent
            .post(
                &format!("/agent/demandes/{id}/etat"),
                &[
                    ("csrf", &agent_csrf),
                    ("to", "complement"),
                    ("reason", "Livret illisible"),
                    ("requirements", "livret"),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let (_, v) = t
            .get_json(&citizen, &format!("/api/v1/requests/{id}"))
            .await;
        assert_eq!(v["state"], "complement");
        assert_eq!(v["complement"]["requirements"], json!(["livret"]));
        let (s, sent) = detach(&citizen, "identite").await;
        assert_eq!(s, 409, "{sent}");
        assert_eq!(sent["type"], "https://liasse.fr/problems/request-sent");
        let page = b.get(&format!("/demandes/{id}")).await;
        assert!(page.body.contains("Livret illisible"), "{}", page.body);
        assert_eq!(
            page.body.matches("Retirer cette pièce").count(),
            1,
            "{}",
            page.body
        );

        // While the agent holds the lock again, not even that.
        let (s, _) = t
            .send(
                Method::POST,
                &civil,
                &format!("/api/v1/requests/{id}/lock"),
                None,
            )
            .await;
        assert_eq!(s, 200);
        let (s, locked) = detach(&citizen, "livret").await;
        assert_eq!(s, 409);
        assert_eq!(locked["type"], "https://liasse.fr/problems/request-locked");
        let (s, locked) = to(&t, &citizen, &id, json!({ "to": "submitted" })).await;
        assert_eq!(s, 409);
        assert_eq!(locked["type"], "https://liasse.fr/problems/request-locked");
        let (s, _) = t
            .send(
                Method::DELETE,
                &civil,
                &format!("/api/v1/requests/{id}/lock"),
                None,
            )
            .await;
        assert_eq!(s, 200);

        // Released: the citizen replaces the asked piece and sends the request back.
        let (s, v) = detach(&citizen, "livret").await;
        assert_eq!(s, 200, "{v}");
        let (s, refused) = to(&t, &citizen, &id, json!({ "to": "submitted" })).await;
        assert_eq!(s, 422, "{refused}");
        assert_eq!(fields(&refused), vec!["requirements.livret".to_string()]);
        let new_book = upload(&t, &citizen, &[("type", "livret-famille")]).await;
        let (s, v) = attach(&t, &citizen, &id, "livret", &new_book).await;
        assert_eq!(s, 200, "{v}");
        let (s, v) = to(&t, &citizen, &id, json!({ "to": "submitted" })).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["state"], "submitted");
        let (s, sent) = detach(&citizen, "livret").await;
        assert_eq!(s, 409, "{sent}");
        assert_eq!(sent["type"], "https://liasse.fr/problems/request-sent");
    }
}

/// A request past its processing target is counted and listed under "En retard" (not in
/// "Nouvelles demandes"), with the same numbers on the page and in the API.
#[tokio::test(flavor = "multi_thread")]
async fn the_board_counts_a_late_request_as_late_on_the_page_and_the_api() {
    let t = TestApp::embedded().await;
    let (citizen, _, civil) = setup(&t, "tableau").await;
    let card = upload(
        &t,
        &citizen,
        &[
            ("type", "carte-nationale-identite"),
            ("valid_until", "2031-05-01"),
        ],
    )
    .await;
    let (_, req) = t
        .send(
            Method::POST,
            &citizen,
            "/api/v1/requests",
            Some(json!({ "procedure": "demande-acte-etat-civil", "answers": { "act": "naissance", "for_self": true } })),
        )
        .await;
    let id = req["id"].as_str().unwrap().to_string();
    let number = req["number"].as_str().unwrap().to_string();
    attach(&t, &citizen, &id, "identite", &card).await;
    let (s, _) = to(&t, &citizen, &id, json!({ "to": "submitted" })).await;
    assert_eq!(s, 200);

    let mut b = Browser::new(&t);
    b.login("tableau", "claude", "claude-password").await.csrf();
    let section = |body: &str, anchor: &str| -> (u64, String) {
        let marker = format!("<h2 id=\"{anchor}\">");
        let start = body
            .find(&marker)
            .unwrap_or_else(|| panic!("no {anchor} in {body}"));
        let rest = &body[start..];
        let end = rest[4..].find("<h2").map(|e| e + 4).unwrap_or(rest.len());
        let heading = &rest[..rest.find("</h2>").unwrap()];
        let open = heading.rfind('(').unwrap();
        let close = heading.rfind(')').unwrap();
        (
            heading[open + 1..close].parse().unwrap(),
            rest[..end].to_string(),
        )
    };
    let check = |page: &str, d: &Value| {
        for (anchor, key) in [
            ("nouvelles", "new"),
            ("miennes", "mine"),
            ("retard", "late"),
            ("urgentes", "urgent"),
        ] {
            let (count, _) = section(page, anchor);
            assert_eq!(Some(count), d["counts"][key].as_u64(), "{anchor}: {d}");
            assert_eq!(d[key].as_array().unwrap().len() as u64, count, "{key}: {d}");
        }
    };

    // Fresh: new, neither urgent nor late.
    let (_, d) = t.get_json(&civil, "/api/v1/dashboard").await;
    assert_eq!(d["counts"]["new"], 1, "{d}");
    let page = b.get("/agent").await;
    assert_eq!(page.status, 200, "{}", page.body);
    check(&page.body, &d);

    // Past the processing target (5 days for a civil-status act): late, no longer new.
    t.clock.advance(6 * DAY_MS);
    let (_, d) = t.get_json(&civil, "/api/v1/dashboard").await;
    assert_eq!(d["counts"]["late"], 1, "{d}");
    assert_eq!(d["counts"]["new"], 0, "{d}");
    assert_eq!(d["late"][0]["id"], id.as_str());
    // The session did not last six days: a new one.
    let mut b = Browser::new(&t);
    b.login("tableau", "claude", "claude-password").await.csrf();
    let page = b.get("/agent").await;
    assert_eq!(page.status, 200, "{}", page.body);
    check(&page.body, &d);
    let (late, rows) = section(&page.body, "retard");
    assert_eq!(late, 1);
    assert!(rows.contains(&number), "{rows}");
    let (_, rows) = section(&page.body, "nouvelles");
    assert!(!rows.contains(&number), "{rows}");

    // Another domain's agent sees nothing of it.
    let dominique = t
        .account("tableau", "dominique2", "agent", &[("scolaire", "modify")])
        .await;
    let (_, d) = t.get_json(&dominique, "/api/v1/dashboard").await;
    assert_eq!(d["counts"]["late"], 0, "{d}");
    // Citizens have no board.
    let (s, _) = t.get_json(&citizen, "/api/v1/dashboard").await;
    assert_eq!(s, 403);
}

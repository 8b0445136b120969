//! The Nîmes story: the vault feeds the démarches.

use liasse_app::{requests, verify};
use liasse_domain::clock::DAY_MS;
use liasse_domain::journal::Actor;
use liasse_inspect::samples;
use liasse_testkit::TestApp;
use serde_json::{Value, json};

fn requirement<'a>(view: &'a Value, id: &str) -> &'a Value {
    view["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no requirement {id} in {view}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn nimes_story_school_registration_for_two_children() {
    for t in TestApp::all().await {
        let tenant = t.tenant("nimes").await;
        for p in liasse_domain::catalogue::default_procedures().unwrap() {
            requests::save_procedure(&t.app, &tenant, Actor::operator(), p)
                .await
                .unwrap();
        }
        let citizen = t.account("nimes", "camille", "citizen", &[]).await;
        let agent = t
            .account("nimes", "dominique", "agent", &[("scolaire", "modify")])
            .await;
        let other_agent = t
            .account("nimes", "sacha", "agent", &[("scolaire", "modify")])
            .await;
        let outsider = t
            .account("nimes", "urbaniste", "agent", &[("urbanisme", "manage")])
            .await;

        // The vault already holds a proof of address and an ID card.
        let (s, address) = t
            .upload(
                &citizen,
                &[("type", "justificatif-domicile")],
                "edf.pdf",
                samples::minimal_pdf(),
            )
            .await;
        assert_eq!(s, 201, "{address}");
        let (s, id_card) = t
            .upload(
                &citizen,
                &[
                    ("type", "carte-nationale-identite"),
                    ("valid_until", "2031-05-01"),
                ],
                "cni.jpg",
                samples::small_jpeg(64, 40),
            )
            .await;
        assert_eq!(s, 201, "{id_card}");
        let mut children = Vec::new();
        for (name, born) in [("Léa Martin", "2019-03-02"), ("Hugo Martin", "2021-07-14")] {
            let (s, m) = t
                .send(
                    reqwest::Method::POST,
                    &citizen,
                    "/api/v1/household-members",
                    Some(json!({ "name": name, "birth_date": born, "relation": "enfant" })),
                )
                .await;
            assert_eq!(s, 201, "{m}");
            children.push(m["id"].as_str().unwrap().to_string());
        }

        // The request lists the right requirements for each child and proposes what the vault has.
        let (s, req) = t.send(reqwest::Method::POST, &citizen, "/api/v1/requests", Some(json!({
            "procedure": "inscription-scolaire", "answers": { "separated_parents": false, "canteen": false, "school_year": "2026-2027" }, "members": children,
        })))
        .await;
        assert_eq!(s, 201, "{req}");
        let id = req["id"].as_str().unwrap().to_string();
        assert_eq!(req["state"], "draft");
        let ids: Vec<&str> = req["requirements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        for c in &children {
            assert!(ids.contains(&format!("vaccins:{c}").as_str()), "{ids:?}");
        }
        assert!(
            !ids.contains(&"garde"),
            "the custody judgment is only required for separated parents"
        );
        assert_eq!(
            requirement(&req, "domicile")["candidates"][0]["id"],
            address["id"]
        );
        assert_eq!(
            requirement(&req, "identite")["candidates"][0]["id"],
            id_card["id"]
        );
        assert_eq!(
            requirement(&req, &format!("vaccins:{}", children[0]))["status"],
            "missing"
        );

        for (key, doc) in [("domicile", &address), ("identite", &id_card)] {
            let (s, v) = t
                .send(
                    reqwest::Method::PUT,
                    &citizen,
                    &format!("/api/v1/requests/{id}/attachments/{key}"),
                    Some(json!({ "document": doc["id"] })),
                )
                .await;
            assert_eq!(s, 200, "{v}");
        }
        // Submission is refused until the children's documents are there, with the list.
        let (s, refused) = t
            .send(
                reqwest::Method::POST,
                &citizen,
                &format!("/api/v1/requests/{id}/transitions"),
                Some(json!({ "to": "submitted" })),
            )
            .await;
        assert_eq!(s, 422, "{refused}");
        assert_eq!(
            refused["type"],
            "https://liasse.fr/problems/request-incomplete"
        );
        let fields: Vec<&str> = refused["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        for c in &children {
            assert!(
                fields.contains(&format!("requirements.vaccins:{c}").as_str()),
                "{refused}"
            );
        }

        // Uploads from the request land typed in the vault, for the right child.
        for c in &children {
            let form = reqwest::multipart::Form::new().part(
                "file",
                reqwest::multipart::Part::bytes(samples::small_png(30, 40)).file_name("carnet.png"),
            );
            let r = t
                .http
                .post(t.url(&format!("/api/v1/requests/{id}/attachments/vaccins:{c}")))
                .bearer_auth(&citizen)
                .multipart(form)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
        }
        let (_, vault) = t
            .get_json(&citizen, "/api/v1/documents?type=carnet-vaccination")
            .await;
        let subjects: Vec<&str> = vault
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["subject"].as_str().unwrap())
            .collect();
        assert_eq!(subjects.len(), 2);
        for c in &children {
            assert!(subjects.contains(&c.as_str()));
        }

        let (s, submitted) = t
            .send(
                reqwest::Method::POST,
                &citizen,
                &format!("/api/v1/requests/{id}/transitions"),
                Some(json!({ "to": "submitted" })),
            )
            .await;
        assert_eq!(s, 200, "{submitted}");
        let code = submitted["tracking_code"].as_str().unwrap().to_string();
        // A delegate follows it without an account.
        let r = t
            .http
            .get(t.url(&format!("/api/v1/tracking/{code}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let tracking: Value = r.json().await.unwrap();
        assert_eq!(tracking["state"], "submitted");
        assert!(!tracking.to_string().contains("camille"));

        // Agents of another domain see nothing; the school agent takes and locks the request.
        let (s, _) = t
            .get_json(&outsider, &format!("/api/v1/requests/{id}"))
            .await;
        assert_eq!(s, 404);
        let (s, _) = t
            .send(
                reqwest::Method::POST,
                &agent,
                &format!("/api/v1/requests/{id}/transitions"),
                Some(json!({ "to": "in_progress" })),
            )
            .await;
        assert_eq!(s, 200);
        let (s, locked) = t
            .send(
                reqwest::Method::POST,
                &other_agent,
                &format!("/api/v1/requests/{id}/notes"),
                Some(json!({ "body": "je regarde" })),
            )
            .await;
        assert_eq!(s, 409, "{locked}");
        // The lock lapses after its timeout (30 minutes by default), then anyone of the domain may act.
        t.clock.advance(31 * 60 * 1000);
        let (s, _) = t
            .send(
                reqwest::Method::POST,
                &other_agent,
                &format!("/api/v1/requests/{id}/notes"),
                Some(json!({ "body": "dossier vu" })),
            )
            .await;
        assert_eq!(s, 200);
        let (s, _) = t
            .send(
                reqwest::Method::POST,
                &agent,
                &format!("/api/v1/requests/{id}/lock"),
                None,
            )
            .await;
        assert_eq!(s, 200);
        let (s, _) = t
            .send(
                reqwest::Method::POST,
                &agent,
                &format!("/api/v1/requests/{id}/notes"),
                Some(json!({ "body": "Pièces conformes", "visible": true })),
            )
            .await;
        assert_eq!(s, 200);
        // The agent reviews the attached documents on the basis of the open request.
        let (_, full) = t.get_json(&agent, &format!("/api/v1/requests/{id}")).await;
        for r in full["requirements"].as_array().unwrap() {
            if let Some(doc) = r["attached"]["document_id"].as_str() {
                let got = t
                    .get(&agent, &format!("/api/v1/documents/{doc}/content"))
                    .await;
                assert_eq!(got.status(), 200);
                let (s, reviewed) = t
                    .send(
                        reqwest::Method::POST,
                        &agent,
                        &format!("/api/v1/documents/{doc}/review"),
                        Some(json!({ "decision": "validated" })),
                    )
                    .await;
                assert_eq!(s, 200, "{reviewed}");
                assert_eq!(reviewed["review_state"], "validated");
            }
        }
        let (s, _) = t
            .send(
                reqwest::Method::POST,
                &agent,
                &format!("/api/v1/requests/{id}/transitions"),
                Some(json!({ "to": "completed" })),
            )
            .await;
        assert_eq!(s, 200);
        // A letter lands in the citizen's vault.
        let (s, letter) = t
            .send(
                reqwest::Method::POST,
                &agent,
                &format!("/api/v1/requests/{id}/letters"),
                Some(
                    json!({ "template": "demande-acceptee", "text": "Rentrée le 1er septembre." }),
                ),
            )
            .await;
        assert_eq!(s, 201, "{letter}");
        let (_, vault) = t
            .get_json(&citizen, "/api/v1/documents?type=courrier")
            .await;
        assert_eq!(vault.as_array().unwrap().len(), 1);
        let pdf = t
            .get(
                &citizen,
                &format!(
                    "/api/v1/documents/{}/content",
                    letter["id"].as_str().unwrap()
                ),
            )
            .await
            .bytes()
            .await
            .unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        let (_, notes) = t.get_json(&citizen, "/api/v1/notifications").await;
        assert!(notes["unread"].as_u64().unwrap() >= 1);
        let (s, _) = t
            .send(
                reqwest::Method::POST,
                &agent,
                &format!("/api/v1/requests/{id}/transitions"),
                Some(json!({ "to": "closed" })),
            )
            .await;
        assert_eq!(s, 200);
        // Closed: the agent no longer reads the documents through the request.
        let got = t
            .get(
                &agent,
                &format!(
                    "/api/v1/documents/{}/content",
                    address["id"].as_str().unwrap()
                ),
            )
            .await;
        assert_eq!(got.status(), 404);

        // Three months later the request is anonymised; the documents remain in the vault.
        assert_eq!(liasse_jobs::runner::anonymise_due(&t.app).await.unwrap(), 0);
        t.clock.advance(95 * DAY_MS);
        assert_eq!(liasse_jobs::runner::anonymise_due(&t.app).await.unwrap(), 1);
        let (_, after) = t
            .get_json(&citizen, &format!("/api/v1/requests/{id}"))
            .await;
        assert_eq!(after["answers"], json!({}));
        assert!(after["notes"].as_array().unwrap().is_empty());
        assert!(
            after["requirements"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["attached"].is_null())
        );
        let (_, vault) = t.get_json(&citizen, "/api/v1/documents").await;
        assert_eq!(vault.as_array().unwrap().len(), 5, "{vault}");
        assert!(verify::run(&t.app, false).await.unwrap().is_clean());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn procedures_refuse_bad_conditions_with_a_clear_message() {
    let t = TestApp::embedded().await;
    t.tenant("cond").await;
    let admin = t.account("cond", "admin", "admin", &[]).await;
    let (s, body) = t
        .send(
            reqwest::Method::PUT,
            &admin,
            "/api/v1/procedures/test",
            Some(json!({
                "title": "Test", "domain": "social",
                "requirements": [{ "key": "a", "type": "rib", "condition": "answers.children >=" }],
            })),
        )
        .await;
    assert_eq!(s, 400, "{body}");
    assert_eq!(body["type"], "https://liasse.fr/problems/invalid-procedure");
    assert!(
        body["detail"].as_str().unwrap().contains("position"),
        "{body}"
    );
    let (s, body) = t.send(reqwest::Method::PUT, &admin, "/api/v1/procedures/test", Some(json!({
        "title": "Test", "domain": "social",
        "requirements": [{ "key": "a", "type": "rib", "condition": "answers.children >= 1" }],
    })))
    .await;
    assert_eq!(s, 201, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn dashboard_search_and_statistics_for_the_domain() {
    for t in TestApp::all().await {
        let tenant = t.tenant("tableau").await;
        for p in liasse_domain::catalogue::default_procedures().unwrap() {
            requests::save_procedure(&t.app, &tenant, Actor::operator(), p)
                .await
                .unwrap();
        }
        let citizen = t.account("tableau", "noe", "citizen", &[]).await;
        let agent = t
            .account("tableau", "agent", "agent", &[("etat-civil", "modify")])
            .await;
        let manager = t
            .account("tableau", "chef", "manager", &[("etat-civil", "manage")])
            .await;
        let other = t
            .account("tableau", "autre", "agent", &[("scolaire", "modify")])
            .await;
        let (_, cni) = t
            .upload(
                &citizen,
                &[
                    ("type", "carte-nationale-identite"),
                    ("valid_until", "2030-01-01"),
                ],
                "cni.pdf",
                samples::minimal_pdf(),
            )
            .await;
        let (_, req) = t.send(reqwest::Method::POST, &citizen, "/api/v1/requests", Some(json!({ "procedure": "demande-acte-etat-civil", "answers": { "act": "naissance", "for_self": true } }))).await;
        let id = req["id"].as_str().unwrap();
        t.send(
            reqwest::Method::PUT,
            &citizen,
            &format!("/api/v1/requests/{id}/attachments/identite"),
            Some(json!({ "document": cni["id"] })),
        )
        .await;
        let (s, _) = t
            .send(
                reqwest::Method::POST,
                &citizen,
                &format!("/api/v1/requests/{id}/transitions"),
                Some(json!({ "to": "submitted" })),
            )
            .await;
        assert_eq!(s, 200);
        let (_, d) = t.get_json(&agent, "/api/v1/dashboard").await;
        assert_eq!(d["counts"]["new"], 1, "{d}");
        assert_eq!(d["counts"]["late"], 0);
        // After the reminder delay it is urgent, after the processing target it is late.
        t.clock.advance(6 * DAY_MS);
        let (_, d) = t.get_json(&agent, "/api/v1/dashboard").await;
        assert_eq!(d["counts"]["urgent"], 1, "{d}");
        assert_eq!(d["counts"]["late"], 1, "{d}");
        let (_, d) = t.get_json(&other, "/api/v1/dashboard").await;
        assert_eq!(d["counts"]["new"], 0, "another domain sees nothing");
        let (_, found) = t.get_json(&agent, "/api/v1/search/requests?q=noe").await;
        assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
        let (_, found) = t
            .get_json(
                &agent,
                &format!(
                    "/api/v1/search/requests?q={}",
                    req["number"].as_str().unwrap()
                ),
            )
            .await;
        assert_eq!(found.as_array().unwrap().len(), 1);
        let (_, none) = t
            .get_json(&agent, "/api/v1/search/requests?q=personne")
            .await;
        assert_eq!(none, json!([]));
        let (s, _) = t.get_json(&agent, "/api/v1/statistics").await;
        assert_eq!(s, 403, "statistics are for managers");
        let r = t.get(&manager, "/api/v1/statistics?format=csv").await;
        assert_eq!(r.status(), 200);
        let csv = r.text().await.unwrap();
        assert!(csv.contains("demande-acte-etat-civil,submitted,1"), "{csv}");
    }
}

//! Agents: reviews, letters, counter deposits, trusted providers, grants and the agent view.

use liasse_domain::journal::Actor;
use liasse_inspect::samples;
use liasse_testkit::TestApp;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

async fn account_id(t: &TestApp, tenant: &str, login: &str) -> String {
    let tenant = liasse_store::tenants::by_slug(&t.app.db, tenant)
        .await
        .unwrap()
        .unwrap();
    liasse_store::accounts::by_login(&t.app.db, &tenant.id, login)
        .await
        .unwrap()
        .unwrap()
        .id
}

#[tokio::test(flavor = "multi_thread")]
async fn counter_deposit_assembles_scanned_pages_into_one_pdf() {
    for t in TestApp::all().await {
        t.tenant("guichet").await;
        let citizen = t.account("guichet", "ines", "citizen", &[]).await;
        let agent = t
            .account("guichet", "accueil", "agent", &[("etat-civil", "modify")])
            .await;
        let citizen_id = account_id(&t, "guichet", "ines").await;
        let form = Form::new()
            .text("type", "carte-nationale-identite")
            .text("valid_until", "2032-02-01")
            .text("channel", "counter")
            .part(
                "file",
                Part::bytes(samples::small_jpeg(120, 80)).file_name("recto.jpg"),
            )
            .part(
                "file",
                Part::bytes(samples::small_png(120, 80)).file_name("verso.png"),
            )
            .part(
                "file",
                Part::bytes(samples::minimal_pdf()).file_name("annexe.pdf"),
            );
        let r = t
            .http
            .post(t.url(&format!("/api/v1/citizens/{citizen_id}/documents")))
            .bearer_auth(&agent)
            .multipart(form)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let doc: Value = r.json().await.unwrap();
        assert_eq!(status, 201, "{doc}");
        assert_eq!(doc["channel"], "counter");
        assert_eq!(doc["media_type"], "application/pdf");
        assert_eq!(doc["valid_until"], "2032-02-01");
        let pdf = t
            .get(
                &citizen,
                &format!("/api/v1/documents/{}/content", doc["id"].as_str().unwrap()),
            )
            .await
            .bytes()
            .await
            .unwrap();
        let inspected = liasse_inspect::inspect_bytes(
            &pdf,
            &[liasse_inspect::Format::Pdf],
            &liasse_inspect::Limits::default(),
        )
        .unwrap();
        assert_eq!(inspected.pages, Some(3));
        // A hostile page is refused like any upload, and nothing is stored.
        let before = t.storage_counts().await;
        let form = Form::new()
            .text("type", "carte-nationale-identite")
            .text("valid_until", "2032-02-01")
            .part(
                "file",
                Part::bytes(samples::small_jpeg(50, 50)).file_name("a.jpg"),
            )
            .part(
                "file",
                Part::bytes(samples::pdf_with_javascript()).file_name("b.pdf"),
            );
        let r = t
            .http
            .post(t.url(&format!("/api/v1/citizens/{citizen_id}/documents")))
            .bearer_auth(&agent)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        assert_eq!(t.storage_counts().await, before);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn review_rejection_replacement_and_provider_documents() {
    for t in TestApp::all().await {
        let tenant = t.tenant("revue").await;
        let citizen = t.account("revue", "jade", "citizen", &[]).await;
        let citizen_id = account_id(&t, "revue", "jade").await;
        let agent = t
            .account("revue", "ccas", "agent", &[("social", "modify")])
            .await;
        let (_, doc) = t
            .upload(
                &citizen,
                &[("type", "attestation-quotient-familial-caf")],
                "caf.pdf",
                samples::minimal_pdf(),
            )
            .await;
        let id = doc["id"].as_str().unwrap().to_string();
        // No basis yet: the agent does not even see it.
        let (s, _) = t
            .send(
                reqwest::Method::POST,
                &agent,
                &format!("/api/v1/documents/{id}/review"),
                Some(json!({ "decision": "validated" })),
            )
            .await;
        assert_eq!(s, 404);
        let (_, listed) = t
            .get_json(&agent, &format!("/api/v1/citizens/{citizen_id}/documents"))
            .await;
        assert_eq!(listed, json!([]));
        // A grant to the social domain gives a basis.
        let (s, grant) = t.send(reqwest::Method::POST, &citizen, "/api/v1/grants", Some(json!({ "domain": "social", "types": ["attestation-quotient-familial-caf"], "purpose": "Tarif de la cantine", "until": "2026-03-01" }))).await;
        assert_eq!(s, 201, "{grant}");
        let (_, listed) = t
            .get_json(&agent, &format!("/api/v1/citizens/{citizen_id}/documents"))
            .await;
        assert_eq!(
            listed[0]["basis"],
            json!({ "kind": "grant", "id": grant["id"] })
        );
        let (s, missing) = t
            .send(
                reqwest::Method::POST,
                &agent,
                &format!("/api/v1/documents/{id}/review"),
                Some(json!({ "decision": "rejected" })),
            )
            .await;
        assert_eq!(s, 400, "{missing}");
        let (s, rejected) = t
            .send(
                reqwest::Method::POST,
                &agent,
                &format!("/api/v1/documents/{id}/review"),
                Some(json!({ "decision": "rejected", "reason": "Attestation illisible" })),
            )
            .await;
        assert_eq!(s, 200, "{rejected}");
        let (_, seen) = t
            .get_json(&citizen, &format!("/api/v1/documents/{id}"))
            .await;
        assert_eq!(seen["state"], "rejected");
        assert_eq!(seen["review_reason"], "Attestation illisible");
        let (_, notes) = t.get_json(&citizen, "/api/v1/notifications").await;
        assert!(notes["items"].to_string().contains("Attestation illisible"));
        // Replacing a rejected document sends it back to review.
        let (s, replaced) = t
            .replace(&citizen, &id, "caf2.pdf", samples::minimal_pdf())
            .await;
        assert_eq!(s, 200, "{replaced}");
        assert_eq!(replaced["state"], "submitted");
        let (_, grants) = t.get_json(&citizen, "/api/v1/grants").await;
        assert!(
            grants[0]["uses"]
                .as_array()
                .unwrap()
                .iter()
                .any(|u| u["action"] == "document.review"),
            "{grants}"
        );
        // Revocation takes effect at once.
        let r = t
            .delete(
                &citizen,
                &format!("/api/v1/grants/{}", grant["id"].as_str().unwrap()),
            )
            .await;
        assert_eq!(r.status(), 204);
        let (s, _) = t.get_json(&agent, &format!("/api/v1/documents/{id}")).await;
        assert_eq!(s, 404);

        // A trusted provider pushes a certified document only after the citizen opted in.
        liasse_app::auth::create_user(
            &t.app,
            Actor::operator(),
            liasse_app::auth::NewUser {
                tenant_slug: "revue",
                login: "caf",
                role: liasse_domain::policy::Role::Service,
                display_name: Some("CAF du Gard"),
                email: None,
                service: Some("CAF"),
                rights: vec![],
                password: None,
            },
        )
        .await
        .unwrap();
        let provider = liasse_app::auth::create_token(
            &t.app,
            Actor::operator(),
            "revue",
            "caf",
            "provider",
            "caf",
        )
        .await
        .unwrap();
        let provider_id = account_id(&t, "revue", "caf").await;
        // The provider names the citizen by its pairwise id.
        let citizen_ref = t.citizen_ref(&provider, &citizen_id).await;
        let push = |token: String| {
            let form = Form::new().text("type", "attestation-caf-certifiee").part(
                "file",
                Part::bytes(samples::minimal_pdf()).file_name("qf.pdf"),
            );
            t.http
                .post(t.url(&format!("/api/v1/citizens/{citizen_ref}/documents")))
                .bearer_auth(token)
                .multipart(form)
                .send()
        };
        let r = push(provider.clone()).await.unwrap();
        assert_eq!(r.status(), 400);
        let r = t
            .http
            .put(t.url(&format!("/api/v1/providers/{provider_id}/consent")))
            .bearer_auth(&citizen)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
        let r = push(provider.clone()).await.unwrap();
        assert_eq!(r.status(), 201);
        let certified: Value = r.json().await.unwrap();
        assert_eq!(certified["state"], "certified");
        assert_eq!(certified["origin"], "provider");
        let (s, _) = t
            .send(
                reqwest::Method::POST,
                &agent,
                &format!(
                    "/api/v1/documents/{}/review",
                    certified["id"].as_str().unwrap()
                ),
                Some(json!({ "decision": "validated" })),
            )
            .await;
        assert_eq!(s, 404, "no basis for the agent");
        let _ = tenant;
    }
}

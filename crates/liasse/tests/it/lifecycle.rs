//! The life cycle, on a simulated clock: reminders before the end of validity, delivered to a
//! real SMTP server (the sink started by `scripts/test.sh`) and to an SMS gateway; exactly one
//! notice per event and recipient with two runners or a runner that dies; disposal at the end
//! of retention; a mail server that fails and comes back.

use std::io::{Cursor, Read};
use std::sync::{Arc, Mutex};

use liasse_app::App;
use liasse_app::config::Config;
use liasse_app::verify;
use liasse_domain::clock::DAY_MS;
use liasse_domain::doctype::{format_date, parse_date};
use liasse_inspect::samples;
use liasse_jobs::lifecycle;
use liasse_jobs::runner::{self as jobs, Runner};
use liasse_store::jobs as store;
use liasse_testkit::{TestApp, mails_to, smtp_dir};
use reqwest::Method;
use serde_json::{Value, json};

/// Another node on the same database and blob store (its own pool, its own runner identity),
/// with its configuration adjusted.
async fn node(t: &TestApp, adjust: impl FnOnce(&mut Config)) -> App {
    let mut config = t.config.clone();
    adjust(&mut config);
    App::open(config, t.clock.clone()).await.unwrap()
}

fn unique_address(login: &str) -> String {
    format!("{login}-{}@liasse.test", uuid::Uuid::now_v7().simple())
}

struct Citizen {
    token: String,
    address: String,
    account: String,
    tenant: String,
}

/// A citizen who receives notices at a fresh address.
async fn citizen(t: &TestApp, tenant: &str, login: &str, prefs: Value) -> Citizen {
    let token = t.account(tenant, login, "citizen", &[]).await;
    let address = unique_address(login);
    let mut body = json!({ "email": address });
    if let (Some(b), Some(extra)) = (body.as_object_mut(), prefs.as_object()) {
        b.extend(extra.clone());
    }
    let (s, v) = t
        .send(Method::PUT, &token, "/api/v1/preferences", Some(body))
        .await;
    assert_eq!(s, 200, "{v}");
    let tenant = liasse_store::tenants::by_slug(&t.app.db, tenant)
        .await
        .unwrap()
        .unwrap()
        .id;
    let account = liasse_store::accounts::by_login(&t.app.db, &tenant, login)
        .await
        .unwrap()
        .unwrap()
        .id;
    Citizen {
        token,
        address,
        account,
        tenant,
    }
}

/// Deposits a proof of address issued on `issued_on` (valid three months).
async fn proof_of_address(t: &TestApp, token: &str, issued_on: &str) -> Value {
    let (s, doc) = t
        .upload(
            token,
            &[("type", "justificatif-domicile"), ("issued_on", issued_on)],
            "edf.pdf",
            samples::minimal_pdf(),
        )
        .await;
    assert_eq!(s, 201, "{doc}");
    doc
}

fn today(t: &TestApp) -> String {
    format_date(t.clock.today())
}

/// Moves the simulated clock to the start of `day` (which must not be in the past).
fn advance_to(t: &TestApp, day: &str) {
    let target = parse_date(day).unwrap();
    let days = (target - t.clock.today()).whole_days();
    assert!(days >= 0, "{day} is in the past");
    t.clock.advance(days * DAY_MS);
}

async fn notifications(t: &TestApp, token: &str) -> Vec<Value> {
    let (s, v) = t.get_json(token, "/api/v1/notifications").await;
    assert_eq!(s, 200, "{v}");
    let mut items = v["items"].as_array().unwrap().clone();
    items.reverse();
    items
}

fn titles(items: &[Value], kind_prefix: &str) -> Vec<String> {
    items
        .iter()
        .filter(|n| n["kind"].as_str().unwrap().starts_with(kind_prefix))
        .map(|n| n["title"].as_str().unwrap().to_string())
        .collect()
}

async fn outbox(t: &TestApp, c: &Citizen, channel: &str) -> Vec<liasse_store::outbox::OutboxRow> {
    let rows = liasse_store::outbox::for_account(&t.app.db, &c.tenant, &c.account, 1000)
        .await
        .unwrap();
    let mut rows: Vec<_> = rows.into_iter().filter(|o| o.channel == channel).collect();
    rows.reverse();
    rows
}

/// A tiny SMS gateway: records every JSON body POSTed to it.
async fn sms_gateway() -> (String, Arc<Mutex<Vec<Value>>>) {
    let got: Arc<Mutex<Vec<Value>>> = Arc::default();
    let sink = got.clone();
    let router = axum::Router::new().route(
        "/send",
        axum::routing::post(move |axum::Json(v): axum::Json<Value>| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push(v);
                axum::http::StatusCode::ACCEPTED
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (format!("http://{addr}/send"), got)
}

fn subjects(mails: &[Value]) -> Vec<String> {
    mails
        .iter()
        .map(|m| m["subject"].as_str().unwrap().to_string())
        .collect()
}

fn distinct_message_ids(mails: &[Value]) -> usize {
    mails
        .iter()
        .map(|m| m["message_id"].as_str().unwrap().to_string())
        .collect::<std::collections::BTreeSet<_>>()
        .len()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_document_gets_its_j30_j7_and_j0_notices_by_mail_sms_and_in_app() {
    let smtp = smtp_dir();
    for t in TestApp::all().await {
        let b = t.backend;
        t.tenant("rappels").await;
        let c = citizen(
            &t,
            "rappels",
            "camille",
            json!({ "phone": "06 12 34 56 78", "channels": { "sms": true } }),
        )
        .await;
        let (token, address) = (c.token.clone(), c.address.clone());
        let (gateway, texts) = sms_gateway().await;
        let runner = node(&t, |c| c.sms_gateway_url = Some(gateway.clone())).await;

        // Issued on 14 November, valid three months: its last valid day is 14 February,
        // 30 days from today (15 January); J0 is 15 February.
        let doc = proof_of_address(&t, &token, "2025-11-14").await;
        assert_eq!(doc["valid_until"], "2026-02-14", "{b:?}");
        let id = doc["id"].as_str().unwrap().to_string();

        let mut seen: Vec<(String, String)> = Vec::new();
        let mut count = 0;
        for _ in 0..=40 {
            let report = jobs::sweep(&runner).await.unwrap();
            assert_eq!(report.failed, 0, "{b:?} {report:?}");
            let items = notifications(&t, &token).await;
            let all = titles(&items, "document.");
            for title in &all[count..] {
                seen.push((today(&t), title.clone()));
            }
            count = all.len();
            // Shown as expired from J0, not before.
            let (_, d) = t.get_json(&token, &format!("/api/v1/documents/{id}")).await;
            let expect = if today(&t).as_str() >= "2026-02-15" {
                "expired"
            } else {
                "submitted"
            };
            assert_eq!(d["state"], expect, "{b:?} on {}", today(&t));
            t.clock.advance(DAY_MS);
        }
        assert_eq!(
            seen,
            vec![
                (
                    "2026-01-16".to_string(),
                    "Votre justificatif de domicile expire dans 30 jours".to_string()
                ),
                (
                    "2026-02-08".to_string(),
                    "Votre justificatif de domicile expire dans 7 jours".to_string()
                ),
                (
                    "2026-02-15".to_string(),
                    "Votre justificatif de domicile a expiré".to_string()
                ),
            ],
            "{b:?}"
        );

        // The same three by SMS, to the number in international form.
        let sms = texts.lock().unwrap().clone();
        assert_eq!(sms.len(), 3, "{b:?} {sms:?}");
        for (s, (_, title)) in sms.iter().zip(&seen) {
            assert_eq!(s["to"], "+33612345678");
            assert_eq!(s["text"], format!("Ville de rappels : {title}"), "{b:?}");
        }

        // The same three by e-mail, as the SMTP server received them.
        let mails = outbox(&t, &c, "email").await;
        assert_eq!(mails.len(), 3, "{b:?}");
        match &smtp {
            Some(dir) => {
                let got = mails_to(dir, &address);
                let expected: Vec<String> = seen.iter().map(|(_, s)| s.clone()).collect();
                assert_eq!(subjects(&got), expected, "{b:?}");
                assert_eq!(distinct_message_ids(&got), 3);
                for m in &got {
                    assert!(
                        m["from"].as_str().unwrap().contains("Ville de rappels"),
                        "{m}"
                    );
                    let body = m["body"].as_str().unwrap();
                    assert!(body.starts_with("Bonjour camille (nom),"), "{body}");
                    assert!(body.contains("« Justificatif de domicile »"), "{body}");
                    assert!(body.contains("Ville de rappels"), "{body}");
                }
                assert!(mails.iter().all(|o| o.state == "sent"), "{b:?} {mails:?}");
            }
            None => assert!(
                mails.iter().all(|o| o.state == "pending"),
                "{b:?} {mails:?}"
            ),
        }

        // Expiry is written in the citizen's journal, by the system.
        let (_, journal) = t.get_json(&token, "/api/v1/journal").await;
        let expired: Vec<&Value> = journal
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "document.expire" && e["object_id"] == id.as_str())
            .collect();
        assert_eq!(expired.len(), 1, "{b:?} {journal}");
        assert_eq!(expired[0]["actor_kind"], "system");
    }
}

/// Five documents whose J-30 reminder is due today (issued on 13 November: last valid day
/// 13 February, J0 14 February, J-30 15 January).
async fn five_due_today(t: &TestApp, token: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for _ in 0..5 {
        let d = proof_of_address(t, token, "2025-11-13").await;
        ids.push(d["id"].as_str().unwrap().to_string());
    }
    ids
}

#[tokio::test(flavor = "multi_thread")]
async fn two_runners_at_once_send_each_notice_once() {
    let smtp = smtp_dir();
    for t in TestApp::all().await {
        let b = t.backend;
        t.tenant("deux-noeuds").await;
        let c = citizen(&t, "deux-noeuds", "alix", json!({})).await;
        let (token, address) = (c.token.clone(), c.address.clone());
        five_due_today(&t, &token).await;
        let (first, second) = (node(&t, |_| {}).await, node(&t, |_| {}).await);
        // Each node passes three times, all at once.
        let pass = |app: App| async move {
            let mut reports = Vec::new();
            for _ in 0..3 {
                reports.push(jobs::sweep(&app).await.unwrap());
            }
            reports
        };
        let (ra, rc) = tokio::join!(tokio::spawn(pass(first)), tokio::spawn(pass(second)));
        let reports: Vec<_> = ra.unwrap().into_iter().chain(rc.unwrap()).collect();
        let done: usize = reports
            .iter()
            .map(|r| r.done.get("expiry").copied().unwrap_or(0))
            .sum();
        assert_eq!(done, 5, "{b:?} {reports:?}");
        assert_eq!(
            reports.iter().map(|r| r.scheduled).sum::<usize>(),
            5,
            "{b:?}"
        );

        let items = notifications(&t, &token).await;
        let got = titles(&items, "document.expiring");
        assert_eq!(got.len(), 5, "{b:?} {items:?}");
        assert!(
            got.iter()
                .all(|s| s == "Votre justificatif de domicile expire dans 30 jours")
        );
        let mails = outbox(&t, &c, "email").await;
        assert_eq!(mails.len(), 5, "{b:?}");
        if let Some(dir) = &smtp {
            let received = mails_to(dir, &address);
            assert_eq!(received.len(), 5, "{b:?}");
            assert_eq!(distinct_message_ids(&received), 5);
            let sent: usize = reports.iter().map(|r| r.delivery.emails_sent).sum();
            assert_eq!(sent, 5, "{b:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_runner_killed_mid_batch_is_taken_over_and_nothing_is_sent_twice() {
    let smtp = smtp_dir();
    for t in TestApp::all().await {
        let b = t.backend;
        t.tenant("panne").await;
        let c = citizen(&t, "panne", "sacha", json!({})).await;
        let (token, address) = (c.token.clone(), c.address.clone());
        five_due_today(&t, &token).await;
        assert_eq!(lifecycle::schedule(&t.app).await.unwrap(), 5);

        // A node claims two jobs and dies before finishing them.
        let dead = store::claim(&t.app.db, t.app.now(), jobs::LEASE_MS, "dead-node", 2, "")
            .await
            .unwrap();
        assert_eq!(dead.len(), 2, "{b:?}");

        // The live runner does the rest; the dead node's jobs are leased, so left alone.
        let live = node(&t, |_| {}).await;
        let r = jobs::sweep(&live).await.unwrap();
        assert_eq!(r.done.get("expiry"), Some(&3), "{b:?} {r:?}");
        assert_eq!(
            titles(&notifications(&t, &token).await, "document.").len(),
            3
        );

        // Once the lease has expired, the jobs are taken back (by a runner that only runs jobs
        // this time, so that their messages wait in the outbox).
        t.clock.advance(jobs::LEASE_MS + 1000);
        let mut report = jobs::SweepReport::default();
        let claimed = Runner::jobs_only(&live)
            .run_jobs("", &mut report)
            .await
            .unwrap();
        assert_eq!((claimed, report.done.get("expiry")), (2, Some(&2)), "{b:?}");
        // The dead node's late completion is refused: the job is no longer its own.
        let mut tx = t.app.db.begin_write().await.unwrap();
        assert!(
            !store::complete(&mut tx, &dead[0].id, "dead-node", t.app.now())
                .await
                .unwrap()
        );
        drop(tx);

        // Another node claims the two messages and dies before sending them.
        let stuck = liasse_store::outbox::claim(
            &t.app.db,
            t.app.now(),
            5 * 60 * 1000,
            "dead-node",
            10,
            true,
            true,
        )
        .await
        .unwrap();
        // (Without an SMTP server, none of the five was sent, so it takes all five.)
        assert_eq!(stuck.len(), if smtp.is_some() { 2 } else { 5 }, "{b:?}");
        let r = jobs::sweep(&live).await.unwrap();
        assert_eq!(r.delivery.emails_sent, 0, "{b:?} {r:?}");
        t.clock.advance(5 * 60 * 1000 + 1000);
        let r = jobs::sweep(&live).await.unwrap();
        assert_eq!(r.done_total(), 0, "{b:?}");

        // Five notices, each once, everywhere.
        let items = notifications(&t, &token).await;
        assert_eq!(titles(&items, "document.").len(), 5, "{b:?}");
        let mails = outbox(&t, &c, "email").await;
        assert_eq!(mails.len(), 5, "{b:?}");
        let tenant = &mails[0].tenant_id;
        assert!(
            store::by_state(&t.app.db, tenant, "running", 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            store::by_state(&t.app.db, tenant, "failed", 10)
                .await
                .unwrap()
                .is_empty()
        );
        if let Some(dir) = &smtp {
            assert_eq!(r.delivery.emails_sent, 2, "{b:?} {r:?}");
            let received = mails_to(dir, &address);
            assert_eq!(received.len(), 5, "{b:?}");
            assert_eq!(distinct_message_ids(&received), 5);
            assert!(mails.iter().all(|o| o.state == "sent"));
        }
    }
}

fn export_ids(zip_bytes: Vec<u8>) -> Vec<String> {
    let mut archive = zip::ZipArchive::new(Cursor::new(zip_bytes)).unwrap();
    let mut f = archive.by_name("manifest.json").unwrap();
    let mut buf = Vec::new();
    f.read_to_end(&mut buf).unwrap();
    let manifest: Value = serde_json::from_slice(&buf).unwrap();
    manifest["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn disposal_end_to_end_notice_destruction_and_what_remains() {
    let smtp = smtp_dir();
    for t in TestApp::all().await {
        let b = t.backend;
        t.tenant("archives").await;
        let admin = t.account("archives", "admin", "admin", &[]).await;
        // A type with a short life: valid one month, kept one month more, 7 days' notice,
        // which a citizen may keep.
        let (s, v) = t
            .send(
                Method::PUT,
                &admin,
                "/api/v1/document-types/essai-court",
                Some(json!({
                    "code": "essai-court", "label": "Attestation d'essai", "domain": "general",
                    "validity": "P1M", "retention": "P1M", "disposal": "delete",
                    "disposal_notice_days": 7, "keep_allowed": true,
                    "formats": ["pdf"], "max_size": 1048576, "review_required": true,
                    "depositors": ["citizen", "agent"],
                })),
            )
            .await;
        assert!(s == 200 || s == 201, "{v}");
        let c = citizen(&t, "archives", "dominique", json!({})).await;
        let (token, address) = (c.token.clone(), c.address.clone());
        let deposit = |_: ()| async {
            let (s, d) = t
                .upload(
                    &token,
                    &[("type", "essai-court")],
                    "essai.pdf",
                    samples::minimal_pdf(),
                )
                .await;
            assert_eq!(s, 201, "{d}");
            d["id"].as_str().unwrap().to_string()
        };
        let (gone, kept) = (deposit(()).await, deposit(()).await);

        // Keeping is refused where the type does not allow it, accepted where it does.
        let (s, cert) = t
            .upload(
                &token,
                &[("type", "certificat-medical")],
                "cm.pdf",
                samples::minimal_pdf(),
            )
            .await;
        assert_eq!(s, 201, "{cert}");
        let (s, refused) = t
            .send(
                Method::POST,
                &token,
                &format!("/api/v1/documents/{}/keep", cert["id"].as_str().unwrap()),
                None,
            )
            .await;
        assert_eq!(s, 400, "{refused}");
        assert_eq!(
            refused["type"],
            "https://liasse.fr/problems/keep-not-allowed"
        );
        let (s, ok) = t
            .send(
                Method::POST,
                &token,
                &format!("/api/v1/documents/{kept}/keep"),
                None,
            )
            .await;
        assert_eq!(s, 200, "{ok}");
        assert_eq!(ok["kept"], true);

        let versions = liasse_store::documents::versions(&t.app.db, &c.tenant, &gone)
            .await
            .unwrap();
        let blob = versions[0].blob_key.clone();
        let (_, _, blobs_before) = t.storage_counts().await;

        // Valid until 15 February, retention until 15 March: destroyed on 16 March, told on
        // 9 March.
        let runner = node(&t, |_| {}).await;
        jobs::sweep(&runner).await.unwrap();
        advance_to(&t, "2026-03-08");
        jobs::sweep(&runner).await.unwrap();
        assert!(titles(&notifications(&t, &token).await, "document.disposal").is_empty());
        advance_to(&t, "2026-03-09");
        jobs::sweep(&runner).await.unwrap();
        let notices = titles(&notifications(&t, &token).await, "document.disposal");
        assert_eq!(
            notices,
            vec!["Suppression de votre attestation d'essai le 16 mars 2026".to_string()],
            "{b:?}"
        );
        advance_to(&t, "2026-03-15");
        jobs::sweep(&runner).await.unwrap();
        let (s, _) = t
            .get_json(&token, &format!("/api/v1/documents/{gone}"))
            .await;
        assert_eq!(s, 200, "{b:?}: still there the day before");

        advance_to(&t, "2026-03-16");
        let r = jobs::sweep(&runner).await.unwrap();
        assert_eq!(r.done.get("dispose"), Some(&1), "{b:?} {r:?}");
        // Gone for the citizen; the kept one and the others remain.
        let (s, _) = t
            .get_json(&token, &format!("/api/v1/documents/{gone}"))
            .await;
        assert_eq!(s, 404, "{b:?}");
        let (s, _) = t
            .get_json(&token, &format!("/api/v1/documents/{kept}"))
            .await;
        assert_eq!(s, 200, "{b:?}");
        // The tombstone: the row stays, marked deleted, with no key left.
        let tenant = c.tenant.clone();
        let row = liasse_store::documents::get(&t.app.db, &tenant, &gone)
            .await
            .unwrap()
            .unwrap();
        assert!(row.deleted_at.is_some());
        assert_eq!(row.state, "deleted");
        for v in liasse_store::documents::versions(&t.app.db, &tenant, &gone)
            .await
            .unwrap()
        {
            assert!(
                v.wrapped_key.is_none() && v.key_id.is_none() && v.sealed_meta.is_none(),
                "{b:?}"
            );
            assert!(v.destroyed_at.is_some());
        }
        // The blob is gone from the store, and nothing else is.
        use futures::TryStreamExt;
        let stored: Vec<String> = t.app.blobs.list().try_collect().await.unwrap();
        assert!(!stored.contains(&blob), "{b:?}");
        assert_eq!(stored.len(), blobs_before - 1, "{b:?}");
        assert!(
            verify::run(&t.app, false).await.unwrap().is_clean(),
            "{b:?}"
        );
        // The journal says who destroyed it and why.
        let (_, journal) = t.get_json(&token, "/api/v1/journal").await;
        let entries: Vec<&Value> = journal
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "document.dispose" && e["object_id"] == gone.as_str())
            .collect();
        assert_eq!(entries.len(), 1, "{b:?} {journal}");
        assert_eq!(entries[0]["actor_kind"], "system");
        assert_eq!(entries[0]["basis_kind"], "retention");
        // The export no longer contains it.
        let r = t.get(&token, "/api/v1/export").await;
        assert_eq!(r.status(), 200);
        let ids = export_ids(r.bytes().await.unwrap().to_vec());
        assert!(!ids.contains(&gone) && ids.contains(&kept), "{b:?} {ids:?}");
        // Told before and after, by e-mail too (disposal notices are mandatory).
        let done = titles(&notifications(&t, &token).await, "document.disposed");
        assert_eq!(
            done,
            vec!["Pièce supprimée : Attestation d'essai".to_string()]
        );
        if let Some(dir) = &smtp {
            let got = subjects(&mails_to(dir, &address));
            assert!(
                got.contains(
                    &"Suppression de votre attestation d'essai le 16 mars 2026".to_string()
                ),
                "{got:?}"
            );
            assert!(
                got.contains(&"Pièce supprimée : Attestation d'essai".to_string()),
                "{got:?}"
            );
        }
        // Nothing else is destroyed later.
        advance_to(&t, "2026-05-01");
        let r = jobs::sweep(&runner).await.unwrap();
        assert_eq!(r.done.get("dispose"), None, "{b:?} {r:?}");
        let (s, _) = t
            .get_json(&token, &format!("/api/v1/documents/{kept}"))
            .await;
        assert_eq!(s, 200, "{b:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_mail_server_keeps_notices_pending_until_it_comes_back() {
    let smtp = smtp_dir();
    for t in TestApp::all().await {
        let b = t.backend;
        t.tenant("courrier-en-panne").await;
        let c = citizen(&t, "courrier-en-panne", "lou", json!({})).await;
        let (token, address) = (c.token.clone(), c.address.clone());
        for _ in 0..2 {
            proof_of_address(&t, &token, "2025-11-13").await;
        }
        // A port nothing listens on.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let runner = node(&t, |c| {
            c.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
            c.smtp_starttls = Some(false);
        })
        .await;
        let r = jobs::sweep(&runner).await.unwrap();
        assert_eq!(
            (r.delivery.emails_sent, r.delivery.retried),
            (0, 2),
            "{b:?} {r:?}"
        );
        assert_eq!(r.pending_messages, 2, "{b:?}");
        // Pending with their error, for the citizen to see.
        let (s, deliveries) = t.get_json(&token, "/api/v1/deliveries").await;
        assert_eq!(s, 200, "{deliveries}");
        let list = deliveries.as_array().unwrap();
        assert_eq!(list.len(), 2, "{b:?} {deliveries}");
        for d in list {
            assert_eq!(d["state"], "pending");
            assert_eq!(d["attempts"], 1);
            assert!(d["last_error"].as_str().unwrap().contains("SMTP"), "{d}");
        }
        // Not retried before its delay.
        t.clock.advance(30_000);
        let r = jobs::sweep(&runner).await.unwrap();
        assert_eq!(r.delivery.retried, 0, "{b:?}");
        t.clock.advance(60_000);
        let r = jobs::sweep(&runner).await.unwrap();
        assert_eq!(r.delivery.retried, 2, "{b:?}: retried after a minute");

        let Some(dir) = &smtp else { continue };
        // The server comes back at the same address (a relay to the SMTP sink).
        let sink = std::env::var("LIASSE_TEST_SMTP_URL").unwrap();
        let sink = sink.trim_start_matches("smtp://").to_string();
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        let relay = tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    break;
                };
                let sink = sink.clone();
                tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(&sink).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        t.clock.advance(2 * 60_000 + 1000);
        let r = jobs::sweep(&runner).await.unwrap();
        assert_eq!(r.delivery.emails_sent, 2, "{b:?} {r:?}");
        let r = jobs::sweep(&runner).await.unwrap();
        assert_eq!(r.delivery.emails_sent, 0, "{b:?}");
        relay.abort();
        let received = mails_to(dir, &address);
        assert_eq!(received.len(), 2, "{b:?}");
        assert_eq!(distinct_message_ids(&received), 2);
        let mails = outbox(&t, &c, "email").await;
        assert!(
            mails
                .iter()
                .all(|o| o.state == "sent" && o.last_error.is_none()),
            "{mails:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn preferences_choose_channels_and_mandatory_notices_still_come() {
    for t in TestApp::all().await {
        let b = t.backend;
        t.tenant("choix").await;
        let token = t.account("choix", "noa", "citizen", &[]).await;
        let (s, v) = t.get_json(&token, "/api/v1/preferences").await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(
            v["channels"],
            json!({ "email": true, "sms": false, "in_app": true })
        );
        assert_eq!(v["optional"], true);
        for (body, code) in [
            (json!({ "channels": { "sms": true } }), "phone-required"),
            (json!({ "phone": "12" }), "invalid-phone"),
            (json!({ "email": "pas une adresse" }), "invalid-email"),
            (json!({ "digest": true }), "digest-staff-only"),
            (json!({ "colour": "blue" }), "invalid-json"),
        ] {
            let (s, p) = t
                .send(Method::PUT, &token, "/api/v1/preferences", Some(body))
                .await;
            assert_eq!(s, 400, "{p}");
            assert_eq!(
                p["type"],
                format!("https://liasse.fr/problems/{code}"),
                "{p}"
            );
        }
        // No reminders, please.
        let (s, v) = t
            .send(
                Method::PUT,
                &token,
                "/api/v1/preferences",
                Some(json!({ "optional": false, "email": "noa@liasse.test" })),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["optional"], false);
        assert_eq!(v["email"], "noa@liasse.test");
        let (s, doc) = t
            .upload(
                &token,
                &[("type", "certificat-medical")],
                "cm.pdf",
                samples::minimal_pdf(),
            )
            .await;
        assert_eq!(s, 201, "{doc}");
        let runner = node(&t, |_| {}).await;
        // certificat-medical: valid until 15 April, kept six months, 30 days' notice.
        for day in ["2026-03-16", "2026-04-16", "2026-09-16"] {
            advance_to(&t, day);
            jobs::sweep(&runner).await.unwrap();
        }
        let items = notifications(&t, &token).await;
        assert!(
            titles(&items, "document.expir").is_empty(),
            "{b:?} {items:?}"
        );
        assert_eq!(
            titles(&items, "document.disposal"),
            vec!["Suppression de votre certificat médical le 16 octobre 2026".to_string()],
            "{b:?}"
        );
        // The journal records the choice, not the address.
        let (_, journal) = t.get_json(&token, "/api/v1/journal").await;
        let text = journal.to_string();
        assert!(text.contains("preferences.update"), "{b:?}");
        assert!(!text.contains("noa@liasse.test"), "{b:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sweep_command_runs_due_jobs_and_prints_counts() {
    let t = TestApp::embedded().await;
    t.tenant("commande").await;
    let out = crate::cli::liasse(&t, &["sweep"], None);
    let text = crate::cli::text(&out);
    assert!(out.status.success(), "{text}");
    for line in [
        "jobs scheduled: ",
        "jobs done: ",
        "closed requests anonymised: ",
        "e-mails sent: ",
        "messages pending: ",
    ] {
        assert!(text.contains(line), "{text}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn agents_of_open_requests_are_told_and_may_take_a_daily_digest() {
    let smtp = smtp_dir();
    for t in TestApp::all().await {
        let b = t.backend;
        t.tenant("instruction").await;
        let admin = t.account("instruction", "admin", "admin", &[]).await;
        let (s, v) = t
            .send(
                Method::PUT,
                &admin,
                "/api/v1/procedures/aide-sociale",
                Some(json!({
                    "title": "Aide sociale", "domain": "social",
                    "requirements": [{ "key": "domicile", "type": "justificatif-domicile", "mandatory": true }],
                })),
            )
            .await;
        assert!(s == 200 || s == 201, "{v}");
        let c = citizen(&t, "instruction", "maxime", json!({})).await;
        let digest_agent = t
            .account(
                "instruction",
                "agent-digest",
                "agent",
                &[("social", "modify")],
            )
            .await;
        let each_agent = t
            .account(
                "instruction",
                "agent-direct",
                "agent",
                &[("social", "manage")],
            )
            .await;
        t.account(
            "instruction",
            "agent-ailleurs",
            "agent",
            &[("urbanisme", "manage")],
        )
        .await;
        let (digest_address, each_address) = (unique_address("digest"), unique_address("direct"));
        let (s, v) = t
            .send(
                Method::PUT,
                &digest_agent,
                "/api/v1/preferences",
                Some(json!({ "digest": true, "email": digest_address })),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        let (s, v) = t
            .send(
                Method::PUT,
                &each_agent,
                "/api/v1/preferences",
                Some(json!({ "email": each_address })),
            )
            .await;
        assert_eq!(s, 200, "{v}");

        let doc = proof_of_address(&t, &c.token, "2025-11-13").await;
        let (s, req) = t
            .send(
                Method::POST,
                &c.token,
                "/api/v1/requests",
                Some(json!({ "procedure": "aide-sociale" })),
            )
            .await;
        assert_eq!(s, 201, "{req}");
        let id = req["id"].as_str().unwrap();
        let number = req["number"].as_str().unwrap().to_string();
        let (s, v) = t
            .send(
                Method::PUT,
                &c.token,
                &format!("/api/v1/requests/{id}/attachments/domicile"),
                Some(json!({ "document": doc["id"] })),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        let (s, v) = t
            .send(
                Method::POST,
                &c.token,
                &format!("/api/v1/requests/{id}/transitions"),
                Some(json!({ "to": "submitted" })),
            )
            .await;
        assert_eq!(s, 200, "{v}");

        // J-30 today: the citizen and both agents of the domain are told, in the application.
        let runner = node(&t, |_| {}).await;
        jobs::sweep(&runner).await.unwrap();
        let expected = format!("Demande {number} : une pièce expire dans 30 jours");
        for agent in [&digest_agent, &each_agent] {
            let items = notifications(&t, agent).await;
            assert_eq!(
                titles(&items, "request.document_expiring"),
                vec![expected.clone()],
                "{b:?}"
            );
            assert_eq!(items.last().unwrap()["object_id"], id);
        }
        // One agent gets the e-mail now; the other's waits for tomorrow's digest.
        if let Some(dir) = &smtp {
            assert_eq!(
                subjects(&mails_to(dir, &each_address)),
                vec![expected.clone()],
                "{b:?}"
            );
            assert!(mails_to(dir, &digest_address).is_empty(), "{b:?}");
        }
        let (_, mine) = t.get_json(&digest_agent, "/api/v1/deliveries").await;
        assert_eq!(mine[0]["state"], "held", "{b:?} {mine}");
        // The next morning, one message gathers the day's notices.
        t.clock.advance(DAY_MS + 6 * 3_600_000);
        let r = jobs::sweep(&runner).await.unwrap();
        assert_eq!(r.done.get("digest"), Some(&1), "{b:?} {r:?}");
        let (_, mine) = t.get_json(&digest_agent, "/api/v1/deliveries").await;
        let states: Vec<&str> = mine
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["state"].as_str().unwrap())
            .collect();
        let expect_digest = if smtp.is_some() { "sent" } else { "pending" };
        assert_eq!(states, vec![expect_digest, "digested"], "{b:?} {mine}");
        if let Some(dir) = &smtp {
            let got = mails_to(dir, &digest_address);
            assert_eq!(
                subjects(&got),
                vec!["Récapitulatif du porte-documents : 1 avis".to_string()],
                "{b:?}"
            );
            assert!(
                got[0]["body"].as_str().unwrap().contains(&expected),
                "{}",
                got[0]["body"]
            );
        }
    }
}

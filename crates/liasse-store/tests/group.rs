//! Group commit of journal entries: many concurrent writers, one chain per tenant that stays
//! gapless and correctly hashed, each caller answered with its own entry, and one faulty write
//! failing alone. On SQLite always; on PostgreSQL too when `scripts/test.sh` provides a server
//! (`LIASSE_TEST_PG_URL`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;

use liasse_domain::journal::{Actor, ChainChecker, NewEntry};
use liasse_store::group::GroupedWrite;
use liasse_store::{Db, journal, tenants};
use sqlx::Connection;

fn entry(n: usize) -> NewEntry {
    NewEntry {
        actor: Actor::system(),
        action: "document.read".into(),
        object_kind: "document".into(),
        object_id: format!("doc-{n}"),
        citizen_id: Some(format!("citizen-{}", n % 7)),
        basis_kind: "owner".into(),
        basis_id: String::new(),
        details: serde_json::json!({ "n": n }),
    }
}

async fn databases() -> Vec<(String, Db, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    let db = Db::connect(&url, 8).await.unwrap();
    db.migrate().await.unwrap();
    let mut out = vec![("sqlite".to_string(), db, Some(dir))];
    match std::env::var("LIASSE_TEST_PG_URL")
        .ok()
        .filter(|v| !v.is_empty())
    {
        Some(pg) => {
            let name = format!("liasse_group_{}", uuid::Uuid::now_v7().simple());
            let mut admin = sqlx::PgConnection::connect(&pg).await.unwrap();
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .await
                .unwrap();
            let url = format!("{}/{name}", &pg[..pg.rfind('/').unwrap()]);
            let db = Db::connect(&url, 8).await.unwrap();
            db.migrate().await.unwrap();
            out.push(("postgres".to_string(), db, None));
        }
        None => {
            assert!(
                std::env::var("LIASSE_TEST_REQUIRE_SERVERS").as_deref() != Ok("1"),
                "LIASSE_TEST_REQUIRE_SERVERS=1 but LIASSE_TEST_PG_URL is not set"
            );
            eprintln!("\n*** SKIPPED: PostgreSQL (run scripts/test.sh to start it) ***\n");
        }
    }
    out
}

async fn check_chain(db: &Db, tenant: &str) -> i64 {
    let mut checker = ChainChecker::new(tenant);
    let mut after = 0;
    loop {
        let page = journal::page(db, tenant, after, 500).await.unwrap();
        if page.is_empty() {
            break;
        }
        for e in &page {
            checker.check(e);
            after = e.seq;
        }
    }
    let head = journal::head(db, tenant).await.unwrap();
    let faults = checker.finish(head);
    assert!(faults.is_empty(), "{tenant}: {faults:?}");
    after
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_grouped_writes_keep_every_chain_whole() {
    for (backend, db, _dir) in databases().await {
        let tenants = ["t-a", "t-b", "t-c"];
        for t in tenants {
            tenants::create(&db, t, t, t, 1).await.unwrap();
        }
        // 300 concurrent writers over three tenants, interleaved with plain transactions that
        // append to the same chains.
        let mut tasks = Vec::new();
        for n in 0..300usize {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                let tenant = ["t-a", "t-b", "t-c"][n % 3];
                if n % 10 == 0 {
                    let mut tx = db.begin_write().await.unwrap();
                    let e = journal::append(&mut tx, tenant, 1_000 + n as i64, &entry(n))
                        .await
                        .unwrap();
                    tx.commit().await.unwrap();
                    (n, e)
                } else {
                    let e = db
                        .commit_grouped(GroupedWrite::entry(tenant, 1_000 + n as i64, entry(n)))
                        .await
                        .unwrap();
                    (n, e)
                }
            }));
        }
        let mut seen = HashSet::new();
        for t in tasks {
            let (n, e) = t.await.unwrap();
            // Each caller gets its own entry back, committed: it is in the table as returned.
            assert_eq!(e.entry.object_id, format!("doc-{n}"), "{backend}");
            assert!(
                seen.insert((e.tenant_id.clone(), e.seq)),
                "{backend}: seq reused"
            );
            let stored = journal::page(&db, &e.tenant_id, e.seq - 1, 1)
                .await
                .unwrap();
            assert_eq!(stored.len(), 1, "{backend}");
            assert_eq!(stored[0].hash, e.hash, "{backend}");
        }
        for t in tenants {
            // 100 entries each, plus the creation entry.
            assert_eq!(check_chain(&db, t).await, 101, "{backend}: {t}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_faulty_write_fails_alone() {
    for (backend, db, _dir) in databases().await {
        tenants::create(&db, "t-ok", "t-ok", "t-ok", 1)
            .await
            .unwrap();
        let mut tasks = Vec::new();
        for n in 0..60usize {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                // Every fifth write names a tenant that has no chain: its transaction fails,
                // and with it any batch it shares, whose other writes must still commit.
                let tenant = if n % 5 == 0 { "t-missing" } else { "t-ok" };
                let r = db
                    .commit_grouped(GroupedWrite::entry(tenant, 5, entry(n)))
                    .await;
                (n, r)
            }));
        }
        for t in tasks {
            let (n, r) = t.await.unwrap();
            assert_eq!(r.is_ok(), n % 5 != 0, "{backend}: write {n}: {r:?}");
        }
        assert_eq!(check_chain(&db, "t-ok").await, 1 + 48, "{backend}");
        let missing = journal::head(&db, "t-missing").await.unwrap();
        assert!(missing.is_none(), "{backend}");
    }
}

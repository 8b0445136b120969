//! Backups that restore (issue 17): a backup taken while 8 clients upload, restored into an
//! empty target on both backends, every acknowledged document read back byte-identical and
//! `verify` clean; a document deleted and one disposed of after the backup stay destroyed
//! (API, export, raw blob); a second backup copies only the new blobs; the drill; each bad
//! backup refused with its message and the target untouched; key shares that rebuild a ring.

use std::collections::{BTreeSet, HashMap};
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use liasse_app::App;
use liasse_app::config::Config;
use liasse_app::verify;
use liasse_domain::clock::DAY_MS;
use liasse_inspect::samples;
use liasse_jobs::runner as jobs;
use liasse_ops::manifest::Manifest;
use liasse_ops::{backup, check, restore};
use liasse_testkit::{Backend, TestApp};
use reqwest::Method;
use serde_json::{Value, json};
use sqlx::Connection;

use crate::cli::{liasse, text};

/// An empty target for a restore of `t`'s backup: a fresh data directory holding what the
/// operator keeps apart (the key file and the deletion ledger), and on the servers' backend
/// a fresh PostgreSQL database and S3 prefix.
async fn empty_target(t: &TestApp, with_ledger: bool) -> (Config, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(t.data_dir().join("keys.json"), dir.path().join("keys.json")).unwrap();
    let ledger = t.data_dir().join("deletions.jsonl");
    if with_ledger && ledger.exists() {
        std::fs::copy(&ledger, dir.path().join("deletions.jsonl")).unwrap();
    }
    let mut config = Config {
        data_dir: Some(dir.path().to_path_buf()),
        ..Config::default()
    };
    if t.backend == Backend::Servers {
        let name = fresh_database().await;
        let pg = std::env::var("LIASSE_TEST_PG_URL").unwrap();
        let i = pg.rfind('/').unwrap();
        config.database_url = Some(format!("{}/{name}", &pg[..i]));
        let bucket = std::env::var("LIASSE_TEST_S3_BUCKET").unwrap();
        config.blob_url = Some(format!("s3://{bucket}/{name}"));
        config.s3_endpoint = t.config.s3_endpoint.clone();
        config.s3_region = t.config.s3_region.clone();
        config.s3_access_key_id = t.config.s3_access_key_id.clone();
        config.s3_secret_access_key = t.config.s3_secret_access_key.clone();
    }
    (config, dir)
}

async fn fresh_database() -> String {
    let pg = std::env::var("LIASSE_TEST_PG_URL").unwrap();
    let name = format!("liasse_{}", uuid::Uuid::now_v7().simple());
    let mut admin = sqlx::PgConnection::connect(&pg).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap();
    name
}

/// Serves `app` on a loopback port; returns its base URL.
async fn serve(app: &App) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let served = app.clone();
    let h = tokio::spawn(async move {
        let _ = liasse::serve(listener, served, std::future::pending()).await;
    });
    (format!("http://{addr}"), h)
}

async fn content(http: &reqwest::Client, base: &str, token: &str, id: &str) -> (u16, Vec<u8>) {
    let r = http
        .get(format!("{base}/api/v1/documents/{id}/content"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    (s, r.bytes().await.unwrap().to_vec())
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

async fn upload(t: &TestApp, token: &str, kind: &str, marker: &str) -> (String, Vec<u8>) {
    let bytes = samples::pdf_with_text(marker);
    let (s, d) = t
        .upload(token, &[("type", kind)], "piece.pdf", bytes.clone())
        .await;
    assert_eq!(s, 201, "{d}");
    (d["id"].as_str().unwrap().to_string(), bytes)
}

/// A type that lives one month and is kept one month more, then destroyed.
async fn short_type(t: &TestApp, admin: &str) {
    let (s, v) = t
        .send(
            Method::PUT,
            admin,
            "/api/v1/document-types/essai-court",
            Some(json!({
                "code": "essai-court", "label": "Attestation d'essai", "domain": "general",
                "validity": "P1M", "retention": "P1M", "disposal": "delete",
                "disposal_notice_days": 7, "keep_allowed": false,
                "formats": ["pdf"], "max_size": 1048576, "review_required": false,
                "depositors": ["citizen", "agent"],
            })),
        )
        .await;
    assert!(s == 200 || s == 201, "{v}");
}

fn blob_set(m: &Manifest) -> BTreeSet<String> {
    m.blobs.iter().map(|b| b.path.clone()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn backup_while_uploading_restores_and_deletions_stay_final() {
    for t in TestApp::all().await {
        let b = t.backend;
        t.tenant("sauve").await;
        let admin = t.account("sauve", "admin", "admin", &[]).await;
        short_type(&t, &admin).await;
        let camille = t.account("sauve", "camille", "citizen", &[]).await;
        let mut clients = Vec::new();
        for i in 0..8 {
            clients.push(
                t.account("sauve", &format!("client{i}"), "citizen", &[])
                    .await,
            );
        }
        // Acknowledged before the backup starts.
        let mut before: Vec<(String, String, Vec<u8>)> = Vec::new();
        for i in 0..4 {
            let (id, bytes) = upload(&t, &camille, "rib", &format!("camille-{i}")).await;
            before.push((camille.clone(), id, bytes));
        }
        let (deleted, _) = upload(&t, &camille, "rib", "camille-deleted").await;
        let (disposed, _) = upload(&t, &camille, "essai-court", "camille-disposed").await;

        // The backup runs while 8 clients upload.
        let out = tempfile::tempdir().unwrap();
        let opts = backup::Options {
            out: out.path().to_path_buf(),
            include_keys: false,
        };
        let uploads = futures::future::join_all(clients.iter().enumerate().map(|(i, token)| {
            let t = &t;
            async move {
                let mut done = Vec::new();
                for j in 0..3 {
                    let (id, bytes) = upload(t, token, "rib", &format!("client{i}-{j}")).await;
                    done.push((token.clone(), id, bytes));
                }
                done
            }
        }));
        let (report, during) = tokio::join!(backup::run(&t.app, &opts), uploads);
        let report = report.unwrap();
        let during: Vec<_> = during.into_iter().flatten().collect();
        let first = check::check(out.path(), &t.app.keys.ring().unwrap()).unwrap();
        assert_eq!(report.copied, first.manifest.blobs.len() as u64, "{b:?}");
        assert_eq!(report.skipped, 0, "{b:?}");

        // After the backup: one deletion by its owner, one disposal at the end of retention,
        // and a new document.
        let r = t
            .delete(&camille, &format!("/api/v1/documents/{deleted}"))
            .await;
        assert_eq!(r.status().as_u16(), 204, "{b:?}");
        jobs::sweep(&t.app).await.unwrap();
        for day in [54, 61, 62] {
            let target = liasse_testkit::TEST_START + day * DAY_MS;
            let now = t.clock.now();
            if target > now {
                t.clock.advance(target - now);
            }
            jobs::sweep(&t.app).await.unwrap();
        }
        let (s, _) = t
            .get_json(&camille, &format!("/api/v1/documents/{disposed}"))
            .await;
        assert_eq!(s, 404, "{b:?}: disposed of at the end of its retention");
        let (late, _) = upload(&t, &camille, "rib", "camille-late").await;

        // Restore the first backup into an empty target, the ledger kept beside the keys.
        let (target, _dir) = empty_target(&t, true).await;
        let (restored, r) = restore::run(
            &target,
            t.clock.clone(),
            &restore::Options {
                from: out.path().to_path_buf(),
                ledgers: Vec::new(),
            },
        )
        .await
        .unwrap();
        let again: BTreeSet<&str> = r
            .destroyed_again
            .iter()
            .map(|d| d.document.as_str())
            .collect();
        assert_eq!(
            again,
            BTreeSet::from([deleted.as_str(), disposed.as_str()]),
            "{b:?}"
        );
        let report = verify::run(&restored, false).await.unwrap();
        assert!(report.is_clean(), "{b:?}: {report:?}");

        let (base, server) = serve(&restored).await;
        let http = reqwest::Client::new();
        for (token, id, bytes) in &before {
            let (s, got) = content(&http, &base, token, id).await;
            assert_eq!(s, 200, "{b:?}: {id}");
            assert!(got == *bytes, "{b:?}: {id} reads back byte-identical");
        }
        // Uploads acknowledged while the backup ran: in it whole, or not at all.
        let mut in_backup = 0;
        for (token, id, bytes) in &during {
            let (s, got) = content(&http, &base, token, id).await;
            match s {
                200 => {
                    assert!(got == *bytes, "{b:?}: {id}");
                    in_backup += 1;
                }
                404 => {}
                s => panic!("{b:?}: {id} answered {s}"),
            }
        }
        // Deleted and disposed of after the backup: not readable by the API...
        for id in [&deleted, &disposed, &late] {
            let (s, _) = content(&http, &base, &camille, id).await;
            assert_eq!(s, 404, "{b:?}: {id}");
        }
        // ... nor in the export...
        let r = http
            .get(format!("{base}/api/v1/export"))
            .bearer_auth(&camille)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let ids = export_ids(r.bytes().await.unwrap().to_vec());
        assert_eq!(ids.len(), before.len(), "{b:?}: {ids:?}");
        assert!(!ids.contains(&deleted) && !ids.contains(&disposed), "{b:?}");
        // ... nor as a raw blob with the restored key ring: no wrapped key left, no blob.
        let tenant_id = liasse_store::tenants::by_slug(&restored.db, "sauve")
            .await
            .unwrap()
            .unwrap()
            .id;
        for id in [&deleted, &disposed] {
            let versions = liasse_store::documents::versions(&restored.db, &tenant_id, id)
                .await
                .unwrap();
            assert!(!versions.is_empty(), "{b:?}: the tombstone remains");
            for v in versions {
                assert!(v.wrapped_key.is_none() && v.key_id.is_none(), "{b:?}");
                assert!(v.destroyed_at.is_some(), "{b:?}");
                assert!(!restored.blobs.exists(&v.blob_key).await.unwrap(), "{b:?}");
            }
        }
        // The citizen's journal says what came back and what was destroyed again.
        let r = http
            .get(format!("{base}/api/v1/journal"))
            .bearer_auth(&camille)
            .send()
            .await
            .unwrap();
        let journal: Value = r.json().await.unwrap();
        let journal = journal.as_array().unwrap();
        let restore_entry = journal
            .iter()
            .find(|e| e["action"] == "vault.restore")
            .unwrap_or_else(|| panic!("{b:?}: {journal:#?}"));
        assert_eq!(
            restore_entry["details"]["destroyed_again"], 2,
            "{restore_entry}"
        );
        assert_eq!(
            restore_entry["details"]["documents"],
            before.len(),
            "{restore_entry}"
        );
        let again: BTreeSet<&str> = journal
            .iter()
            .filter(|e| e["action"] == "document.destroy_again")
            .map(|e| e["object_id"].as_str().unwrap())
            .collect();
        assert_eq!(
            again,
            BTreeSet::from([deleted.as_str(), disposed.as_str()]),
            "{b:?}"
        );
        server.abort();
        restored.db.close().await;

        // A second backup into the same directory copies only the new blobs.
        let second = backup::run(&t.app, &opts).await.unwrap();
        let m2 = Manifest::read(out.path()).unwrap();
        let (old, new) = (blob_set(&first.manifest), blob_set(&m2));
        let fresh = new.difference(&old).count() as u64;
        assert!(fresh > (during.len() - in_backup) as u64, "{b:?}: {fresh}");
        assert_eq!(second.copied, fresh, "{b:?}: {second:?}");
        assert_eq!(
            second.skipped,
            new.intersection(&old).count() as u64,
            "{b:?}"
        );
        // Checked by the command too, and the drill passes.
        let o = liasse(
            &t,
            &["backup", "verify", &out.path().display().to_string()],
            None,
        );
        assert!(o.status.success(), "{b:?}: {}", text(&o));
        assert!(text(&o).contains("all intact"), "{}", text(&o));
        let mut drill = vec![
            "restore".to_string(),
            "--drill".to_string(),
            out.path().display().to_string(),
        ];
        if b == Backend::Servers {
            let pg = std::env::var("LIASSE_TEST_PG_URL").unwrap();
            let i = pg.rfind('/').unwrap();
            drill.push("--scratch-database-url".into());
            drill.push(format!("{}/{}", &pg[..i], fresh_database().await));
        }
        let args: Vec<&str> = drill.iter().map(String::as_str).collect();
        let o = liasse(&t, &args, None);
        assert!(o.status.success(), "{b:?}: {}", text(&o));
        assert!(text(&o).contains("drill: PASSED"), "{}", text(&o));
    }
}

/// Copies a backup directory (to damage the copy).
fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

fn listing(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p.clone());
            }
            out.push(p.strip_prefix(dir).unwrap().to_path_buf());
        }
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_backups_are_refused_and_the_target_is_untouched() {
    let t = TestApp::embedded().await;
    t.tenant("abime").await;
    let token = t.account("abime", "dominique", "citizen", &[]).await;
    for i in 0..3 {
        upload(&t, &token, "rib", &format!("abime-{i}")).await;
    }
    let good = tempfile::tempdir().unwrap();
    backup::run(
        &t.app,
        &backup::Options {
            out: good.path().to_path_buf(),
            include_keys: false,
        },
    )
    .await
    .unwrap();
    let ring = t.app.keys.ring().unwrap();
    let manifest = Manifest::read(good.path()).unwrap();
    let blob = good.path().join(&manifest.blobs[0].path);

    type Damage = Box<dyn Fn(&Path)>;
    let rel_blob = manifest.blobs[0].path.clone();
    let cases: Vec<(&str, &str, Damage)> = vec![
        (
            "truncated",
            "truncated",
            Box::new(move |d: &Path| {
                let p = d.join(&rel_blob);
                let bytes = std::fs::read(&p).unwrap();
                std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
            }),
        ),
        (
            "a blob missing",
            "truncated",
            Box::new({
                let rel = manifest.blobs[1].path.clone();
                move |d: &Path| std::fs::remove_file(d.join(&rel)).unwrap()
            }),
        ),
        (
            "no manifest",
            "not-a-backup",
            Box::new(|d: &Path| std::fs::remove_file(d.join("manifest.json")).unwrap()),
        ),
        (
            "a truncated manifest",
            "manifest-unreadable",
            Box::new(|d: &Path| {
                let p = d.join("manifest.json");
                let bytes = std::fs::read(&p).unwrap();
                std::fs::write(&p, &bytes[..bytes.len() - 40]).unwrap();
            }),
        ),
        (
            "an altered blob",
            "altered",
            Box::new({
                let rel = manifest.blobs[2].path.clone();
                move |d: &Path| {
                    let p = d.join(&rel);
                    let mut bytes = std::fs::read(&p).unwrap();
                    let mid = bytes.len() / 2;
                    bytes[mid] ^= 0x01;
                    std::fs::write(&p, bytes).unwrap();
                }
            }),
        ),
        (
            "an altered manifest",
            "manifest-altered",
            Box::new(|d: &Path| {
                let mut m = Manifest::read(d).unwrap();
                m.counts.documents += 1;
                std::fs::write(d.join("manifest.json"), serde_json::to_vec(&m).unwrap()).unwrap();
            }),
        ),
        (
            "another instance's manifest",
            "other-instance",
            Box::new(|d: &Path| {
                let mut m = Manifest::read(d).unwrap();
                m.seal(&liasse_crypto::KeyRing::generate()).unwrap();
                std::fs::write(d.join("manifest.json"), serde_json::to_vec(&m).unwrap()).unwrap();
            }),
        ),
        (
            "a newer schema",
            "newer-schema",
            Box::new({
                let ring = KeyRingCopy::of(&ring);
                move |d: &Path| {
                    let mut m = Manifest::read(d).unwrap();
                    m.schema = liasse_store::db::latest_schema() + 1;
                    m.seal(&ring.0).unwrap();
                    std::fs::write(d.join("manifest.json"), serde_json::to_vec(&m).unwrap())
                        .unwrap();
                }
            }),
        ),
    ];
    assert!(blob.exists());
    for (what, code, damage) in cases {
        let bad = tempfile::tempdir().unwrap();
        copy_dir(good.path(), bad.path());
        damage(bad.path());
        let err = check::check(bad.path(), &ring).unwrap_err();
        assert_eq!(err.code(), Some(code), "{what}: {err}");
        // The same refusal from the restore, with nothing written to the target.
        let (target, dir) = empty_target(&t, false).await;
        let listed = listing(dir.path());
        let err = restore::run(
            &target,
            t.clock.clone(),
            &restore::Options {
                from: bad.path().to_path_buf(),
                ledgers: Vec::new(),
            },
        )
        .await
        .err()
        .unwrap_or_else(|| panic!("{what}: restored"));
        assert_eq!(err.code(), Some(code), "{what}: {err}");
        assert_eq!(
            listing(dir.path()),
            listed,
            "{what}: the target is untouched"
        );
        // And from the command, with its message.
        let o = liasse(
            &t,
            &["backup", "verify", &bad.path().display().to_string()],
            None,
        );
        assert!(!o.status.success(), "{what}");
        assert!(text(&o).contains(&err.to_string()), "{what}: {}", text(&o));
    }

    // A target that is not empty: the running instance's own storage.
    let err = restore::run(
        &t.config,
        t.clock.clone(),
        &restore::Options {
            from: good.path().to_path_buf(),
            ledgers: Vec::new(),
        },
    )
    .await
    .err()
    .unwrap();
    assert_eq!(err.code(), Some("target-not-empty"), "{err}");
    // No key ring in the target and none in the backup.
    let bare = tempfile::tempdir().unwrap();
    let config = Config {
        data_dir: Some(bare.path().to_path_buf()),
        ..Config::default()
    };
    let err = restore::run(
        &config,
        t.clock.clone(),
        &restore::Options {
            from: good.path().to_path_buf(),
            ledgers: Vec::new(),
        },
    )
    .await
    .err()
    .unwrap();
    assert_eq!(err.code(), Some("no-key-ring"), "{err}");
    assert!(listing(bare.path()).is_empty());
}

/// A key ring moved into a closure (KeyRing is not Clone: its copy goes through its bytes).
struct KeyRingCopy(liasse_crypto::KeyRing);

impl KeyRingCopy {
    fn of(ring: &liasse_crypto::KeyRing) -> Self {
        KeyRingCopy(liasse_crypto::KeyRing::from_secret_bytes(&ring.to_secret_bytes()).unwrap())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn key_shares_rebuild_a_ring_that_decrypts_every_document() {
    let t = TestApp::embedded().await;
    t.tenant("parts").await;
    let token = t.account("parts", "sacha", "citizen", &[]).await;
    let mut docs = HashMap::new();
    for i in 0..3 {
        let (id, bytes) = upload(&t, &token, "rib", &format!("parts-{i}")).await;
        docs.insert(id, bytes);
    }
    // A rotation first: the shares carry every key of the ring.
    let o = liasse(&t, &["keys", "rotate"], None);
    assert!(o.status.success(), "{}", text(&o));
    let out = tempfile::tempdir().unwrap();
    backup::run(
        &t.app,
        &backup::Options {
            out: out.path().to_path_buf(),
            include_keys: false,
        },
    )
    .await
    .unwrap();

    let o = liasse(
        &t,
        &["keys", "export-shares", "--threshold", "3", "--shares", "5"],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    let printed = String::from_utf8(o.stdout.clone()).unwrap();
    let shares: Vec<&str> = printed
        .lines()
        .filter(|l| l.starts_with("LIASSE-SHARE-1"))
        .collect();
    assert_eq!(shares.len(), 5, "{printed}");

    // Two of five: refused, nothing written.
    let target = tempfile::tempdir().unwrap();
    let key_file = target.path().join("keys.json");
    let kf = key_file.display().to_string();
    let two = format!("{}\n{}\n", shares[0], shares[3]);
    let o = liasse(&t, &["keys", "recover", "--out", &kf], Some(&two));
    assert!(!o.status.success());
    assert!(text(&o).contains("3 needed"), "{}", text(&o));
    assert!(!key_file.exists());
    // A mistyped share: refused by its checksum.
    let typo = shares[1].replacen("LIASSE-SHARE-1.", "LIASSE-SHARE-1.0", 1);
    let three_bad = format!("{}\n{}\n{typo}\n", shares[0], shares[3]);
    let o = liasse(&t, &["keys", "recover", "--out", &kf], Some(&three_bad));
    assert!(!o.status.success());
    assert!(text(&o).contains("checksum"), "{}", text(&o));
    assert!(!key_file.exists());

    // Three of five (the printed pages, captions and all) rebuild the ring.
    let pages: Vec<&str> = printed.split("\n\n").collect();
    let three = format!("{}\n{}\n{}\n", pages[4], pages[1], pages[2]);
    let o = liasse(&t, &["keys", "recover", "--out", &kf], Some(&three));
    assert!(o.status.success(), "{}", text(&o));
    let rebuilt = liasse_crypto::KeyRing::load(&key_file).unwrap();
    assert_eq!(rebuilt.ids(), vec!["v1", "v2"]);
    assert_eq!(rebuilt.current_id(), "v2");

    // Restored with the rebuilt ring alone, every document decrypts.
    let config = Config {
        data_dir: Some(target.path().to_path_buf()),
        ..Config::default()
    };
    let (restored, _) = restore::run(
        &config,
        t.clock.clone(),
        &restore::Options {
            from: out.path().to_path_buf(),
            ledgers: Vec::new(),
        },
    )
    .await
    .unwrap();
    let report = verify::run(&restored, false).await.unwrap();
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.versions_checked, docs.len() as u64);
    let (base, server) = serve(&restored).await;
    let http = reqwest::Client::new();
    for (id, bytes) in &docs {
        let (s, got) = content(&http, &base, &token, id).await;
        assert_eq!(s, 200);
        assert!(got == *bytes, "{id}");
    }
    server.abort();
}

/// The ledger line is on the disk before the keys are destroyed: when it cannot be written,
/// the deletion fails and the document stays whole (a deletion the ledger does not know
/// would come back with the next restore).
#[tokio::test(flavor = "multi_thread")]
async fn a_deletion_the_ledger_cannot_record_does_not_happen() {
    for t in TestApp::all().await {
        let b = t.backend;
        t.tenant("registre").await;
        let token = t.account("registre", "alix", "citizen", &[]).await;
        let (kept, bytes) = upload(&t, &token, "rib", "registre-1").await;
        let (gone, _) = upload(&t, &token, "rib", "registre-2").await;
        let r = t.delete(&token, &format!("/api/v1/documents/{gone}")).await;
        assert_eq!(r.status().as_u16(), 204, "{b:?}");
        let ledger = t.data_dir().join("deletions.jsonl");
        let lines = liasse_store::ledger::read_file(&ledger).unwrap();
        assert_eq!(lines.len(), 1, "{b:?}");
        assert_eq!(
            (lines[0].document.as_str(), lines[0].reason.as_str()),
            (gone.as_str(), "document.delete")
        );
        // A ledger that cannot be appended to.
        std::fs::rename(&ledger, t.data_dir().join("ledger.saved")).unwrap();
        std::fs::create_dir(&ledger).unwrap();
        let r = t.delete(&token, &format!("/api/v1/documents/{kept}")).await;
        assert_eq!(r.status().as_u16(), 500, "{b:?}");
        let (s, got) = content(&reqwest::Client::new(), &t.base_url, &token, &kept).await;
        assert_eq!(s, 200, "{b:?}");
        assert!(got == bytes, "{b:?}");
    }
}

/// An operator who rewrites a journal entry and recomputes every hash after it passes
/// `liasse verify` (the chain holds together), but not the backup's anchor: the entry at the
/// head the backup recorded no longer has the recorded hash.
#[tokio::test(flavor = "multi_thread")]
async fn a_journal_rewritten_after_a_backup_is_caught_by_its_heads() {
    use liasse_domain::journal::{GENESIS_HASH, canonical_bytes, chain_hash};
    for t in TestApp::all().await {
        let b = t.backend;
        let tenant = t.tenant("ancre").await;
        let token = t.account("ancre", "noa", "citizen", &[]).await;
        upload(&t, &token, "rib", "ancre-1").await;
        let out = tempfile::tempdir().unwrap();
        backup::run(
            &t.app,
            &backup::Options {
                out: out.path().to_path_buf(),
                include_keys: false,
            },
        )
        .await
        .unwrap();
        let dir = out.path().display().to_string();
        let o = liasse(&t, &["backup", "verify", "--journal", &dir], None);
        assert!(o.status.success(), "{b:?}: {}", text(&o));
        upload(&t, &token, "rib", "ancre-2").await;

        // The whole chain rewritten: the first entry's actor changed, every hash recomputed.
        let entries = liasse_store::journal::page(&t.app.db, &tenant, 0, 1000)
            .await
            .unwrap();
        let mut prev = GENESIS_HASH.to_string();
        let mut tx = t.app.db.begin_write().await.unwrap();
        for (i, e) in entries.iter().enumerate() {
            let mut entry = e.entry.clone();
            if i == 0 {
                entry.actor.label = "quelqu'un d'autre".into();
            }
            let hash = chain_hash(&prev, &canonical_bytes(&tenant, e.seq, e.at, &entry));
            sqlx::query(
                "UPDATE journal SET actor_label = $1, prev_hash = $2, hash = $3 WHERE tenant_id = $4 AND seq = $5",
            )
            .bind(&entry.actor.label)
            .bind(&prev)
            .bind(&hash)
            .bind(&tenant)
            .bind(e.seq)
            .execute(tx.conn())
            .await
            .unwrap();
            prev = hash;
        }
        sqlx::query("UPDATE journal_heads SET hash = $1 WHERE tenant_id = $2")
            .bind(&prev)
            .bind(&tenant)
            .execute(tx.conn())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let report = verify::run(&t.app, false).await.unwrap();
        assert!(report.journal_faults.is_empty(), "{b:?}: {report:?}");

        let o = liasse(&t, &["backup", "verify", "--journal", &dir], None);
        assert_eq!(o.status.code(), Some(2), "{b:?}: {}", text(&o));
        assert!(
            text(&o).contains("the journal was rewritten since"),
            "{b:?}: {}",
            text(&o)
        );
    }
}

//! The export of a citizen's vault (`GET /api/v1/export` and `liasse export`): every live
//! version byte for byte, a manifest, the journal as JSON and CSV, nobody else's documents.

use std::collections::{BTreeSet, HashMap};
use std::io::{Cursor, Read};
use std::process::{Command, Output, Stdio};

use liasse_inspect::samples;
use liasse_testkit::TestApp;
use serde_json::Value;
use sha2::{Digest, Sha256};

type Archive = zip::ZipArchive<Cursor<Vec<u8>>>;

fn open_zip(bytes: Vec<u8>) -> Archive {
    zip::ZipArchive::new(Cursor::new(bytes)).expect("a readable ZIP")
}

fn entry(archive: &mut Archive, name: &str) -> Vec<u8> {
    let mut f = archive
        .by_name(name)
        .unwrap_or_else(|e| panic!("{name} in the archive: {e}"));
    let mut buf = Vec::new();
    f.read_to_end(&mut buf).unwrap();
    buf
}

fn names(archive: &Archive) -> BTreeSet<String> {
    archive
        .file_names()
        .map(|n| n.expect("a UTF-8 entry name").into_owned())
        .collect()
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Runs `liasse ARGS` on the app's storage.
fn liasse(t: &TestApp, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_liasse"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn")
        .envs(t.cli_env())
        .current_dir(t.data_dir())
        .stdin(Stdio::null());
    cmd.output().expect("run liasse")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Checks an export against what was uploaded: `expected` maps a document id to the bytes of
/// its versions, oldest first. Returns the manifest.
fn check_archive(archive: &mut Archive, expected: &HashMap<String, Vec<Vec<u8>>>) -> Value {
    let manifest: Value = serde_json::from_slice(&entry(archive, "manifest.json")).unwrap();
    assert_eq!(manifest["format"], "liasse-export");
    let docs = manifest["documents"].as_array().unwrap();
    assert_eq!(docs.len(), expected.len(), "{manifest:#}");
    let mut paths = BTreeSet::new();
    for d in docs {
        let id = d["id"].as_str().unwrap();
        let originals = expected
            .get(id)
            .unwrap_or_else(|| panic!("unexpected document {id} in {manifest:#}"));
        let versions = d["versions"].as_array().unwrap();
        assert_eq!(versions.len(), originals.len(), "{d:#}");
        assert_eq!(d["current_version"], originals.len() as i64);
        for (v, original) in versions.iter().zip(originals) {
            let path = v["path"].as_str().unwrap();
            let bytes = entry(archive, path);
            assert!(bytes == *original, "{path} differs from the upload");
            assert_eq!(v["sha256"], sha256(original));
            assert_eq!(v["size"], original.len() as i64);
            // Stored, not recompressed: the entry is the original itself.
            assert_eq!(
                archive.by_name(path).unwrap().compression(),
                zip::CompressionMethod::Stored
            );
            let current = v["version"] == d["current_version"];
            assert_eq!(v["current"], current);
            let dir = if current {
                "documents/moi/"
            } else {
                "versions/moi/"
            };
            let short = &id[id.len() - 8..];
            let ext = if d["type"] == "photo-identite" {
                "png"
            } else {
                "pdf"
            };
            let want = format!(
                "{dir}{}-{short}-v{}.{ext}",
                d["type"].as_str().unwrap(),
                v["version"]
            );
            assert_eq!(path, want);
            if current {
                assert_eq!(d["path"], path);
            }
            paths.insert(path.to_string());
        }
        for field in [
            "type_label",
            "title",
            "file_name",
            "state",
            "review_state",
            "created_at",
        ] {
            assert!(d.get(field).is_some(), "{field} missing in {d:#}");
        }
        assert!(d.get("valid_until").is_some());
        assert!(d.get("subject").is_some());
    }
    let mut all = paths.clone();
    for extra in ["manifest.json", "journal.json", "journal.csv"] {
        all.insert(extra.to_string());
    }
    assert_eq!(names(archive), all, "nothing else in the archive");

    let journal: Value = serde_json::from_slice(&entry(archive, "journal.json")).unwrap();
    let journal = journal.as_array().unwrap();
    assert!(!journal.is_empty());
    assert_eq!(manifest["journal"]["entries"], journal.len());
    let csv = String::from_utf8(entry(archive, "journal.csv")).unwrap();
    let mut lines = csv.split("\r\n");
    assert_eq!(
        lines.next().unwrap(),
        "seq,at,actor_kind,actor_name,actor_service,action,object_kind,object_id,basis_kind,basis_id,details,hash"
    );
    assert!(csv.ends_with("\r\n"));
    // No field of these entries holds a line break, so one line per entry.
    assert_eq!(csv.split("\r\n").count(), journal.len() + 2, "{csv}");
    for e in journal {
        assert!(
            csv.contains(e["hash"].as_str().unwrap()),
            "{e} not in the CSV"
        );
    }
    manifest
}

#[tokio::test(flavor = "multi_thread")]
async fn export_contains_byte_identical_originals() {
    for t in TestApp::all().await {
        let backend = t.backend;
        t.tenant("export").await;
        let alice = t.account("export", "alice", "citizen", &[]).await;
        let bob = t.account("export", "bob", "citizen", &[]).await;
        let agent = t
            .account("export", "agent", "agent", &[("general", "manage")])
            .await;

        let lease_v1 = samples::pdf_with_text("Quittance de loyer, janvier");
        let lease_v2 = samples::pdf_with_text("Quittance de loyer, fevrier");
        let photo = samples::small_png(24, 32);
        let (status, pdf) = t
            .upload(
                &alice,
                &[("type", "justificatif-domicile"), ("title", "Quittance")],
                "quittance janvier.pdf",
                lease_v1.clone(),
            )
            .await;
        assert_eq!(status, 201, "{pdf}");
        let pdf_id = pdf["id"].as_str().unwrap().to_string();
        let (status, png) = t
            .upload(
                &alice,
                &[("type", "photo-identite")],
                "../../photo.png",
                photo.clone(),
            )
            .await;
        assert_eq!(status, 201, "{png}");
        let png_id = png["id"].as_str().unwrap().to_string();
        let (status, body) = t
            .replace(&alice, &pdf_id, "quittance fevrier.pdf", lease_v2.clone())
            .await;
        assert_eq!(status, 200, "{body}");

        let bob_pdf = samples::pdf_with_text("Facture de Bob");
        let (status, body) = t
            .upload(
                &bob,
                &[("type", "justificatif-domicile")],
                "bob.pdf",
                bob_pdf.clone(),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let bob_id = body["id"].as_str().unwrap().to_string();

        // Alice's export over HTTP.
        let r = t.get(&alice, "/api/v1/export").await;
        assert_eq!(r.status(), 200, "{backend:?}");
        let h = r.headers().clone();
        assert_eq!(h["content-type"], "application/zip");
        assert_eq!(h["cache-control"], "private, no-store");
        let disposition = h["content-disposition"].to_str().unwrap();
        assert!(
            disposition.starts_with("attachment; filename=\"liasse-export-alice-2026-01-15.zip\""),
            "{disposition}"
        );
        let bytes = r.bytes().await.unwrap().to_vec();
        // Streamed as it is written: no length announced.
        assert!(h.get("content-length").is_none());
        let mut archive = open_zip(bytes);
        let expected = HashMap::from([
            (pdf_id.clone(), vec![lease_v1.clone(), lease_v2.clone()]),
            (png_id.clone(), vec![photo.clone()]),
        ]);
        let manifest = check_archive(&mut archive, &expected);
        assert_eq!(manifest["login"], "alice");
        assert_eq!(manifest["tenant"], "export");
        assert_eq!(manifest["generated_at"], "2026-01-15T00:00:00Z");
        let docs = manifest["documents"].as_array().unwrap();
        let pdf_doc = docs.iter().find(|d| d["id"] == pdf_id.as_str()).unwrap();
        assert_eq!(pdf_doc["type"], "justificatif-domicile");
        assert_eq!(pdf_doc["type_label"], "Justificatif de domicile");
        assert_eq!(pdf_doc["title"], "Quittance");
        assert_eq!(pdf_doc["state"], "submitted");
        assert_eq!(pdf_doc["subject"], Value::Null);
        assert_eq!(pdf_doc["versions"][0]["media_type"], "application/pdf");
        // The client's names are kept as information, never as paths.
        assert!(
            names(&archive)
                .iter()
                .all(|n| !n.contains("quittance") && !n.contains("photo.png") && !n.contains(".."))
        );
        let journal: Value = serde_json::from_slice(&entry(&mut archive, "journal.json")).unwrap();
        let actions: Vec<&str> = journal
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert!(actions.contains(&"document.deposit"), "{actions:?}");
        assert!(actions.contains(&"document.replace"), "{actions:?}");
        let archived = entry(&mut archive, "journal.json");
        assert!(!String::from_utf8_lossy(&archived).contains(&bob_id));

        // The export is in the journal.
        let (status, journal) = t.get_json(&alice, "/api/v1/journal").await;
        assert_eq!(status, 200);
        let export = journal
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["action"] == "account.export")
            .unwrap_or_else(|| panic!("no account.export in {journal:#}"));
        assert_eq!(export["details"]["documents"], 2);
        assert_eq!(export["details"]["versions"], 3);
        assert_eq!(export["details"]["via"], "api");
        assert_eq!(export["basis_kind"], "owner");

        // Bob's export holds only Bob's document.
        let r = t.get(&bob, "/api/v1/export").await;
        assert_eq!(r.status(), 200);
        let mut bob_archive = open_zip(r.bytes().await.unwrap().to_vec());
        check_archive(
            &mut bob_archive,
            &HashMap::from([(bob_id.clone(), vec![bob_pdf.clone()])]),
        );
        let manifest = String::from_utf8(entry(&mut bob_archive, "manifest.json")).unwrap();
        assert!(!manifest.contains(&pdf_id) && !manifest.contains(&png_id));
        for name in names(&bob_archive) {
            let bytes = entry(&mut bob_archive, &name);
            for theirs in [&lease_v1, &lease_v2, &photo] {
                assert!(bytes != *theirs, "{name} is one of Alice's documents");
            }
        }

        // Only citizens have a vault to export.
        let r = t.get(&agent, "/api/v1/export").await;
        assert_eq!(r.status(), 403);
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let r = t.http.get(t.url("/api/v1/export")).send().await.unwrap();
        assert_eq!(r.status(), 401);

        // The command line writes the same archive, atomically.
        let out_dir = tempfile::tempdir().unwrap();
        let out = out_dir.path().join("alice.zip");
        let o = liasse(
            &t,
            &[
                "export",
                "--tenant",
                "export",
                "--login",
                "alice",
                "--out",
                out.to_str().unwrap(),
            ],
        );
        assert!(o.status.success(), "{}", text(&o));
        assert!(text(&o).contains("2 documents"), "{}", text(&o));
        let listing: Vec<_> = std::fs::read_dir(out_dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(listing, vec!["alice.zip"], "no .partial file left behind");
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&out).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "the export is private to its owner");
        }
        let mut cli_archive = open_zip(std::fs::read(&out).unwrap());
        check_archive(&mut cli_archive, &expected);
        let (_, journal) = t.get_json(&alice, "/api/v1/journal").await;
        assert!(
            journal
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["action"] == "account.export" && e["details"]["via"] == "cli"),
            "{journal:#}"
        );

        // Unknown logins and non-citizens are refused, and leave no file.
        let missing = out_dir.path().join("nobody.zip");
        for login in ["nobody", "agent"] {
            let o = liasse(
                &t,
                &[
                    "export",
                    "--tenant",
                    "export",
                    "--login",
                    login,
                    "--out",
                    missing.to_str().unwrap(),
                ],
            );
            assert!(!o.status.success(), "{}", text(&o));
            assert!(!missing.exists());
        }

        // No plaintext copy stays in the spool directory.
        let spooled: Vec<_> = std::fs::read_dir(&t.app.spool_dir).unwrap().collect();
        assert!(spooled.is_empty(), "{spooled:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn export_fails_rather_than_carry_a_document_that_does_not_match_its_fingerprint() {
    for t in TestApp::all().await {
        t.tenant("altered").await;
        let alice = t.account("altered", "alice", "citizen", &[]).await;
        let (status, body) = t
            .upload(
                &alice,
                &[("type", "justificatif-domicile")],
                "a.pdf",
                samples::minimal_pdf(),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let id = body["id"].as_str().unwrap().to_string();
        sqlx::query("UPDATE document_versions SET sha256 = $1 WHERE document_id = $2")
            .bind("0".repeat(64))
            .bind(&id)
            .execute(t.app.db.pool())
            .await
            .unwrap();

        let r = t.get(&alice, "/api/v1/export").await;
        assert_eq!(r.status(), 500, "{:?}", t.backend);
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let (_, journal) = t.get_json(&alice, "/api/v1/journal").await;
        assert!(
            journal
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e["action"] != "account.export"),
            "a failed export is not journalled as done"
        );

        let out_dir = tempfile::tempdir().unwrap();
        let out = out_dir.path().join("alice.zip");
        let o = liasse(
            &t,
            &[
                "export",
                "--tenant",
                "altered",
                "--login",
                "alice",
                "--out",
                out.to_str().unwrap(),
            ],
        );
        assert!(!o.status.success(), "{}", text(&o));
        assert!(
            text(&o).contains("does not match its fingerprint"),
            "{}",
            text(&o)
        );
        assert!(
            std::fs::read_dir(out_dir.path()).unwrap().next().is_none(),
            "a failed export leaves no file"
        );
    }
}

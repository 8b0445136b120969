//! The antivirus, for real: uploads scanned by the clamd that `scripts/test.sh` starts with a
//! signature database it generates (the EICAR test string, the MD5 of a PNG made for the run).
//! An infected file is refused with its own problem type and leaves nothing; clamd down means
//! 503 with `Retry-After`, never a file stored unscanned.

use std::path::PathBuf;

use liasse_inspect::samples;
use liasse_testkit::TestApp;

use crate::crash::files_under;
use crate::vault::{assert_problem, deposit};

/// The EICAR test file, assembled here so that no file of the repository carries it.
fn eicar() -> String {
    [
        "X5O!P%@AP[4\\PZX54(P^)7CC)7}$",
        "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*",
    ]
    .concat()
}

/// Blob staging files (`NAME#...`): an upload in progress, or one that left something behind.
fn staging_files(t: &TestApp) -> Vec<PathBuf> {
    files_under(&t.data_dir())
        .into_iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().contains('#'))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn clamd_refuses_infected_files_and_stores_clean_ones() {
    let Some(clamd) = liasse_testkit::clamd() else {
        return;
    };
    let addr = clamd.addr.clone();
    for t in TestApp::all_with(|c| c.clamd_address = Some(addr.clone())).await {
        let b = t.backend;
        t.tenant("av").await;
        let citizen = t.account("av", "lea", "citizen", &[]).await;
        let before = t.storage_counts().await;

        // The EICAR string inside a valid PDF: Liasse's inspection lets it through, clamd not.
        let infected = [
            (
                "EICAR in a PDF",
                "eicar.pdf",
                samples::pdf_with_text(&eicar()),
            ),
            (
                "the generated signature's PNG",
                "signe.png",
                clamd.signed_file.clone(),
            ),
        ];
        for (what, name, bytes) in infected {
            let r = deposit(
                &t,
                &citizen,
                &[("type", "justificatif-domicile")],
                name,
                bytes,
            )
            .await;
            assert_problem(&r, 400, "virus-found", &format!("{b:?}: {what}"));
            assert_eq!(
                t.storage_counts().await,
                before,
                "{b:?}: {what} left rows or blobs"
            );
            assert!(
                staging_files(&t).is_empty(),
                "{b:?}: {what}: {:?}",
                staging_files(&t)
            );
        }

        let r = deposit(
            &t,
            &citizen,
            &[("type", "justificatif-domicile")],
            "propre.pdf",
            samples::minimal_pdf(),
        )
        .await;
        assert_eq!(r.status, 201, "{b:?}: clean file: {}", r.text());
        let (d, v, blobs) = t.storage_counts().await;
        assert_eq!(
            (d, v, blobs),
            (before.0 + 1, before.1 + 1, before.2 + 1),
            "{b:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn clamd_down_means_503_and_nothing_stored() {
    // A port nothing listens on: bound, then released.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    for t in TestApp::all_with(|c| c.clamd_address = Some(closed.clone())).await {
        let b = t.backend;
        t.tenant("av").await;
        let citizen = t.account("av", "lea", "citizen", &[]).await;
        let before = t.storage_counts().await;
        let r = deposit(
            &t,
            &citizen,
            &[("type", "justificatif-domicile")],
            "propre.pdf",
            samples::minimal_pdf(),
        )
        .await;
        assert_problem(&r, 503, "service-unavailable", &format!("{b:?}"));
        let wait: u64 = r
            .header("retry-after")
            .parse()
            .expect("Retry-After in seconds");
        assert!(wait > 0, "{b:?}");
        assert_eq!(t.storage_counts().await, before, "{b:?}");
        assert!(staging_files(&t).is_empty(), "{b:?}");
    }
}

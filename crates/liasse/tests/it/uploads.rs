//! A corpus of bad uploads: each one gets its 4xx with a stable problem `type` and a French
//! detail, and leaves storage (rows, blobs, journal, spool) exactly as it was. A file name
//! that walks up directories is not bad: it is accepted, and only ever a name.

use std::path::Path;

use futures::TryStreamExt;
use liasse_inspect::{Refusal, samples};
use liasse_testkit::TestApp;
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::json;

use crate::vault::{Reply, assert_problem, download, journal_rows, reply, req};

/// What a case sends: text fields, then the file part (name, declared content type, bytes).
struct Case {
    name: &'static str,
    fields: Vec<(&'static str, &'static str)>,
    file: Option<(&'static str, &'static str, Vec<u8>)>,
    /// Send the file part before the text fields.
    file_first: bool,
    status: u16,
    code: &'static str,
}

fn case(
    name: &'static str,
    type_code: &'static str,
    file_name: &'static str,
    bytes: Vec<u8>,
    status: u16,
    code: &'static str,
) -> Case {
    Case {
        name,
        fields: vec![("type", type_code)],
        file: Some((file_name, "application/octet-stream", bytes)),
        file_first: false,
        status,
        code,
    }
}

fn refused(
    name: &'static str,
    type_code: &'static str,
    file_name: &'static str,
    bytes: Vec<u8>,
    refusal: Refusal,
) -> Case {
    let status = match refusal {
        Refusal::UnknownFormat | Refusal::FormatNotAllowed { .. } => 415,
        _ => 422,
    };
    case(name, type_code, file_name, bytes, status, refusal.code())
}

fn the_form(c: &Case) -> Form {
    let mut file = c.file.as_ref().map(|(name, mime, bytes)| {
        Part::bytes(bytes.clone())
            .file_name(name.to_string())
            .mime_str(mime)
            .expect("a media type")
    });
    let mut f = Form::new();
    if c.file_first
        && let Some(p) = file.take()
    {
        f = f.part("file", p);
    }
    for (k, v) in &c.fields {
        f = f.text(k.to_string(), v.to_string());
    }
    if let Some(p) = file {
        f = f.part("file", p);
    }
    f
}

/// A PDF of exactly `len` bytes or a little more, valid in every other respect.
fn pdf_of_size(len: usize) -> Vec<u8> {
    let base = samples::minimal_pdf().len();
    let pdf = samples::pdf_with_text(&"A".repeat(len.saturating_sub(base) + 6));
    assert!(pdf.len() >= len && pdf.len() < len + 64, "{}", pdf.len());
    pdf
}

/// Rows of the document tables, blobs, journal entries and spooled files.
async fn snapshot(t: &TestApp) -> (i64, i64, usize, i64, usize) {
    let (d, v, b) = t.storage_counts().await;
    let spool = std::fs::read_dir(&t.app.spool_dir)
        .map(|d| d.count())
        .unwrap_or(0);
    (d, v, b, journal_rows(t).await, spool)
}

/// Creates a document type with the admin token.
async fn put_type(t: &TestApp, admin: &str, code: &str, formats: &[&str], max_size: u64) {
    let r = reply(
        req(
            t,
            Method::PUT,
            &format!("/api/v1/document-types/{code}"),
            admin,
        )
        .json(&json!({
            "label": format!("Type de test {code}"),
            "domain": "general",
            "validity": "P1Y",
            "formats": formats,
            "max_size": max_size,
        })),
    )
    .await;
    assert_eq!(r.status, 201, "{code}: {}", r.text());
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_uploads_are_refused_and_leave_nothing_behind() {
    for t in TestApp::all().await {
        let b = t.backend;
        t.tenant("refus").await;
        let admin = t.account("refus", "admin", "admin", &[]).await;
        let citizen = t.account("refus", "lea", "citizen", &[]).await;
        put_type(&t, &admin, "lettre-pdf", &["pdf"], 10 * 1024 * 1024).await;
        put_type(&t, &admin, "petit-format", &["pdf"], 1000).await;
        // Storage is not empty: a refusal must not touch what is there.
        let good = samples::minimal_pdf();
        let r = crate::vault::deposit(
            &t,
            &citizen,
            &[("type", "justificatif-domicile")],
            "bon.pdf",
            good.clone(),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text());
        let doc_id = r.json()["id"].as_str().unwrap().to_string();

        let (jpeg_name, jpeg_mime, jpeg) = samples::jpeg_with_pdf_declared();
        let cases = vec![
            // Wrong magic for the declared type.
            refused(
                "PNG for a PDF-only type",
                "lettre-pdf",
                "scan.pdf",
                samples::small_png(16, 16),
                Refusal::FormatNotAllowed {
                    found: liasse_inspect::Format::Png,
                    allowed: vec![],
                },
            ),
            Case {
                name: "JPEG declared as application/pdf",
                fields: vec![("type", "lettre-pdf")],
                file: Some((jpeg_name, jpeg_mime, jpeg)),
                file_first: false,
                status: 415,
                code: "format-not-allowed",
            },
            refused(
                "text named x.pdf",
                "justificatif-domicile",
                "x.pdf",
                b"Bonjour, ceci n'est pas un PDF.\n".repeat(20),
                Refusal::UnknownFormat,
            ),
            refused(
                "HTML named x.pdf",
                "justificatif-domicile",
                "x.pdf",
                b"<html><script>alert(1)</script></html>".to_vec(),
                Refusal::UnknownFormat,
            ),
            // Polyglots.
            refused(
                "PNG + PDF polyglot",
                "justificatif-domicile",
                "p.pdf",
                samples::polyglot_png_pdf(),
                Refusal::Polyglot,
            ),
            refused(
                "JPEG + PDF polyglot",
                "justificatif-domicile",
                "p.jpg",
                samples::polyglot_jpeg_pdf(),
                Refusal::Polyglot,
            ),
            refused(
                "PDF + ZIP",
                "justificatif-domicile",
                "p.pdf",
                samples::pdf_with_trailing_zip(),
                Refusal::Polyglot,
            ),
            refused(
                "JPEG carrying HTML",
                "photo-identite",
                "p.jpg",
                samples::jpeg_with_html(),
                Refusal::Polyglot,
            ),
            // Active and unreadable PDFs.
            refused(
                "PDF with JavaScript",
                "justificatif-domicile",
                "js.pdf",
                samples::pdf_with_javascript(),
                Refusal::PdfJavascript,
            ),
            refused(
                "PDF with escaped JavaScript",
                "justificatif-domicile",
                "js.pdf",
                samples::pdf_with_hex_escaped_javascript(),
                Refusal::PdfJavascript,
            ),
            refused(
                "PDF with a launch action",
                "justificatif-domicile",
                "l.pdf",
                samples::pdf_with_launch(),
                Refusal::PdfLaunchAction,
            ),
            refused(
                "PDF with an embedded file",
                "justificatif-domicile",
                "e.pdf",
                samples::pdf_with_embedded_file(),
                Refusal::PdfEmbeddedFile,
            ),
            refused(
                "encrypted PDF",
                "justificatif-domicile",
                "c.pdf",
                samples::encrypted_pdf(),
                Refusal::PdfEncrypted,
            ),
            refused(
                "truncated PDF",
                "justificatif-domicile",
                "t.pdf",
                samples::truncated_pdf(),
                Refusal::PdfMalformed,
            ),
            // Images.
            refused(
                "20000x20000 PNG bomb",
                "photo-identite",
                "bombe.png",
                samples::png_bomb(20_000, 20_000),
                Refusal::ImageTooLarge {
                    width: 20_000,
                    height: 20_000,
                },
            ),
            refused(
                "truncated PNG",
                "photo-identite",
                "t.png",
                samples::truncated_png(),
                Refusal::ImageMalformed,
            ),
            // Size.
            case(
                "oversize, type first",
                "petit-format",
                "gros.pdf",
                pdf_of_size(5000),
                413,
                "file-too-large",
            ),
            Case {
                name: "oversize, file first",
                fields: vec![("type", "petit-format")],
                file: Some(("gros.pdf", "application/pdf", pdf_of_size(5000))),
                file_first: true,
                status: 413,
                code: "file-too-large",
            },
            refused(
                "empty file",
                "justificatif-domicile",
                "vide.pdf",
                Vec::new(),
                Refusal::Empty,
            ),
            // The form itself.
            Case {
                name: "missing type",
                fields: vec![("title", "Sans type")],
                file: Some(("a.pdf", "application/pdf", samples::minimal_pdf())),
                file_first: false,
                status: 400,
                code: "missing-field",
            },
            Case {
                name: "missing file",
                fields: vec![("type", "justificatif-domicile")],
                file: None,
                file_first: false,
                status: 400,
                code: "missing-field",
            },
            case(
                "unknown type",
                "carte-de-fidelite",
                "a.pdf",
                samples::minimal_pdf(),
                400,
                "unknown-document-type",
            ),
            case(
                "agent-only type",
                "courrier",
                "a.pdf",
                samples::minimal_pdf(),
                400,
                "depositor-not-allowed",
            ),
            Case {
                name: "metadata that is not a JSON object",
                fields: vec![("type", "justificatif-domicile"), ("metadata", "[1, 2]")],
                file: Some(("a.pdf", "application/pdf", samples::minimal_pdf())),
                file_first: false,
                status: 400,
                code: "invalid-metadata",
            },
        ];

        let before = snapshot(&t).await;
        for c in &cases {
            let r =
                reply(req(&t, Method::POST, "/api/v1/documents", &citizen).multipart(the_form(c)))
                    .await;
            assert_problem(&r, c.status, c.code, &format!("{b:?}: {}", c.name));
            assert_eq!(
                snapshot(&t).await,
                before,
                "{b:?}: {} left something behind",
                c.name
            );
        }

        // The same checks guard a new version of an existing document.
        for (name, bytes, status, code) in [
            (
                "PDF with JavaScript",
                samples::pdf_with_javascript(),
                422,
                "pdf-javascript",
            ),
            (
                "encrypted PDF",
                samples::encrypted_pdf(),
                422,
                "pdf-encrypted",
            ),
            (
                "text",
                b"pas un PDF du tout, juste du texte".to_vec(),
                415,
                "unknown-format",
            ),
            ("empty file", Vec::new(), 422, "empty-file"),
        ] {
            let upload = Form::new().part("file", Part::bytes(bytes).file_name("nouvelle.pdf"));
            let r = reply(
                req(
                    &t,
                    Method::PUT,
                    &format!("/api/v1/documents/{doc_id}/content"),
                    &citizen,
                )
                .multipart(upload),
            )
            .await;
            assert_problem(&r, status, code, &format!("{b:?}: replacement with {name}"));
            assert_eq!(
                snapshot(&t).await,
                before,
                "{b:?}: replacement with {name} left something behind"
            );
        }
        let r = reply(
            req(
                &t,
                Method::PUT,
                &format!("/api/v1/documents/{doc_id}/content"),
                &citizen,
            )
            .multipart(Form::new().text("title", "x")),
        )
        .await;
        assert_problem(&r, 400, "missing-field", "replacement without a file");
        assert_eq!(snapshot(&t).await, before);

        // The document is as it was.
        let (_, doc) = t
            .get_json(&citizen, &format!("/api/v1/documents/{doc_id}"))
            .await;
        assert_eq!(doc["versions"].as_array().unwrap().len(), 1, "{doc}");
        let got = download(
            &t,
            &citizen,
            &format!("/api/v1/documents/{doc_id}/content"),
            "application/pdf",
        )
        .await;
        assert!(got == good);
        let (_, list) = t.get_json(&citizen, "/api/v1/documents").await;
        assert_eq!(list.as_array().unwrap().len(), 1);
    }
}

/// A multipart body written by hand, so that the file name reaches the server byte for byte.
fn raw_upload(type_code: &str, file_name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "liasse-raw-boundary-5c1e";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\n{type_code}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
         Content-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Every file under `dir` whose name contains `needle`.
fn find_named(dir: &Path, needle: &str, depth: usize, hits: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_name().to_string_lossy().contains(needle) {
            hits.push(path.display().to_string());
        }
        if depth > 0 && path.is_dir() && !path.is_symlink() {
            find_named(&path, needle, depth - 1, hits);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn file_names_are_never_paths() {
    for t in TestApp::all().await {
        let b = t.backend;
        t.tenant("chemins").await;
        let citizen = t.account("chemins", "marc", "citizen", &[]).await;
        let marker = format!("liasse-traversal-{}", uuid::Uuid::now_v7().simple());
        let cases = [
            (
                format!("../../../../../../../../../tmp/{marker}.pdf"),
                format!("{marker}.pdf"),
            ),
            (
                format!("..\\..\\..\\..\\..\\{marker}-win.pdf"),
                format!("{marker}-win.pdf"),
            ),
            (format!("/etc/cron.d/{marker}"), marker.clone()),
            (
                format!("....//....//{marker}-dots.pdf"),
                format!("{marker}-dots.pdf"),
            ),
        ];
        let mut stored = Vec::new();
        for (i, (given, expected)) in cases.iter().enumerate() {
            let pdf = samples::pdf_with_text(&format!("Chemin {i}"));
            let (content_type, body) = raw_upload("justificatif-domicile", given, &pdf);
            let r: Reply = reply(
                req(&t, Method::POST, "/api/v1/documents", &citizen)
                    .header("content-type", content_type)
                    .body(body),
            )
            .await;
            assert_eq!(r.status, 201, "{b:?}: {given}: {}", r.text());
            let doc = r.json();
            let name = doc["file_name"].as_str().unwrap();
            assert_eq!(name, expected, "{given}");
            assert!(
                !name.contains('/') && !name.contains('\\') && !name.starts_with('.'),
                "{name}"
            );
            stored.push((
                doc["id"].as_str().unwrap().to_string(),
                expected.clone(),
                pdf,
            ));
        }
        for (id, name, pdf) in &stored {
            let r = reply(req(
                &t,
                Method::GET,
                &format!("/api/v1/documents/{id}/content"),
                &citizen,
            ))
            .await;
            assert_eq!(r.status, 200);
            assert!(r.body == *pdf, "{name}: the content differs");
            assert_eq!(
                r.header("content-disposition"),
                format!("attachment; filename=\"{name}\"; filename*=UTF-8''{name}")
            );
        }

        // Nothing was written where the names point, nor anywhere else under a name like them.
        assert!(!Path::new(&format!("/tmp/{marker}.pdf")).exists());
        assert!(!Path::new(&format!("/etc/cron.d/{marker}")).exists());
        let mut hits = Vec::new();
        find_named(&t.data_dir(), &marker, 8, &mut hits);
        find_named(&std::env::temp_dir(), &marker, 0, &mut hits);
        if let Some(parent) = t.data_dir().parent() {
            find_named(parent, &marker, 0, &mut hits);
        }
        let cwd = std::env::current_dir().unwrap();
        for dir in cwd.ancestors() {
            find_named(dir, &marker, 0, &mut hits);
        }
        assert!(
            hits.is_empty(),
            "{b:?}: files named after the upload: {hits:?}"
        );
        let keys: Vec<String> = t.app.blobs.list().try_collect().await.unwrap();
        assert_eq!(keys.len(), cases.len());
        assert!(
            keys.iter()
                .all(|k| !k.contains(&marker) && !k.contains("..")),
            "{keys:?}"
        );
    }
}

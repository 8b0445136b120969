//! Upload forms of the pages: read by `liasse_http::upload` (the API's reader too), and the
//! field each refusal is shown next to.

use axum::extract::Multipart;

use liasse_app::app::App;
use liasse_app::error::AppError;
pub use liasse_http::upload::UploadForm;

/// Reads an upload form of one file (its `csrf` field already checked), through the reader the
/// API uses too. Returns what was read even when reading stops on an error, so that the form
/// can be shown again.
pub async fn read(
    app: &App,
    tenant_id: &str,
    mp: Multipart,
    known_type: Option<&str>,
) -> (UploadForm, Option<AppError>) {
    liasse_http::upload::read(app, tenant_id, mp, known_type, 1).await
}

/// Reads a form of one file, a new version of a document the principal may replace.
pub async fn read_version(
    app: &App,
    tenant_id: &str,
    document_id: &str,
    mp: Multipart,
    type_code: &str,
) -> (UploadForm, Option<AppError>) {
    liasse_http::upload::read_version(app, tenant_id, document_id, mp, type_code).await
}

/// Which field of an upload form an error is about (to show it next to that field).
pub fn field_of(e: &AppError, form: &UploadForm) -> &'static str {
    match e {
        AppError::Refused(_) | AppError::TooLarge { .. } | AppError::Unavailable(_) => "file",
        AppError::Invalid { code, detail } => match *code {
            "missing-field" | "too-many-files" => "file",
            "unknown-document-type" | "depositor-not-allowed" | "document-type-withdrawn" => "type",
            "unknown-subject" => "subject",
            "valid-until-required" => "valid_until",
            "invalid-channel" => "channel",
            "invalid-date" => {
                let issued = form.get("issued_on");
                if detail.contains("émission")
                    || (!issued.is_empty() && liasse_domain::doctype::parse_date(&issued).is_err())
                {
                    "issued_on"
                } else {
                    "valid_until"
                }
            }
            _ => "",
        },
        _ => "",
    }
}

//! The one reader of upload forms, for the API and the pages: the text fields (kept, so that a
//! refused page form can be shown again with what was typed) and the files, spooled with the
//! instance's size limit, lowered to the document type's as soon as the type is known (from the
//! path, or from a `type` field sent before the file). What happens to the files is the use
//! case's business (`liasse_app::deposit`).

use std::collections::HashMap;

use axum::extract::Multipart;
use axum::extract::multipart::{Field, MultipartError};
use liasse_app::app::App;
use liasse_app::catalogue;
use liasse_app::documents::DepositInput;
use liasse_app::error::AppError;
use liasse_app::upload::{Spool, Spooled};
use liasse_domain::doctype::DocumentType;

/// Text fields are small; anything longer is refused rather than buffered.
const MAX_TEXT_FIELD: usize = 16 * 1024;

/// Upload forms have a handful of fields (and a few dozen scanned pages at most).
const MAX_FIELDS: usize = 64;

/// One file of the form, spooled.
pub struct Upload {
    pub spooled: Spooled,
    pub file_name: Option<String>,
}

#[derive(Default)]
pub struct UploadForm {
    pub text: HashMap<String, String>,
    pub files: Vec<Upload>,
    /// The name the client gave the first file (kept when the file is taken).
    pub file_name: Option<String>,
    /// The active type named by the `type` field, looked up to bound the file's size.
    pub doc_type: Option<DocumentType>,
}

impl UploadForm {
    /// A text field, trimmed ("" when absent).
    pub fn get(&self, name: &str) -> String {
        self.text
            .get(name)
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    }

    /// A text field that was filled in.
    pub fn opt(&self, name: &str) -> Option<String> {
        Some(self.get(name)).filter(|s| !s.is_empty())
    }

    /// The first file, or a French refusal tied to the file field (an empty file input sends
    /// a part without a name).
    pub fn take_file(&mut self) -> Result<Spooled, AppError> {
        let named = |f: &Upload| {
            f.spooled.size > 0 || f.file_name.as_deref().is_some_and(|n| !n.is_empty())
        };
        match self.files.first() {
            Some(f) if named(f) => Ok(self.files.remove(0).spooled),
            _ => Err(AppError::invalid(
                "missing-field",
                "le champ « file » (le fichier) est obligatoire : choisissez un fichier (PDF ou photo)",
            )),
        }
    }

    /// What a deposit carries besides the file, from the fields the API and the pages share.
    pub fn deposit_input(&mut self) -> Result<DepositInput, AppError> {
        let metadata = match self.opt("metadata") {
            None => None,
            Some(text) => Some(serde_json::from_str(&text).map_err(|_| {
                AppError::invalid(
                    "invalid-metadata",
                    "le champ metadata doit être un objet JSON",
                )
            })?),
        };
        Ok(DepositInput {
            type_code: self.get("type"),
            subject: self.opt("subject"),
            title: self.opt("title"),
            valid_until: self.opt("valid_until"),
            issued_on: self.opt("issued_on"),
            file_name: self.file_name.clone(),
            metadata,
            channel: self.opt("channel"),
            doc_type: self.doc_type.take(),
        })
    }
}

fn unreadable(e: impl std::fmt::Display) -> AppError {
    AppError::invalid("invalid-multipart", format!("formulaire illisible : {e}"))
}

/// A body cut by the edge's limit is a file too large, not a malformed form.
fn chunk_error(e: MultipartError, limit: u64) -> AppError {
    if e.to_string().contains("limit") {
        AppError::TooLarge { limit }
    } else {
        unreadable(e)
    }
}

/// Where the files of a form go: their blobs are encrypted for this tenant and bound to this
/// document as they arrive.
struct Target<'a> {
    tenant_id: &'a str,
    /// The document a new version is read for; `None` for a new document.
    document_id: Option<&'a str>,
}

/// Reads a multipart form with at most `max_files` files, each a new document. Returns what
/// was read even when reading stops on an error, so that a page can show the form again.
pub async fn read(
    app: &App,
    tenant_id: &str,
    mp: Multipart,
    known_type: Option<&str>,
    max_files: usize,
) -> (UploadForm, Option<AppError>) {
    let target = Target {
        tenant_id,
        document_id: None,
    };
    read_into(app, &target, mp, known_type, max_files).await
}

/// Reads a form of one file, a new version of the document `document_id` (of type
/// `type_code`), so that its blob is bound to that document from the first byte.
pub async fn read_version(
    app: &App,
    tenant_id: &str,
    document_id: &str,
    mp: Multipart,
    type_code: &str,
) -> (UploadForm, Option<AppError>) {
    let target = Target {
        tenant_id,
        document_id: Some(document_id),
    };
    read_into(app, &target, mp, Some(type_code), 1).await
}

async fn read_into(
    app: &App,
    target: &Target<'_>,
    mut mp: Multipart,
    known_type: Option<&str>,
    max_files: usize,
) -> (UploadForm, Option<AppError>) {
    let tenant_id = target.tenant_id;
    let mut form = UploadForm::default();
    let mut limit = app.config.max_upload_bytes();
    if let Some(t) = known_type
        && let Ok(Some((t, _))) = catalogue::get_any(app, tenant_id, t).await
    {
        limit = limit.min(t.max_size);
    }
    for _ in 0..MAX_FIELDS {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => return (form, None),
            Err(e) => return (form, Some(unreadable(e))),
        };
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            if form.files.len() >= max_files {
                let e = AppError::invalid("too-many-files", "un seul fichier par dépôt");
                return (form, Some(e));
            }
            let file_name = field.file_name().map(String::from);
            if form.files.is_empty() {
                form.file_name = file_name.clone();
            }
            match spool(app, target, field, limit).await {
                Ok(spooled) => form.files.push(Upload { spooled, file_name }),
                Err(e) => return (form, Some(e)),
            }
            continue;
        }
        let value = match text(field).await {
            Ok(v) => v,
            Err(e) => return (form, Some(e)),
        };
        // Knowing the type before the file lets the size check stop a too large upload early.
        if name == "type"
            && form.files.is_empty()
            && known_type.is_none()
            && let Ok(t) = catalogue::get_active(app, tenant_id, value.trim()).await
        {
            limit = limit.min(t.max_size);
            form.doc_type = Some(t);
        }
        form.text.insert(name, value);
    }
    match mp.next_field().await {
        Ok(None) => (form, None),
        _ => {
            let e = AppError::invalid("too-many-fields", "le formulaire compte trop de champs");
            (form, Some(e))
        }
    }
}

async fn spool(
    app: &App,
    target: &Target<'_>,
    mut field: Field<'_>,
    limit: u64,
) -> Result<Spooled, AppError> {
    let mut spool = match target.document_id {
        Some(id) => Spool::for_document(app, target.tenant_id, id, limit)?,
        None => Spool::new(app, target.tenant_id, limit)?,
    };
    while let Some(chunk) = field.chunk().await.map_err(|e| chunk_error(e, limit))? {
        spool.write(&chunk).await?;
    }
    spool.finish().await
}

async fn text(mut field: Field<'_>) -> Result<String, AppError> {
    let mut buf = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(unreadable)? {
        buf.extend_from_slice(&chunk);
        if buf.len() > MAX_TEXT_FIELD {
            return Err(AppError::invalid(
                "field-too-long",
                "un champ du formulaire est trop long",
            ));
        }
    }
    String::from_utf8(buf)
        .map_err(|_| AppError::invalid("invalid-encoding", "un champ texte n'est pas en UTF-8"))
}

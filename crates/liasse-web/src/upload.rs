//! Reading an upload form of the pages: the text fields (kept, so that a refused form can be
//! shown again with what was typed) and the file, spooled with the same size limits as the
//! API (the instance's limit, lowered to the document type's as soon as the type is known).
//! What happens to the file is the services' business.

use std::collections::HashMap;

use axum::extract::Multipart;

use liasse_app::app::App;
use liasse_app::catalogue;
use liasse_app::error::AppError;
use liasse_app::upload::{Spool, Spooled};

/// Text fields are small; anything longer is refused rather than buffered.
const MAX_TEXT_FIELD: usize = 16 * 1024;

/// The upload forms have a handful of fields; more is not a form of ours.
const MAX_FIELDS: usize = 32;

#[derive(Default)]
pub struct UploadForm {
    pub text: HashMap<String, String>,
    pub file: Option<Spooled>,
    pub file_name: Option<String>,
}

impl UploadForm {
    pub fn get(&self, name: &str) -> String {
        self.text
            .get(name)
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    }

    pub fn opt(&self, name: &str) -> Option<String> {
        Some(self.get(name)).filter(|s| !s.is_empty())
    }

    /// The file, or a French refusal tied to the file field.
    pub fn take_file(&mut self) -> Result<Spooled, AppError> {
        match self.file.take() {
            Some(f) if f.size > 0 || self.file_name.as_deref().is_some_and(|n| !n.is_empty()) => {
                Ok(f)
            }
            _ => Err(AppError::invalid(
                "missing-field",
                "choisissez un fichier (PDF ou photo)",
            )),
        }
    }
}

fn unreadable(e: impl std::fmt::Display) -> AppError {
    AppError::invalid("invalid-multipart", format!("formulaire illisible : {e}"))
}

/// Reads the rest of a multipart form (its `csrf` field already checked). Returns what was
/// read even when reading stops on an error, so that the form can be shown again.
pub async fn read(
    app: &App,
    tenant_id: &str,
    mut mp: Multipart,
    known_type: Option<&str>,
) -> (UploadForm, Option<AppError>) {
    let mut form = UploadForm::default();
    let mut limit = app.config.max_upload_bytes();
    if let Some(t) = known_type
        && let Ok(Some((t, _))) = catalogue::get_any(app, tenant_id, t).await
    {
        limit = limit.min(t.max_size);
    }
    let mut finished = false;
    for _ in 0..MAX_FIELDS {
        let mut field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => {
                finished = true;
                break;
            }
            Err(e) => return (form, Some(unreadable(e))),
        };
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            if form.file.is_some() {
                return (
                    form,
                    Some(AppError::invalid(
                        "too-many-files",
                        "un seul fichier par dépôt",
                    )),
                );
            }
            form.file_name = field.file_name().map(String::from);
            let mut spool = match Spool::new(&app.spool_dir, limit) {
                Ok(s) => s,
                Err(e) => return (form, Some(e)),
            };
            loop {
                match field.chunk().await {
                    Ok(Some(chunk)) => {
                        if let Err(e) = spool.write(&chunk).await {
                            return (form, Some(e));
                        }
                    }
                    Ok(None) => break,
                    Err(e) => return (form, Some(unreadable(e))),
                }
            }
            match spool.finish().await {
                Ok(s) => form.file = Some(s),
                Err(e) => return (form, Some(e)),
            }
            continue;
        }
        let mut buf = Vec::new();
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    buf.extend_from_slice(&chunk);
                    if buf.len() > MAX_TEXT_FIELD {
                        return (
                            form,
                            Some(AppError::invalid(
                                "field-too-long",
                                "un champ du formulaire est trop long",
                            )),
                        );
                    }
                }
                Ok(None) => break,
                Err(e) => return (form, Some(unreadable(e))),
            }
        }
        let value = String::from_utf8_lossy(&buf).into_owned();
        // Knowing the type before the file lets the size check stop a too large upload early.
        if name == "type"
            && form.file.is_none()
            && known_type.is_none()
            && let Ok(t) = catalogue::get_active(app, tenant_id, value.trim()).await
        {
            limit = limit.min(t.max_size);
        }
        form.text.insert(name, value);
    }
    if finished {
        return (form, None);
    }
    match mp.next_field().await {
        Ok(None) => (form, None),
        _ => (
            form,
            Some(AppError::invalid(
                "too-many-fields",
                "le formulaire compte trop de champs",
            )),
        ),
    }
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

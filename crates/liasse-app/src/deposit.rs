//! The one deposit use case, behind every channel: a citizen into their own vault (web, mobile,
//! a request's requirement), an agent at the counter or by post, a service client's generated
//! document, a trusted provider's certified one, a letter of the municipality.
//!
//! A deposit is prepared (the policy asked, the type read once, the answers checked, the file
//! inspected, scanned, encrypted into its blob and made durable), then committed with its
//! journal entry, and with whatever else must happen in the same transaction (the citizen's
//! notice, the attachment to a request). If the commit fails, the blob is removed.

use liasse_domain::clock::date_of;
use liasse_domain::doctype::{Depositor, DocumentType};
use liasse_domain::ids::{is_valid_id, new_id};
use liasse_domain::journal::NewEntry;
use liasse_domain::policy::{Access, Basis, VaultOp, Warrant, is_vault_account};
use liasse_store::accounts::{self, AccountRow};
use liasse_store::documents::{self, DocumentRow, VersionRow};
use liasse_store::group::{GroupedWrite, Record};
use liasse_store::notifications::{self, NotificationRow};
use liasse_store::{WriteTx, journal, members};

use crate::app::App;
use crate::auth::Principal;
use crate::catalogue;
use crate::documents::{
    DepositInput, DocumentView, SealedMeta, compute_validity, display_name, entry, inspect, view,
    write_version,
};
use crate::error::{AppError, Result};
use crate::upload::Spooled;

/// Whose vault receives the document.
#[derive(Clone, Copy, Debug)]
pub enum Vault<'a> {
    /// The principal's own (a citizen).
    Own,
    /// A citizen's, by id (agents, service clients, providers).
    Of(&'a str),
}

/// Channels a deposit for a citizen may come through.
const CHANNELS: [&str; 5] = ["web", "counter", "post", "email", "api"];

/// A deposit whose blob is durable and whose rows are not committed yet.
pub(crate) struct Prepared {
    pub doc: DocumentRow,
    pub version: VersionRow,
    pub meta: SealedMeta,
    pub doc_type: DocumentType,
    pub basis: Basis,
    /// What the citizen is told when someone else deposits into their vault.
    notice: Option<(String, String)>,
    pub now: i64,
}

/// Deposits a document and answers its view.
pub async fn deposit(
    app: &App,
    p: &Principal,
    vault: Vault<'_>,
    input: DepositInput,
    spooled: Spooled,
) -> Result<DocumentView> {
    let d = prepare(app, p, vault, input, spooled).await?;
    let committed = match d.notice {
        // A citizen's own deposits go through the group commit: many at once share one fsync.
        None => app
            .db
            .commit_grouped(GroupedWrite {
                documents: vec![d.doc.clone()],
                versions: vec![d.version.clone()],
                tenant_id: p.tenant_id.clone(),
                at: d.now,
                record: Record::Entry(Box::new(deposit_entry(p, &d))),
            })
            .await
            .map(drop)
            .map_err(AppError::from),
        Some(_) => {
            let mut tx = app.db.begin_write().await?;
            match write_in(&mut tx, p, &d).await {
                Ok(()) => tx.commit().await.map_err(AppError::from),
                Err(e) => Err(e),
            }
        }
    };
    if let Err(e) = committed {
        abandon(app, &d).await;
        return Err(e);
    }
    Ok(view(app, &d.doc, &d.version, Some(&d.doc_type), d.meta))
}

/// Everything before the commit: the policy, the type's rules, the file, the blob.
pub(crate) async fn prepare(
    app: &App,
    p: &Principal,
    vault: Vault<'_>,
    input: DepositInput,
    spooled: Spooled,
) -> Result<Prepared> {
    let now = app.now();
    let (warrant, owner) = match vault {
        Vault::Own => (
            p.authorize(&Access::OwnVault(VaultOp::Deposit))?,
            p.account_id.clone(),
        ),
        Vault::Of(citizen_id) => {
            let w = p.authorize(&Access::DepositForCitizen { scopes: &p.scopes })?;
            (w, citizen_account(app, p, citizen_id).await?.id)
        }
    };
    let code = match input.type_code.trim() {
        // A deposit for a citizen without a type is a letter.
        "" if !matches!(warrant, Warrant::Owner) => "courrier",
        c => c,
    };
    let t = match input.doc_type.filter(|t| t.code == code) {
        Some(t) => t,
        None => catalogue::get_active(app, &p.tenant_id, code).await?,
    };
    let by = Depositing::new(app, p, &warrant, &owner, &t).await?;
    let channel = by.channel(input.channel.as_deref())?;
    let subject = check_subject(app, p, &owner, input.subject.as_deref(), &warrant).await?;
    let valid_until = compute_validity(
        &t,
        date_of(now),
        input.issued_on.as_deref(),
        input.valid_until.as_deref(),
    )?;
    let metadata = match input.metadata {
        Some(m) if !m.is_object() => {
            return Err(AppError::invalid(
                "invalid-metadata",
                "les métadonnées doivent être un objet JSON",
            ));
        }
        Some(m) => m,
        None => serde_json::json!({}),
    };
    if spooled.size == 0 {
        return Err(AppError::Refused(liasse_inspect::Refusal::Empty));
    }
    let inspection = inspect(app, &spooled, &t).await?;
    crate::scan::scan(app, &spooled).await?;
    let doc = DocumentRow {
        // The spool chose it: the blob's segments are bound to it.
        id: spooled.document_id().to_string(),
        tenant_id: p.tenant_id.clone(),
        owner_id: owner,
        subject_member_id: subject,
        type_code: t.code.clone(),
        channel,
        origin: by.origin.into(),
        depositor_id: p.account_id.clone(),
        depositor_service: by.service.clone(),
        state: by.state.into(),
        valid_until,
        review_reason: None,
        current_version: 1,
        created_at: now,
        updated_at: now,
        deleted_at: None,
    };
    let meta = SealedMeta {
        title: input
            .title
            .map(|s| s.trim().chars().take(200).collect::<String>())
            .filter(|s| !s.is_empty()),
        file_name: display_name(input.file_name.as_deref(), &t, inspection.format),
        metadata,
    };
    let version = write_version(app, p, &doc, 1, spooled, inspection, &meta, now).await?;
    Ok(Prepared {
        notice: by.notice(p, &t),
        basis: by.basis,
        doc,
        version,
        meta,
        doc_type: t,
        now,
    })
}

/// The rows, the journal entry and the citizen's notice, in the caller's transaction.
pub(crate) async fn write_in(tx: &mut WriteTx, p: &Principal, d: &Prepared) -> Result<()> {
    documents::insert(tx, &d.doc).await?;
    documents::insert_version(tx, &d.version).await?;
    journal::append(tx, &p.tenant_id, d.now, &deposit_entry(p, d)).await?;
    if let Some((title, body)) = &d.notice {
        notifications::insert(
            tx,
            &NotificationRow {
                id: new_id(),
                tenant_id: p.tenant_id.clone(),
                account_id: d.doc.owner_id.clone(),
                kind: "document.received".into(),
                title: title.clone(),
                body: body.clone(),
                object_id: Some(d.doc.id.clone()),
                created_at: d.now,
                read_at: None,
            },
        )
        .await?;
    }
    Ok(())
}

/// Removes the blob of a deposit that will not be committed.
pub(crate) async fn abandon(app: &App, d: &Prepared) {
    let _ = app.blobs.delete(&d.version.blob_key).await;
}

fn deposit_entry(p: &Principal, d: &Prepared) -> NewEntry {
    let details = if matches!(d.basis, Basis::Owner) {
        serde_json::json!({ "type": d.doc.type_code, "version": 1, "size": d.version.size })
    } else {
        serde_json::json!({
            "type": d.doc.type_code, "origin": d.doc.origin, "channel": d.doc.channel,
            "version": 1, "size": d.version.size,
        })
    };
    entry(p, "document.deposit", &d.doc, &d.basis, details)
}

/// Who deposits, and what follows from it: the document's origin and state, its basis, the
/// channels it may come through.
struct Depositing {
    origin: &'static str,
    state: &'static str,
    basis: Basis,
    service: String,
    /// The depositor is the citizen.
    own: bool,
    /// A service client through its scope (the API is its channel).
    scope: bool,
    provider: bool,
}

impl Depositing {
    async fn new(
        app: &App,
        p: &Principal,
        w: &Warrant,
        owner: &str,
        t: &DocumentType,
    ) -> Result<Depositing> {
        let refuse = |who: &str| {
            Err(AppError::invalid(
                "depositor-not-allowed",
                format!("ce type de pièce ne peut pas être {who}"),
            ))
        };
        if matches!(w, Warrant::Owner) {
            if !t.depositors.contains(&Depositor::Citizen) {
                return refuse("déposé par l'usager");
            }
            return Ok(Depositing {
                origin: "citizen",
                state: "submitted",
                basis: Basis::Owner,
                service: String::new(),
                own: true,
                scope: false,
                provider: false,
            });
        }
        let agency = Depositing {
            origin: "agency",
            state: if t.review_required {
                "submitted"
            } else {
                "validated"
            },
            basis: Basis::Deposit(p.service_id.clone()),
            service: p.service_id.clone(),
            own: false,
            scope: w.is_scope(),
            provider: false,
        };
        if !w.is_provider() {
            if !t.depositors.contains(&Depositor::Agent) {
                return refuse("déposé par la collectivité");
            }
            p.authorize(&Access::DepositTypeForCitizen {
                domain: &t.domain,
                scopes: &p.scopes,
            })?;
            return Ok(agency);
        }
        if !t.depositors.contains(&Depositor::Provider) {
            return refuse("transmis par un émetteur certifié");
        }
        if !notifications::has_optin(&app.db, &p.tenant_id, owner, &p.account_id).await? {
            return Err(AppError::invalid(
                "no-consent",
                "l'usager n'a pas accepté de recevoir les documents de cet émetteur",
            ));
        }
        Ok(Depositing {
            origin: "provider",
            state: "certified",
            provider: true,
            ..agency
        })
    }

    /// A citizen deposits from the web or the mobile app; counter and post deposits are made
    /// by agents on the citizen's behalf, service clients come through the API.
    fn channel(&self, given: Option<&str>) -> Result<String> {
        let given = given.filter(|c| !c.is_empty());
        if self.own {
            return match given {
                None => Ok("web".into()),
                Some(c @ ("web" | "mobile")) => Ok(c.into()),
                Some(_) => Err(AppError::invalid(
                    "invalid-channel",
                    "un dépôt par l'usager se fait par le web ou l'application mobile",
                )),
            };
        }
        match given {
            None if self.scope => Ok("api".into()),
            None => Ok("web".into()),
            Some(c) if CHANNELS.contains(&c) => Ok(c.into()),
            Some(_) => Err(AppError::invalid(
                "invalid-channel",
                "canal inconnu : web, counter, post, email ou api",
            )),
        }
    }

    fn notice(&self, p: &Principal, t: &DocumentType) -> Option<(String, String)> {
        if self.own {
            return None;
        }
        Some(if self.provider {
            (
                format!("Document certifié reçu : {}", t.label),
                format!(
                    "{} a déposé un document certifié dans votre porte-documents : « {} ».",
                    p.display_name, t.label
                ),
            )
        } else {
            (
                format!("Nouveau document : {}", t.label),
                format!(
                    "{} a déposé « {} » dans votre porte-documents.",
                    service_label(p),
                    t.label
                ),
            )
        })
    }
}

/// How the citizen's notices and letters name the depositor's service.
pub(crate) fn service_label(p: &Principal) -> String {
    if p.service.is_empty() {
        "la collectivité".into()
    } else {
        p.service.clone()
    }
}

/// A citizen of the caller's tenant, or "not found". A service client names citizens by its
/// pairwise ids only (an internal id is not found for it, see `pairwise`).
pub(crate) async fn citizen_account(
    app: &App,
    p: &Principal,
    citizen_id: &str,
) -> Result<AccountRow> {
    let citizen_id = &crate::pairwise::citizen_named(app, p, citizen_id).await?;
    if !is_valid_id(citizen_id) {
        return Err(AppError::NotFound);
    }
    accounts::by_id(&app.db, &p.tenant_id, citizen_id)
        .await?
        .filter(|a| is_vault_account(&a.role))
        .ok_or(AppError::NotFound)
}

/// The household member the document is about, if any: one of the owner's.
async fn check_subject(
    app: &App,
    p: &Principal,
    owner: &str,
    subject: Option<&str>,
    w: &Warrant,
) -> Result<Option<String>> {
    let Some(s) = subject.filter(|s| !s.is_empty() && *s != "self") else {
        return Ok(None);
    };
    let theirs = members::list(&app.db, &p.tenant_id, owner).await?;
    if let Some(m) = crate::pairwise::member_named(app, p, &theirs, s).await? {
        return Ok(Some(m.id.clone()));
    }
    Err(AppError::invalid(
        "unknown-subject",
        if matches!(w, Warrant::Owner) {
            "la personne concernée ne fait pas partie de votre foyer"
        } else {
            "la personne concernée ne fait pas partie du foyer de l'usager"
        },
    ))
}

/// The most scanned pages one deposit assembles.
pub const MAX_PAGES: usize = 50;

/// Deposits scanned pages as one document: several pages are assembled into one PDF first.
pub async fn deposit_pages(
    app: &App,
    p: &Principal,
    vault: Vault<'_>,
    mut input: DepositInput,
    mut pages: Vec<Spooled>,
) -> Result<DocumentView> {
    let file = match pages.len() {
        0 => {
            return Err(AppError::invalid(
                "missing-field",
                "le champ « file » (le fichier) est obligatoire",
            ));
        }
        1 => pages.remove(0),
        n if n > MAX_PAGES => {
            return Err(AppError::invalid(
                "too-many-files",
                format!("{MAX_PAGES} pages au plus par dépôt"),
            ));
        }
        _ => {
            input.file_name = input.file_name.map(|n| {
                let stem = n.rsplit_once('.').map_or(n.as_str(), |(stem, _)| stem);
                format!("{stem}.pdf")
            });
            crate::assemble::assemble(app, pages, app.config.max_upload_bytes()).await?
        }
    };
    deposit(app, p, vault, input, file).await
}

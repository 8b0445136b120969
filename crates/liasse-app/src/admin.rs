//! Tenant administration beyond the catalogue and procedures: agents and their rights per
//! domain, branding and settings. Tenant admins only; every change is journalled.

use liasse_domain::ids::new_id;
use liasse_domain::journal::Entry;
use liasse_domain::journal::NewEntry;
use liasse_domain::policy::{Access, Task, is_staff_account};
use liasse_store::accounts::{self, AccountRow};
use liasse_store::staff::{self, ServiceRow};
use liasse_store::{journal, tenants};

use crate::app::App;
use crate::auth::{self, Principal};
use crate::error::{AppError, Result};

const LEVELS: [&str; 4] = ["none", "consult", "modify", "manage"];

/// An agent or manager with their rights and service.
pub struct StaffMember {
    pub account: AccountRow,
    pub rights: Vec<(String, String)>,
    pub service: Option<ServiceRow>,
}

pub async fn staff(app: &App, p: &Principal) -> Result<Vec<StaffMember>> {
    p.authorize(&Access::Administer(Task::Staff))?;
    let mut out = Vec::new();
    for a in accounts::staff(&app.db, &p.tenant_id).await? {
        out.push(member(app, a).await?);
    }
    Ok(out)
}

async fn member(app: &App, account: AccountRow) -> Result<StaffMember> {
    let rights = accounts::rights(&app.db, &account.tenant_id, &account.id).await?;
    let service = staff::service_of(&app.db, &account.tenant_id, &account.id).await?;
    Ok(StaffMember {
        account,
        rights,
        service,
    })
}

/// One staff account with its rights, service and history (what was done to it, newest
/// first), for its page.
pub async fn staff_member(
    app: &App,
    p: &Principal,
    account_id: &str,
) -> Result<(StaffMember, Vec<Entry>)> {
    let account = staff_account(app, p, account_id).await?;
    let history = journal::for_object(
        &app.db,
        &p.tenant_id,
        "account",
        &account.id,
        "account.",
        50,
    )
    .await?;
    Ok((member(app, account).await?, history))
}

fn entry(
    p: &Principal,
    action: &str,
    kind: &str,
    id: &str,
    details: serde_json::Value,
) -> NewEntry {
    NewEntry {
        actor: p.actor(),
        action: action.into(),
        object_kind: kind.into(),
        object_id: id.into(),
        citizen_id: None,
        basis_kind: "admin".into(),
        basis_id: String::new(),
        details,
    }
}

/// An agent's or a manager's account, for an admin: other accounts are not the admin's to
/// manage from here (not found).
pub(crate) async fn staff_account(
    app: &App,
    p: &Principal,
    account_id: &str,
) -> Result<AccountRow> {
    p.authorize(&Access::Administer(Task::Staff))?;
    if !liasse_domain::ids::is_valid_id(account_id) {
        return Err(AppError::NotFound);
    }
    accounts::by_id(&app.db, &p.tenant_id, account_id)
        .await?
        .filter(|a| is_staff_account(&a.role))
        .ok_or(AppError::NotFound)
}

/// Refuses a right that is not a known level on a well-formed domain code.
pub(crate) fn check_rights(rights: &[(String, String)]) -> Result<()> {
    for (domain, level) in rights {
        let domain_ok = !domain.is_empty()
            && domain.len() <= 64
            && domain
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !domain_ok || !LEVELS.contains(&level.as_str()) {
            return Err(AppError::invalid(
                "invalid-right",
                format!("droit « {domain}={level} » invalide"),
            ));
        }
    }
    Ok(())
}

/// Sets an agent's rights: one level per domain (`none` removes the right). Each change is
/// journalled (`account.right`, with the level before and after, and who changed it); a
/// form that changes nothing writes nothing.
pub async fn set_rights(
    app: &App,
    p: &Principal,
    account_id: &str,
    rights: &[(String, String)],
) -> Result<()> {
    let account = staff_account(app, p, account_id).await?;
    check_rights(rights)?;
    let before = accounts::rights(&app.db, &p.tenant_id, &account.id).await?;
    let level_before = |d: &str| {
        before
            .iter()
            .find(|(x, _)| x == d)
            .map_or("none", |(_, l)| l.as_str())
    };
    let mut changes = Vec::new();
    for (domain, level) in rights {
        let from = level_before(domain);
        if from != level
            && !changes
                .iter()
                .any(|(d, _, _): &(&str, &str, &str)| d == domain)
        {
            changes.push((domain.as_str(), from, level.as_str()));
        }
    }
    if changes.is_empty() {
        return Ok(());
    }
    let now = app.now();
    let mut tx = app.db.begin_write().await?;
    for (domain, from, to) in &changes {
        accounts::set_right(&mut tx, &p.tenant_id, &account.id, domain, to).await?;
        journal::append(
            &mut tx,
            &p.tenant_id,
            now,
            &entry(
                p,
                "account.right",
                "account",
                &account.id,
                serde_json::json!({ "domain": domain, "from": from, "to": to }),
            ),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Puts a staff account in one of the tenant's services (or in none), chosen by id: that
/// service's letters become readable to it. Journalled as `account.service`.
pub async fn set_service(
    app: &App,
    p: &Principal,
    account_id: &str,
    service_id: Option<&str>,
) -> Result<()> {
    let account = staff_account(app, p, account_id).await?;
    let service = crate::enrolment::known_service(app, p, service_id).await?;
    let before = staff::service_of(&app.db, &p.tenant_id, &account.id).await?;
    if before.as_ref().map(|s| &s.id) == service.as_ref().map(|s| &s.id) {
        return Ok(());
    }
    let now = app.now();
    let mut tx = app.db.begin_write().await?;
    staff::assign(&mut tx, &p.tenant_id, &account.id, service.as_ref()).await?;
    journal::append(
        &mut tx,
        &p.tenant_id,
        now,
        &entry(
            p,
            "account.service",
            "account",
            &account.id,
            serde_json::json!({
                "from": before.as_ref().map(|s| s.name.as_str()).unwrap_or_default(),
                "to": service.as_ref().map(|s| s.name.as_str()).unwrap_or_default(),
                "service": service.as_ref().map(|s| s.id.as_str()).unwrap_or_default(),
            }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The tenant's services, for the admin's lists.
pub async fn services(app: &App, p: &Principal) -> Result<Vec<ServiceRow>> {
    p.authorize(&Access::Administer(Task::Services))?;
    Ok(staff::services(&app.db, &p.tenant_id).await?)
}

fn service_name(name: &str) -> Result<&str> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "invalid-service",
            "le nom du service est obligatoire (200 caractères au plus)",
        ));
    }
    Ok(name)
}

fn name_taken(e: liasse_store::StoreError, name: &str) -> AppError {
    match AppError::from(e) {
        AppError::Conflict(_) => {
            AppError::Conflict(format!("un service s'appelle déjà « {name} »"))
        }
        e => e,
    }
}

/// Adds a service to the tenant's list (`service.create`).
pub async fn create_service(app: &App, p: &Principal, name: &str) -> Result<ServiceRow> {
    p.authorize(&Access::Administer(Task::Services))?;
    let name = service_name(name)?;
    let now = app.now();
    let row = ServiceRow {
        id: new_id(),
        tenant_id: p.tenant_id.clone(),
        name: name.to_string(),
        created_at: now,
    };
    let mut tx = app.db.begin_write().await?;
    staff::insert_service(&mut tx, &row)
        .await
        .map_err(|e| name_taken(e, name))?;
    journal::append(
        &mut tx,
        &p.tenant_id,
        now,
        &entry(
            p,
            "service.create",
            "service",
            &row.id,
            serde_json::json!({ "name": name }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Renames a service (`service.rename`); its members and its letters stay its own, since
/// they refer to it by id.
pub async fn rename_service(app: &App, p: &Principal, id: &str, name: &str) -> Result<()> {
    p.authorize(&Access::Administer(Task::Services))?;
    let name = service_name(name)?;
    let before = staff::service(&app.db, &p.tenant_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if before.name == name {
        return Ok(());
    }
    let now = app.now();
    let mut tx = app.db.begin_write().await?;
    staff::rename_service(&mut tx, &p.tenant_id, &before.id, name)
        .await
        .map_err(|e| name_taken(e, name))?;
    journal::append(
        &mut tx,
        &p.tenant_id,
        now,
        &entry(
            p,
            "service.rename",
            "service",
            &before.id,
            serde_json::json!({ "from": before.name, "to": name }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Disables (or re-enables) an agent's or a manager's account, for someone who leaves or
/// changes post: the account can no longer log in, and its sessions and tokens stop working
/// at once. Its rights, reviews and journal entries stay, so its past work still reads.
pub async fn set_disabled(
    app: &App,
    p: &Principal,
    account_id: &str,
    disabled: bool,
) -> Result<()> {
    let account = staff_account(app, p, account_id).await?;
    auth::write_disabled(app, p.actor(), &account, disabled).await
}

/// `#rrggbb`, nothing else (the colour goes into a stylesheet).
pub fn valid_colour(s: &str) -> bool {
    s.len() == 7 && s.starts_with('#') && s[1..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// A logo given as an address: only an image among this server's own static files
/// (`/static/NAME.svg|png|jpg|jpeg|webp`, one plain segment). Any other path would be fetched
/// by every page with the visitor's cookies (`/api/v1/export`, a logout link...), so the
/// only other logo is one uploaded through [`set_logo`].
pub fn valid_logo(s: &str) -> bool {
    let Some(file) = s.strip_prefix("/static/") else {
        return false;
    };
    let Some((stem, ext)) = file.rsplit_once('.') else {
        return false;
    };
    !stem.is_empty()
        && file.len() <= 100
        && stem
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && ["svg", "png", "jpg", "jpeg", "webp"].contains(&ext)
}

/// The largest logo accepted for upload.
pub const LOGO_MAX_BYTES: usize = 128 * 1024;

/// The settings key of an uploaded logo: `{"type": media type, "sha256": hex, "data": base64}`.
pub const LOGO_KEY: &str = "brand_logo_image";

/// An uploaded logo as stored in the tenant's settings, if it is sound.
pub struct Logo {
    pub media_type: &'static str,
    pub sha256: String,
    pub bytes: Vec<u8>,
}

impl Logo {
    pub fn of(settings: &serde_json::Value) -> Option<Logo> {
        use base64::Engine;
        let v = settings.get(LOGO_KEY)?;
        let media_type = match v.get("type")?.as_str()? {
            "image/png" => "image/png",
            "image/jpeg" => "image/jpeg",
            "image/webp" => "image/webp",
            _ => return None,
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(v.get("data")?.as_str()?)
            .ok()?;
        Some(Logo {
            media_type,
            sha256: v.get("sha256")?.as_str()?.to_string(),
            bytes,
        })
    }
}

/// The refusal of a logo file over [`LOGO_MAX_BYTES`] (also said before reading it all).
pub fn logo_too_large() -> AppError {
    AppError::invalid(
        "logo-too-large",
        "le logo pèse plus de 128 Ko : enregistrez-le en plus petit (PNG, JPEG ou WebP), puis envoyez-le à nouveau",
    )
}

/// Replaces the tenant's logo by an uploaded image: PNG, JPEG or WebP, at most 128 KiB and
/// 2000 × 2000 pixels, checked like a citizen's upload (sniffed, fully decoded under limits,
/// nothing hidden after its end). It is served from `/theme/{slug}/logo`.
pub async fn set_logo(app: &App, p: &Principal, bytes: Vec<u8>) -> Result<()> {
    use base64::Engine;
    use liasse_inspect::{Format, Limits};
    p.authorize(&Access::Administer(Task::Branding))?;
    if bytes.len() > LOGO_MAX_BYTES {
        return Err(logo_too_large());
    }
    let limits = Limits {
        max_width: 2000,
        max_height: 2000,
        max_pixels: 4_000_000,
        ..Limits::default()
    };
    let checked = bytes.clone();
    let inspection = tokio::task::spawn_blocking(move || {
        let len = checked.len() as u64;
        liasse_inspect::inspect(
            &mut std::io::Cursor::new(checked),
            len,
            &[Format::Png, Format::Jpeg, Format::Webp],
            &limits,
        )
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
    .map_err(AppError::Refused)?;
    let sha256 = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&bytes))
    };
    let logo = serde_json::json!({
        "type": inspection.media_type,
        "sha256": sha256,
        "data": base64::engine::general_purpose::STANDARD.encode(&bytes),
    });
    let tenant = tenants::by_id(&app.db, &p.tenant_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut settings = tenant.settings.as_object().cloned().unwrap_or_default();
    settings.insert(LOGO_KEY.into(), logo);
    // An uploaded logo replaces an address.
    settings.remove("brand_logo_url");
    save(app, p, serde_json::Value::Object(settings), "tenant.logo").await
}

/// Removes the uploaded logo (the pages then show none, or the `/static/` one if set).
pub async fn remove_logo(app: &App, p: &Principal) -> Result<()> {
    p.authorize(&Access::Administer(Task::Branding))?;
    let tenant = tenants::by_id(&app.db, &p.tenant_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut settings = tenant.settings.as_object().cloned().unwrap_or_default();
    if settings.remove(LOGO_KEY).is_none() {
        return Ok(());
    }
    save(app, p, serde_json::Value::Object(settings), "tenant.logo").await
}

pub struct Branding {
    pub name: String,
    pub primary: String,
    pub logo_url: String,
}

/// Sets the tenant's displayed name, colour and logo (kept in its settings).
pub async fn set_branding(app: &App, p: &Principal, b: Branding) -> Result<()> {
    p.authorize(&Access::Administer(Task::Branding))?;
    let name = b.name.trim();
    if name.chars().count() > 200 {
        return Err(AppError::invalid(
            "invalid-name",
            "le nom affiché compte au plus 200 caractères",
        ));
    }
    let primary = b.primary.trim();
    if !primary.is_empty() && !valid_colour(primary) {
        return Err(AppError::invalid(
            "invalid-colour",
            "la couleur doit s'écrire #rrggbb, par exemple #1d4f91",
        ));
    }
    let logo = b.logo_url.trim();
    if !logo.is_empty() && !valid_logo(logo) {
        return Err(AppError::invalid(
            "invalid-logo",
            "le logo doit être une image de ce serveur sous /static/ (par exemple /static/icon.svg) : pour un autre logo, envoyez le fichier (PNG, JPEG ou WebP) avec le formulaire « Envoyer un logo »",
        ));
    }
    let tenant = tenants::by_id(&app.db, &p.tenant_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut settings = tenant.settings.as_object().cloned().unwrap_or_default();
    for (key, value) in [
        ("brand_name", name),
        ("brand_primary", primary),
        ("brand_logo_url", logo),
    ] {
        if value.is_empty() {
            settings.remove(key);
        } else {
            settings.insert(key.into(), serde_json::Value::String(value.to_string()));
        }
    }
    save(
        app,
        p,
        serde_json::Value::Object(settings),
        "tenant.branding",
    )
    .await
}

/// Replaces the tenant's other settings (a JSON object); the branding keys are kept.
pub async fn set_settings(app: &App, p: &Principal, other: serde_json::Value) -> Result<()> {
    p.authorize(&Access::Administer(Task::Settings))?;
    let Some(obj) = other.as_object() else {
        return Err(AppError::invalid(
            "invalid-settings",
            "les réglages doivent être un objet JSON",
        ));
    };
    if let Some(v) = obj.get("request_retention") {
        let ok = v
            .as_str()
            .is_some_and(|s| liasse_domain::doctype::IsoDuration::parse(s).is_ok());
        if !ok {
            return Err(AppError::invalid(
                "invalid-settings",
                "request_retention doit être une durée ISO 8601, par exemple P3M",
            ));
        }
    }
    if obj
        .get(crate::auth::REQUIRE_ADMIN_TOTP)
        .is_some_and(|v| !v.is_boolean())
    {
        return Err(AppError::invalid(
            "invalid-settings",
            "require_admin_totp vaut true (second facteur exigé des administrateurs) ou false",
        ));
    }
    crate::signup::check_settings(app, &p.tenant_id, obj).await?;
    let tenant = tenants::by_id(&app.db, &p.tenant_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut settings = obj.clone();
    for key in ["brand_name", "brand_primary", "brand_logo_url", LOGO_KEY] {
        settings.remove(key);
        if let Some(v) = tenant.settings.get(key) {
            settings.insert(key.into(), v.clone());
        }
    }
    save(
        app,
        p,
        serde_json::Value::Object(settings),
        "tenant.settings",
    )
    .await
}

async fn save(app: &App, p: &Principal, settings: serde_json::Value, action: &str) -> Result<()> {
    let now = app.now();
    let mut tx = app.db.begin_write().await?;
    tenants::set_settings(&mut tx, &p.tenant_id, &settings).await?;
    // The journal names an uploaded logo by its fingerprint, without its bytes.
    let mut details = settings.clone();
    if let Some(logo) = details.get_mut(LOGO_KEY).and_then(|l| l.as_object_mut()) {
        logo.remove("data");
    }
    journal::append(
        &mut tx,
        &p.tenant_id,
        now,
        &entry(p, action, "tenant", &p.tenant_id, details),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

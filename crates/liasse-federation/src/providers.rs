//! A tenant's services at FranceConnect and ProConnect: set, listed (never with the secret),
//! removed; and the protocol client of each, built once and shared.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use liasse_app::app::App;
use liasse_app::auth::Principal;
use liasse_app::error::AppError;
use liasse_app::secrets;
use liasse_domain::journal::{Actor, NewEntry};
use liasse_domain::policy::{Access, Task};
use liasse_oidc::{Acr, Client, ClientSecret, Provider, ProviderKind};
use liasse_store::federation::{self, ProviderRow};
use liasse_store::{journal, tenants};
use sha2::{Digest, Sha256};

use crate::error::{FedError, Result};
use crate::path_of;

/// A provider as listed: everything but the secret, which is never shown back.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProviderSettings {
    pub kind: ProviderKind,
    pub issuer: String,
    pub client_id: String,
    pub acr: Acr,
    /// ProConnect: the SIRETs allowed to log in; empty for any.
    pub allowed_sirets: Vec<String>,
    pub updated_at: i64,
}

/// What `liasse tenant identity-provider set` and the admin page give.
pub struct NewProvider<'a> {
    pub kind: ProviderKind,
    pub issuer: &'a str,
    pub client_id: &'a str,
    /// `None` keeps the secret already registered (the admin page leaves it blank).
    pub client_secret: Option<&'a str>,
    pub acr: Option<Acr>,
    pub allowed_sirets: Vec<String>,
}

fn secret_name(kind: ProviderKind) -> String {
    format!("idp:{}", path_of(kind))
}

fn invalid(code: &'static str, detail: impl Into<String>) -> FedError {
    FedError::App(AppError::invalid(code, detail))
}

/// An issuer must be HTTPS; plain HTTP is accepted on the loopback only (tests, a demo).
fn check_issuer(issuer: &str) -> Result<String> {
    let issuer = issuer.trim();
    let url = url::Url::parse(issuer)
        .map_err(|_| invalid("invalid-issuer", "l'URL de l'émetteur est invalide"))?;
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
        return Err(invalid(
            "invalid-issuer",
            "l'URL de l'émetteur doit commencer par https://",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() || issuer.len() > 500 {
        return Err(invalid(
            "invalid-issuer",
            "l'URL de l'émetteur ne doit contenir ni paramètres ni fragment",
        ));
    }
    Ok(issuer.to_owned())
}

fn check_text(value: &str, code: &'static str, what: &str, max: usize) -> Result<String> {
    let v = value.trim();
    if v.is_empty() || v.len() > max || v.chars().any(char::is_control) {
        return Err(invalid(
            code,
            format!("{what} doit compter 1 à {max} caractères, sans caractère de contrôle"),
        ));
    }
    Ok(v.to_owned())
}

fn check_sirets(sirets: &[String]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for s in sirets {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        if s.is_empty() {
            continue;
        }
        if s.len() != 14 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(
                "invalid-siret",
                format!("« {s} » n'est pas un SIRET (14 chiffres)"),
            ));
        }
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out)
}

fn settings(row: &ProviderRow) -> Option<ProviderSettings> {
    Some(ProviderSettings {
        kind: crate::parse_kind(&row.kind)?,
        issuer: row.issuer.clone(),
        client_id: row.client_id.clone(),
        acr: row.acr.parse().ok()?,
        allowed_sirets: row
            .allowed_sirets
            .split_whitespace()
            .map(String::from)
            .collect(),
        updated_at: row.updated_at,
    })
}

async fn tenant_id(app: &App, slug: &str) -> Result<String> {
    Ok(tenants::by_slug(&app.db, slug)
        .await?
        .ok_or(FedError::UnknownTenant)?
        .id)
}

/// Registers (or replaces) the tenant's service at a provider; the secret is sealed.
pub async fn set(
    app: &App,
    tenant_slug: &str,
    actor: Actor,
    p: NewProvider<'_>,
) -> Result<ProviderSettings> {
    let tenant_id = tenant_id(app, tenant_slug).await?;
    let issuer = check_issuer(p.issuer)?;
    let client_id = check_text(
        p.client_id,
        "invalid-client-id",
        "l'identifiant client",
        200,
    )?;
    let allowed = check_sirets(&p.allowed_sirets)?;
    let secret = p
        .client_secret
        .map(|s| check_text(s, "invalid-client-secret", "le secret client", 1000))
        .transpose()?;
    let existing = federation::provider(&app.db, &tenant_id, path_of(p.kind)).await?;
    if secret.is_none() && existing.is_none() {
        return Err(invalid(
            "invalid-client-secret",
            "le secret client est obligatoire à la première configuration",
        ));
    }
    let acr = p.acr.unwrap_or(Acr::Eidas1);
    let now = app.now();
    let row = ProviderRow {
        tenant_id: tenant_id.clone(),
        kind: path_of(p.kind).into(),
        issuer,
        client_id,
        acr: acr.as_str().into(),
        allowed_sirets: allowed.join(" "),
        updated_at: now,
    };
    let mut tx = app.db.begin_write().await?;
    federation::put_provider(&mut tx, &row).await?;
    if let Some(secret) = &secret {
        secrets::put(
            app,
            &mut tx,
            &tenant_id,
            &secret_name(p.kind),
            secret.as_bytes(),
        )
        .await?;
    }
    journal::append(
        &mut tx,
        &tenant_id,
        now,
        &NewEntry::new(
            actor,
            "identity-provider.set",
            "identity-provider",
            path_of(p.kind),
        )
        .details(serde_json::json!({
            "issuer": row.issuer,
            "client_id": row.client_id,
            "acr": row.acr,
            "secret_changed": secret.is_some(),
        })),
    )
    .await?;
    tx.commit().await?;
    settings(&row).ok_or_else(|| FedError::App(AppError::Internal("provider row".into())))
}

pub async fn list(app: &App, tenant_slug: &str) -> Result<Vec<ProviderSettings>> {
    let tenant_id = tenant_id(app, tenant_slug).await?;
    list_of(app, &tenant_id).await
}

pub async fn list_of(app: &App, tenant_id: &str) -> Result<Vec<ProviderSettings>> {
    Ok(federation::providers(&app.db, tenant_id)
        .await?
        .iter()
        .filter_map(settings)
        .collect())
}

/// Removes the tenant's service at a provider (and its secret); `false` when there was none.
/// Accounts stay linked: setting it again brings their logins back.
pub async fn remove(
    app: &App,
    tenant_slug: &str,
    actor: Actor,
    kind: ProviderKind,
) -> Result<bool> {
    let tenant_id = tenant_id(app, tenant_slug).await?;
    let mut tx = app.db.begin_write().await?;
    let removed = federation::delete_provider(&mut tx, &tenant_id, path_of(kind)).await?;
    secrets::delete(&mut tx, &tenant_id, &secret_name(kind)).await?;
    if removed {
        journal::append(
            &mut tx,
            &tenant_id,
            app.now(),
            &NewEntry::new(
                actor,
                "identity-provider.remove",
                "identity-provider",
                path_of(kind),
            ),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(removed)
}

/// The same three for an admin of the tenant, asked of the policy.
pub async fn set_as(app: &App, p: &Principal, new: NewProvider<'_>) -> Result<ProviderSettings> {
    p.authorize(&Access::Administer(Task::Settings))?;
    let slug = tenant_slug(app, &p.tenant_id).await?;
    set(app, &slug, p.actor(), new).await
}

pub async fn list_as(app: &App, p: &Principal) -> Result<Vec<ProviderSettings>> {
    p.authorize(&Access::Administer(Task::Settings))?;
    list_of(app, &p.tenant_id).await
}

pub async fn remove_as(app: &App, p: &Principal, kind: ProviderKind) -> Result<bool> {
    p.authorize(&Access::Administer(Task::Settings))?;
    let slug = tenant_slug(app, &p.tenant_id).await?;
    remove(app, &slug, p.actor(), kind).await
}

async fn tenant_slug(app: &App, tenant_id: &str) -> Result<String> {
    Ok(liasse_app::tenants::by_id(app, tenant_id).await?.slug)
}

/// The providers a tenant's login page offers.
pub async fn offered(app: &App, tenant_id: &str) -> Result<Vec<ProviderKind>> {
    Ok(list_of(app, tenant_id)
        .await?
        .into_iter()
        .map(|s| s.kind)
        .collect())
}

/// Liasse's callback URL registered with the provider, under `public_url`.
pub fn redirect_uri(app: &App, kind: ProviderKind) -> String {
    format!(
        "{}/auth/{}/callback",
        app.config.public_url().trim_end_matches('/'),
        path_of(kind)
    )
}

/// Where the provider sends the browser back after its logout (registered too).
pub fn post_logout_uri(app: &App) -> String {
    format!(
        "{}/auth/logged-out",
        app.config.public_url().trim_end_matches('/')
    )
}

/// SHA-256 of the parts, separated: a map key that does not hold the secret itself.
fn fingerprint(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for part in parts {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    hex::encode(h.finalize())
}

/// The clients built so far, by everything that defines one: a changed setting or secret
/// gets a new client, and each keeps its provider's discovery document and keys cached.
fn clients() -> &'static Mutex<HashMap<String, Arc<Client>>> {
    static CLIENTS: OnceLock<Mutex<HashMap<String, Arc<Client>>>> = OnceLock::new();
    CLIENTS.get_or_init(Default::default)
}

/// The tenant's settings at a provider and the client to talk to it.
pub(crate) async fn client(
    app: &App,
    tenant_id: &str,
    kind: ProviderKind,
) -> Result<(ProviderSettings, Arc<Client>)> {
    let row = federation::provider(&app.db, tenant_id, path_of(kind))
        .await?
        .ok_or(FedError::NotConfigured(kind))?;
    let settings = settings(&row).ok_or(FedError::NotConfigured(kind))?;
    let secret = secrets::get(app, tenant_id, &secret_name(kind))
        .await?
        .ok_or(FedError::NotConfigured(kind))?;
    let secret = String::from_utf8(secret.to_vec())
        .map_err(|_| FedError::App(AppError::Internal("client secret is not UTF-8".into())))?;
    let provider = Provider::new(
        kind,
        &settings.issuer,
        &settings.client_id,
        ClientSecret::new(secret),
        redirect_uri(app, kind),
        post_logout_uri(app),
    )
    .with_acr(settings.acr);
    let key = fingerprint(&[
        tenant_id,
        path_of(kind),
        &settings.issuer,
        &settings.client_id,
        provider.client_secret.expose(),
        settings.acr.as_str(),
        &provider.redirect_uri,
    ]);
    if let Ok(map) = clients().lock()
        && let Some(c) = map.get(&key)
    {
        return Ok((settings, c.clone()));
    }
    let client = Arc::new(Client::new(provider)?);
    if let Ok(mut map) = clients().lock() {
        map.insert(key, client.clone());
    }
    Ok((settings, client))
}

//! API tokens: issued with a lifetime, listed, revoked by their holder or the operator.

use super::*;

/// How long a new API token lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenLifetime {
    Millis(i64),
    /// Only when asked for by name (`--expires never`): a service's token that is rotated by
    /// hand. It can still be revoked, and `liasse token list` shows it as never expiring.
    Never,
}

/// Ten years: past that, say `never`.
pub(super) const MAX_TOKEN_LIFETIME_MS: i64 = 3650 * DAY_MS;

impl TokenLifetime {
    /// 90 days: a forgotten token dies on its own, a service rotates its token each quarter.
    pub const DEFAULT: TokenLifetime = TokenLifetime::Millis(90 * DAY_MS);

    /// `30d`, `12h`, `90m` (days, hours, minutes), or `never`.
    pub fn parse(s: &str) -> Result<Self> {
        let s = s.trim();
        if s == "never" {
            return Ok(TokenLifetime::Never);
        }
        let bad = || {
            AppError::invalid(
                "invalid-duration",
                format!(
                    "durée « {s} » invalide : un nombre suivi de d (jours), h (heures) ou m (minutes), par exemple 30d, 12h ou 90m, ou never ; au plus 3650d"
                ),
            )
        };
        let unit_ms = match s.chars().last() {
            Some('d') => DAY_MS,
            Some('h') => 3_600_000,
            Some('m') => 60_000,
            _ => return Err(bad()),
        };
        let digits = &s[..s.len() - 1];
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let ms = digits
            .parse::<i64>()
            .ok()
            .and_then(|n| n.checked_mul(unit_ms))
            .filter(|ms| (1..=MAX_TOKEN_LIFETIME_MS).contains(ms))
            .ok_or_else(bad)?;
        Ok(TokenLifetime::Millis(ms))
    }
}

pub struct NewToken<'a> {
    pub tenant_slug: &'a str,
    pub login: &'a str,
    pub scopes: &'a str,
    pub name: &'a str,
    pub lifetime: TokenLifetime,
}

/// A new token: its secret is shown once, then only its id and name are known.
pub struct IssuedToken {
    pub id: String,
    pub secret: String,
    pub expires_at: Option<i64>,
}

/// A token as its owner and the operator see it (never the secret).
#[derive(Clone, Debug, serde::Serialize)]
pub struct TokenView {
    pub id: String,
    pub name: String,
    pub account: String,
    pub login: String,
    pub scopes: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// `active`, `expired` or `revoked`.
    pub state: &'static str,
}

impl TokenView {
    fn of(t: TokenInfo, now: i64) -> Self {
        let state = if t.revoked_at.is_some() {
            "revoked"
        } else if t.expires_at.is_some_and(|e| e <= now) {
            "expired"
        } else {
            "active"
        };
        TokenView {
            id: t.id,
            name: t.label,
            account: t.account_id,
            login: t.login,
            scopes: t.scopes,
            created_at: t.created_at,
            expires_at: t.expires_at,
            revoked_at: t.revoked_at,
            state,
        }
    }
}

/// Creates an API token for an account (`liasse token create`) and journals `token.create`.
pub async fn issue_token(app: &App, actor: Actor, t: NewToken<'_>) -> Result<IssuedToken> {
    let name = t.name.trim();
    if name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "invalid-token-name",
            "le nom du jeton doit compter au plus 100 caractères, sans caractère de contrôle",
        ));
    }
    let account = account_by_login(app, t.tenant_slug, t.login).await?;
    if account.disabled {
        return Err(AppError::invalid(
            "account-disabled",
            "ce compte est désactivé",
        ));
    }
    let secret = new_secret("lss");
    let now = app.now();
    let expires_at = match t.lifetime {
        TokenLifetime::Millis(ms) => Some(now + ms),
        TokenLifetime::Never => None,
    };
    let mut tx = app.db.begin_write().await?;
    let token = TokenRow {
        id: new_id(),
        tenant_id: account.tenant_id.clone(),
        account_id: account.id.clone(),
        token_hash: secret_hash(&secret),
        label: name.into(),
        scopes: t.scopes.into(),
        created_at: now,
        expires_at,
    };
    accounts::insert_token(&mut tx, &token).await?;
    journal::append(
        &mut tx,
        &account.tenant_id,
        now,
        &NewEntry::new(actor, "token.create", "token", &token.id)
            .citizen(is_vault_account(&account.role).then(|| account.id.clone()))
            .basis("admin", "")
            .details(serde_json::json!({
                "account": account.id, "scopes": t.scopes, "name": name, "expires_at": expires_at
            })),
    )
    .await?;
    tx.commit().await?;
    Ok(IssuedToken {
        id: token.id,
        secret,
        expires_at,
    })
}

/// Creates a token with the default lifetime and returns the secret, shown once.
pub async fn create_token(
    app: &App,
    actor: Actor,
    tenant_slug: &str,
    login: &str,
    scopes: &str,
    label: &str,
) -> Result<String> {
    let issued = issue_token(
        app,
        actor,
        NewToken {
            tenant_slug,
            login,
            scopes,
            name: label,
            lifetime: TokenLifetime::DEFAULT,
        },
    )
    .await?;
    Ok(issued.secret)
}

/// The caller's own tokens (`GET /api/v1/tokens`), newest first.
pub async fn own_tokens(app: &App, p: &Principal) -> Result<Vec<TokenView>> {
    let now = app.now();
    Ok(accounts::tokens(&app.db, &p.tenant_id, Some(&p.account_id))
        .await?
        .into_iter()
        .map(|t| TokenView::of(t, now))
        .collect())
}

/// The tokens of a tenant, or of one of its accounts (`liasse token list`).
pub async fn tenant_tokens(
    app: &App,
    tenant_slug: &str,
    login: Option<&str>,
) -> Result<Vec<TokenView>> {
    let tenant = tenants::by_slug(&app.db, tenant_slug)
        .await?
        .ok_or(AppError::NotFound)?;
    let account = match login {
        Some(l) => Some(account_by_login(app, tenant_slug, l).await?.id),
        None => None,
    };
    let now = app.now();
    Ok(accounts::tokens(&app.db, &tenant.id, account.as_deref())
        .await?
        .into_iter()
        .map(|t| TokenView::of(t, now))
        .collect())
}

/// Revokes one of the caller's own tokens (`DELETE /api/v1/tokens/{id}`); another account's
/// token, or another tenant's, is not found. Revoking twice changes nothing.
pub async fn revoke_own_token(app: &App, p: &Principal, id: &str) -> Result<()> {
    let token = accounts::token_by_id(&app.db, &p.tenant_id, id)
        .await?
        .filter(|t| t.account_id == p.account_id)
        .ok_or(AppError::NotFound)?;
    write_revoke(app, p.actor(), "owner", &p.tenant_id, token).await?;
    Ok(())
}

/// The operator's `liasse token revoke`: any token of the tenant.
pub async fn revoke_token(
    app: &App,
    actor: Actor,
    tenant_slug: &str,
    id: &str,
) -> Result<TokenView> {
    let tenant = tenants::by_slug(&app.db, tenant_slug)
        .await?
        .ok_or(AppError::NotFound)?;
    let token = accounts::token_by_id(&app.db, &tenant.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    write_revoke(app, actor, "admin", &tenant.id, token).await
}

/// Marks the token revoked and journals `token.revoke` (nothing when it was already revoked).
/// The token is checked on every request, so it is refused from the next one on.
pub(super) async fn write_revoke(
    app: &App,
    actor: Actor,
    basis_kind: &str,
    tenant_id: &str,
    token: TokenInfo,
) -> Result<TokenView> {
    let now = app.now();
    if token.revoked_at.is_some() {
        return Ok(TokenView::of(token, now));
    }
    let owner = accounts::by_id(&app.db, tenant_id, &token.account_id).await?;
    let citizen_id = owner.filter(|a| is_vault_account(&a.role)).map(|a| a.id);
    let mut tx = app.db.begin_write().await?;
    if accounts::revoke_token(&mut tx, tenant_id, &token.id, now).await? {
        journal::append(
            &mut tx,
            tenant_id,
            now,
            &NewEntry::new(actor, "token.revoke", "token", &token.id)
                .citizen(citizen_id)
                .basis(basis_kind, "")
                .details(serde_json::json!({ "account": token.account_id, "name": token.label })),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(TokenView::of(
        TokenInfo {
            revoked_at: Some(now),
            ..token
        },
        now,
    ))
}

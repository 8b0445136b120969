//! A citizen's first FranceConnect login with a subject Liasse does not know: the pivot
//! identity is shown as received, and the citizen either creates an account from it (names
//! and birth date not editable, e-mail editable) or links the account they already have by
//! logging in with its password once.

use liasse_app::app::App;
use liasse_app::auth::{self, NewUser};
use liasse_app::error::AppError;
use liasse_domain::journal::Actor;
use liasse_domain::policy::Role;
use liasse_oidc::{Claims, Identity, PivotIdentity, ProviderKind};
use liasse_store::{accounts, tenants};

use crate::error::{FedError, Result};
use crate::login::{self, Outcome};
use crate::pending::{self, CHOICE, Refusals};

const CHOICE_REFUSALS: Refusals = Refusals {
    missing: || FedError::ChoiceExpired,
    expired: || FedError::ChoiceExpired,
};

/// What the choice page shows.
pub struct Choice {
    pub tenant_id: String,
    pub pivot: PivotIdentity,
}

fn pivot(identity: &Identity) -> Result<PivotIdentity> {
    match &identity.claims {
        Claims::Pivot(p) => Ok(p.clone()),
        Claims::ProConnect(_) => Err(FedError::ChoiceExpired),
    }
}

pub async fn view(app: &App, choice_id: &str, browser: Option<&str>) -> Result<Choice> {
    let taken: pending::Taken<Identity> =
        pending::peek(app, CHOICE, choice_id, browser, &CHOICE_REFUSALS).await?;
    Ok(Choice {
        pivot: pivot(&taken.payload)?,
        tenant_id: taken.tenant_id,
    })
}

/// "Jean Pierre" "DUPONT" → "jean.dupont": the first given name and the family name, folded
/// to ASCII letters, digits and dots.
fn login_base(p: &PivotIdentity) -> String {
    let fold = |s: &str| -> String {
        s.chars()
            .flat_map(|c| match c {
                'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' | 'À' | 'Á' | 'Â' | 'Ä' => vec!['a'],
                'ç' | 'Ç' => vec!['c'],
                'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => vec!['e'],
                'î' | 'ï' | 'í' | 'Î' | 'Ï' => vec!['i'],
                'ô' | 'ö' | 'ó' | 'Ô' | 'Ö' => vec!['o'],
                'ù' | 'û' | 'ü' | 'ú' | 'Ù' | 'Û' | 'Ü' => vec!['u'],
                'ÿ' => vec!['y'],
                'œ' | 'Œ' => vec!['o', 'e'],
                'æ' | 'Æ' => vec!['a', 'e'],
                c if c.is_ascii_alphanumeric() => vec![c.to_ascii_lowercase()],
                _ => vec!['-'],
            })
            .collect::<String>()
            .split('-')
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join("-")
    };
    let given = fold(p.given_name.split_whitespace().next().unwrap_or_default());
    let family = fold(&p.family_name);
    match (given.is_empty(), family.is_empty()) {
        (false, false) => format!("{given}.{family}"),
        (true, false) => family,
        (false, true) => given,
        (true, true) => "usager".into(),
    }
}

fn display_name(p: &PivotIdentity) -> String {
    let given = p.given_name.split_whitespace().next().unwrap_or_default();
    let mut chars = given.chars();
    let given: String = chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    format!("{given} {}", p.family_name.to_uppercase())
        .trim()
        .to_owned()
}

/// Creates the citizen's account from the pivot identity and opens its session.
pub async fn create(
    app: &App,
    choice_id: &str,
    browser: Option<&str>,
    email: &str,
) -> Result<Outcome> {
    let email = match email.trim() {
        "" => None,
        e => Some(liasse_app::mail::check_email(e)?),
    };
    let taken: pending::Taken<Identity> =
        pending::take(app, CHOICE, choice_id, browser, &CHOICE_REFUSALS).await?;
    let identity = taken.payload;
    let p = pivot(&identity)?;
    let tenant = liasse_app::tenants::by_id(app, &taken.tenant_id).await?;
    let base = login_base(&p);
    let mut login_name = base.clone();
    let mut n = 1;
    while accounts::by_login(&app.db, &tenant.id, &login_name)
        .await?
        .is_some()
    {
        n += 1;
        login_name = format!("{base}{n}");
    }
    let name = display_name(&p);
    let mut tx = app.db.begin_write().await?;
    let account = auth::create_user_in(
        &mut tx,
        app,
        Actor::system(),
        NewUser {
            tenant_slug: &tenant.slug,
            login: &login_name,
            role: Role::Citizen,
            display_name: Some(&name),
            email: email.as_deref(),
            service: None,
            rights: vec![],
            password: None,
        },
    )
    .await?;
    tx.commit().await?;
    login::link(
        app,
        ProviderKind::FranceConnect,
        &account,
        &identity,
        "created",
    )
    .await?;
    login::open(app, ProviderKind::FranceConnect, account, &identity).await
}

/// Links the subject to the citizen account whose password is given, and opens the session.
/// A wrong password leaves the choice open (and counts against the login's rate limit).
pub async fn link_existing(
    app: &App,
    choice_id: &str,
    browser: Option<&str>,
    login_name: &str,
    password: &str,
    client: &str,
) -> Result<Outcome> {
    let seen: pending::Taken<Identity> =
        pending::peek(app, CHOICE, choice_id, browser, &CHOICE_REFUSALS).await?;
    let tenant = tenants::by_id(&app.db, &seen.tenant_id)
        .await?
        .ok_or(FedError::UnknownTenant)?;
    let (session, csrf, principal) =
        auth::login(app, &tenant.slug, login_name.trim(), password, client).await?;
    if !principal.role.has_vault() {
        auth::logout(app, &session).await?;
        return Err(FedError::NotACitizen);
    }
    // Now single use: a second post of the same choice finds nothing.
    let taken: pending::Taken<Identity> =
        match pending::take(app, CHOICE, choice_id, browser, &CHOICE_REFUSALS).await {
            Ok(t) => t,
            Err(e) => {
                auth::logout(app, &session).await?;
                return Err(e);
            }
        };
    let account = accounts::by_id(&app.db, &tenant.id, &principal.account_id)
        .await?
        .ok_or(FedError::App(AppError::NotFound))?;
    let identity = taken.payload;
    if let Err(e) = login::link(
        app,
        ProviderKind::FranceConnect,
        &account,
        &identity,
        "password",
    )
    .await
    {
        auth::logout(app, &session).await?;
        return Err(e);
    }
    // The session was opened by the password; it ends at the provider too from now on.
    let mut tx = app.db.begin_write().await?;
    liasse_store::federation::set_session_provider(
        &mut tx,
        &auth::secret_hash(&session),
        crate::path_of(ProviderKind::FranceConnect),
        &identity.id_token,
    )
    .await?;
    tx.commit().await?;
    Ok(Outcome::Session {
        session,
        csrf,
        principal: Box::new(principal),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_are_folded_from_the_pivot_identity() {
        let p = PivotIdentity {
            given_name: "Angéla Claire".into(),
            family_name: "DUBOIS-LÉGER".into(),
            ..Default::default()
        };
        assert_eq!(login_base(&p), "angela.dubois-leger");
        assert_eq!(display_name(&p), "Angéla DUBOIS-LÉGER");
        assert_eq!(login_base(&PivotIdentity::default()), "usager");
    }
}

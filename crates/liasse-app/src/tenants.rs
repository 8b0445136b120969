//! Tenants (collectivités): creation with an optional default catalogue.

use liasse_domain::catalogue::default_catalogue;
use liasse_domain::ids::new_id;
use liasse_domain::journal::Actor;
use liasse_domain::tenant::validate_slug;
use liasse_store::tenants;
pub use liasse_store::tenants::Tenant;

use crate::app::App;
use crate::catalogue;
use crate::error::{AppError, Result};

pub async fn create(app: &App, slug: &str, name: &str, with_catalogue: bool) -> Result<Tenant> {
    validate_slug(slug).map_err(|m| AppError::invalid("invalid-slug", m))?;
    let name = name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(AppError::invalid(
            "invalid-name",
            "le nom de la collectivité est obligatoire",
        ));
    }
    let tenant = tenants::create(&app.db, &new_id(), slug, name, app.now()).await?;
    if with_catalogue {
        let types = default_catalogue().map_err(AppError::Internal)?;
        for t in types {
            catalogue::install(app, &tenant.id, Actor::operator(), t).await?;
        }
    }
    Ok(tenant)
}

/// The tenant as stored now, or `None`.
pub async fn find(app: &App, slug: &str) -> Result<Option<Tenant>> {
    Ok(tenants::by_slug(&app.db, slug).await?)
}

/// The tenant of an id (a session's), as stored now.
pub async fn by_id(app: &App, tenant_id: &str) -> Result<Tenant> {
    tenants::by_id(&app.db, tenant_id)
        .await?
        .ok_or(AppError::NotFound)
}

/// Every tenant of the instance.
pub async fn list(app: &App) -> Result<Vec<Tenant>> {
    Ok(tenants::list(&app.db).await?)
}

pub async fn by_slug(app: &App, slug: &str) -> Result<Tenant> {
    tenants::by_slug(&app.db, slug)
        .await?
        .ok_or(AppError::NotFound)
}

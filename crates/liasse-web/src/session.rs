//! The web session (the `__Host-liasse` cookie made by `services::auth::login`, `liasse` when
//! `secure_cookies = false`) and the CSRF check of every unsafe web handler.
//!
//! [`Posted`] and [`PostedMultipart`] are the only ways a web handler receives a form: they
//! load the session and compare the form's `csrf` field with the session's token in constant
//! time before the handler runs, so a forged or stale form changes nothing. For multipart
//! forms, `csrf` must be the first field and is checked before any file is read.

use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Multipart, Request};
use axum::http::Uri;
use axum::http::request::Parts;
use liasse_app::tenants::{self, Tenant};
use liasse_domain::policy::{self, Access, Page, Space};

use crate::WebError;
use crate::chrome::{Chrome, nav_for};
use crate::roles;
use crate::theme::Brand;
use liasse_app::agency;
use liasse_app::app::App;
use liasse_app::auth::{self, Principal};
use liasse_app::error::AppError;
use liasse_http::cookies::{cookie_value, ct_eq, session_cookie};

/// Largest urlencoded form accepted (procedure definitions are the biggest).
const MAX_FORM: usize = 512 * 1024;

/// A logged-in user of the pages.
pub struct Session {
    pub p: Principal,
    pub csrf: String,
    pub tenant: Tenant,
    pub uri: Uri,
}

fn path_and_query(uri: &Uri) -> String {
    uri.path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into())
}

impl FromRequestParts<App> for Session {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let next = if parts.method == axum::http::Method::GET {
            path_and_query(&parts.uri)
        } else {
            "/".into()
        };
        let Some(cookie) = cookie_value(&parts.headers, session_cookie(app)) else {
            return Err(WebError::Login { next });
        };
        let Some((p, csrf)) = auth::principal_from_session(app, &cookie).await? else {
            return Err(WebError::Login { next });
        };
        let tenant = tenants::by_id(app, &p.tenant_id).await?;
        Ok(Session {
            p,
            csrf,
            tenant,
            uri: parts.uri.clone(),
        })
    }
}

impl Session {
    /// Refuses (403 page) a page of a space the policy does not let this actor enter.
    pub fn enter(&self, space: Space) -> Result<(), WebError> {
        if policy::allows(&self.p.facts(), &Access::Enter(space)) {
            Ok(())
        } else {
            Err(AppError::Forbidden.into())
        }
    }

    pub fn citizen(&self) -> Result<(), WebError> {
        self.enter(Space::Citizen)
    }

    pub fn staff(&self) -> Result<(), WebError> {
        self.enter(Space::Agency)
    }

    pub fn admin(&self) -> Result<(), WebError> {
        self.enter(Space::Administration)
    }

    fn query_param(&self, name: &str) -> Option<String> {
        self.uri.query().and_then(|q| {
            q.split('&')
                .filter_map(|kv| kv.split_once('='))
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
    }

    /// The frame of a page: tenant theme, the menu the policy gives the actor, message after a
    /// change.
    pub async fn chrome(&self, app: &App, title: &str) -> Chrome {
        let brand = Brand::of(&self.tenant);
        let pages = policy::menu(&self.p.facts());
        let unread = if pages.contains(&Page::Notifications) {
            agency::notifications(app, &self.p)
                .await
                .map(|n| n.unread)
                .unwrap_or(0)
        } else {
            0
        };
        Chrome {
            title: title.to_string(),
            site: brand.name,
            theme_href: Some(format!("/theme/{}/brand.css", self.tenant.slug)),
            logo: brand.logo,
            user: Some(self.p.display_name.clone()),
            role: roles::label(self.p.role).into(),
            csrf: self.csrf.clone(),
            nav: nav_for(&pages, self.uri.path(), unread),
            flash: None,
            unread,
        }
        .with_flash(self.query_param("ok").as_deref())
    }
}

/// A visitor who may or may not be logged in (home and login pages).
pub struct Visitor(pub Option<Session>);

impl FromRequestParts<App> for Visitor {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        match Session::from_request_parts(parts, app).await {
            Ok(s) => Ok(Visitor(Some(s))),
            Err(WebError::Login { .. }) => Ok(Visitor(None)),
            Err(e) => Err(e),
        }
    }
}

/// The fields of an urlencoded form, in order (a name may repeat: checkboxes).
#[derive(Debug, Default)]
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A field's value, trimmed; empty when absent.
    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or_default().trim().to_string()
    }

    /// A field's value, or `None` when absent or blank.
    pub fn opt(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(String::from)
    }

    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
            .collect()
    }

    pub fn checked(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|v| v == "on" || v == "true" || v == "1")
    }

    pub fn parse(body: &[u8]) -> Fields {
        Fields(
            form_pairs(body)
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }
}

/// Decodes `application/x-www-form-urlencoded`.
fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    fn decode(s: &[u8]) -> String {
        let mut out = Vec::with_capacity(s.len());
        let mut i = 0;
        while i < s.len() {
            match s[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < s.len() => {
                    let hex = |c: u8| (c as char).to_digit(16);
                    match (hex(s[i + 1]), hex(s[i + 2])) {
                        (Some(h), Some(l)) => {
                            out.push((h * 16 + l) as u8);
                            i += 2;
                        }
                        _ => out.push(b'%'),
                    }
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    body.split(|b| *b == b'&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| match kv.iter().position(|b| *b == b'=') {
            Some(i) => (decode(&kv[..i]), decode(&kv[i + 1..])),
            None => (decode(kv), String::new()),
        })
        .collect()
}

/// An urlencoded form from a logged-in user, its CSRF token checked.
pub struct Posted {
    pub s: Session,
    pub f: Fields,
}

impl FromRequest<App> for Posted {
    type Rejection = WebError;

    async fn from_request(req: Request, app: &App) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let s = Session::from_request_parts(&mut parts, app).await?;
        let is_form = parts
            .headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return Err(WebError::Csrf);
        }
        let bytes = axum::body::to_bytes(body, MAX_FORM)
            .await
            .map_err(|_| WebError::BadForm)?;
        let f = Fields::parse(&bytes);
        if !ct_eq(f.get("csrf").unwrap_or_default(), &s.csrf) {
            return Err(WebError::Csrf);
        }
        Ok(Posted { s, f })
    }
}

/// A multipart form (uploads) from a logged-in user; its first field, `csrf`, is checked
/// before anything else is read.
pub struct PostedMultipart {
    pub s: Session,
    pub mp: Multipart,
}

impl FromRequest<App> for PostedMultipart {
    type Rejection = WebError;

    async fn from_request(req: Request, app: &App) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let s = Session::from_request_parts(&mut parts, app).await?;
        let req = Request::from_parts(parts, body);
        let mut mp = Multipart::from_request(req, app)
            .await
            .map_err(|_| WebError::Csrf)?;
        let mut field = match mp.next_field().await {
            Ok(Some(f)) if f.name() == Some("csrf") => f,
            _ => return Err(WebError::Csrf),
        };
        let mut token = Vec::new();
        while let Ok(Some(chunk)) = field.chunk().await {
            token.extend_from_slice(&chunk);
            if token.len() > 200 {
                return Err(WebError::Csrf);
            }
        }
        drop(field);
        if !ct_eq(&String::from_utf8_lossy(&token), &s.csrf) {
            return Err(WebError::Csrf);
        }
        Ok(PostedMultipart { s, mp })
    }
}

/// The body of a request as plain bytes (for forms before login).
pub async fn read_form(body: Body) -> Result<Fields, WebError> {
    let bytes = axum::body::to_bytes(body, MAX_FORM)
        .await
        .map_err(|_| WebError::BadForm)?;
    Ok(Fields::parse(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_decode() {
        let f = Fields::parse(b"a=1&b=caf%C3%A9+cr%C3%A8me&c=&c=x&d=%zz&e");
        assert_eq!(f.get("a"), Some("1"));
        assert_eq!(f.get("b"), Some("café crème"));
        assert_eq!(f.all("c"), vec!["x".to_string()]);
        assert_eq!(f.get("d"), Some("%zz"));
        assert_eq!(f.get("e"), Some(""));
    }
}

//! Issue 22, point 9 (logo): the tenant's logo was any path of this server, fetched by every
//! page with the visitor's cookies (`/api/v1/export`...). Now it is an uploaded image
//! (checked, served from a fixed route without cookies) or an image under `/static/`.

use liasse_inspect::samples;
use liasse_testkit::TestApp;
use reqwest::header::SET_COOKIE;
use reqwest::multipart::{Form, Part};

use crate::web::{Browser, Page};

fn logo_form(token: &str, bytes: Vec<u8>, name: &str, mime: &str) -> Form {
    Form::new().text("csrf", token.to_string()).part(
        "logo",
        Part::bytes(bytes)
            .file_name(name.to_string())
            .mime_str(mime)
            .unwrap(),
    )
}

async fn brand(token: &str, admin: &mut Browser, logo: &str) -> Page {
    admin
        .post(
            "/admin/apparence",
            &[
                ("csrf", token),
                ("brand_name", ""),
                ("brand_primary", ""),
                ("brand_logo_url", logo),
            ],
        )
        .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_logo_is_an_uploaded_image_or_a_static_one_never_any_path() {
    let t = TestApp::embedded().await;
    let tenant_id = t.tenant("logo").await;
    t.account("logo", "alix", "admin", &[]).await;
    t.account("logo", "camille", "citizen", &[]).await;
    let mut admin = Browser::new(&t);
    admin.login("logo", "alix", "alix-password").await;
    let token = admin.get("/admin/apparence").await.csrf();

    // Addresses that pages would fetch with the visitor's cookies: refused, in French.
    for bad in [
        "/api/v1/export",
        "https://evil.example/x.png",
        "/static/../api/v1/export",
        "/deconnexion",
        "data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=",
    ] {
        let r = brand(&token, &mut admin, bad).await;
        assert_eq!(r.status, 400, "{bad}");
        assert!(
            r.body.contains("sous /static/") && r.body.contains("aria-invalid=\"true\""),
            "{bad}: {}",
            r.body
        );
    }
    let tenant = liasse_store::tenants::by_id(&t.app.db, &tenant_id)
        .await
        .unwrap()
        .unwrap();
    assert!(tenant.settings.get("brand_logo_url").is_none());

    // An image under /static/ is accepted.
    let r = brand(&token, &mut admin, "/static/logo.svg").await;
    assert_eq!(r.status, 303, "{}", r.body);
    let login = Browser::new(&t).get("/connexion?collectivite=logo").await;
    assert!(
        login.body.contains("src=\"/static/logo.svg\""),
        "{}",
        login.body
    );

    // A setting written before these rules that points elsewhere is ignored at render time.
    let mut settings = tenant.settings.as_object().cloned().unwrap_or_default();
    settings.insert("brand_logo_url".into(), "/api/v1/export".into());
    let mut tx = t.app.db.begin_write().await.unwrap();
    liasse_store::tenants::set_settings(&mut tx, &tenant_id, &serde_json::Value::Object(settings))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut citizen = Browser::new(&t);
    citizen.login("logo", "camille", "camille-password").await;
    for page in [
        Browser::new(&t).get("/connexion?collectivite=logo").await,
        citizen.get("/documents").await,
    ] {
        assert_eq!(page.status, 200);
        assert!(!page.body.contains("/api/v1/export"), "{}", page.body);
        assert!(!page.body.contains("<img src=\"/api"), "{}", page.body);
    }

    // Files that are not a small image are refused, and change nothing.
    let png = samples::small_png(120, 40);
    for (bytes, name, mime, why) in [
        (samples::minimal_pdf(), "logo.pdf", "application/pdf", "PNG"),
        (samples::polyglot_png_pdf(), "logo.png", "image/png", ""),
        (
            samples::uniform_png(3000, 3000),
            "logo.png",
            "image/png",
            "pixels",
        ),
        (vec![0x89; 200 * 1024], "logo.png", "image/png", "128 Ko"),
    ] {
        let r = admin
            .post_multipart(
                "/admin/apparence/logo",
                logo_form(&token, bytes, name, mime),
            )
            .await;
        assert!(
            (400..500).contains(&r.status) && r.body.contains(why),
            "{name} {why}: {} {}",
            r.status,
            r.body
        );
        assert!(r.body.contains("aria-invalid=\"true\""), "{}", r.body);
    }
    let login = Browser::new(&t).get("/connexion?collectivite=logo").await;
    assert!(!login.body.contains("/theme/logo/logo"));
    assert_eq!(
        t.http
            .get(t.url("/theme/logo/logo"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );

    // A citizen cannot change the logo.
    let citizen_token = citizen.get("/documents").await.csrf();
    let r = citizen
        .post_multipart(
            "/admin/apparence/logo",
            logo_form(&citizen_token, png.clone(), "logo.png", "image/png"),
        )
        .await;
    assert!(r.status == 403 || r.status == 404, "{}", r.status);

    // An uploaded PNG is shown on every page, from the fixed route.
    let r = admin
        .post_multipart(
            "/admin/apparence/logo",
            logo_form(&token, png.clone(), "logo.png", "image/png"),
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let login = Browser::new(&t).get("/connexion?collectivite=logo").await;
    let marker = "src=\"/theme/logo/logo?v=";
    let start = login
        .body
        .find(marker)
        .unwrap_or_else(|| panic!("{}", login.body))
        + 5;
    let end = login.body[start..].find('"').unwrap();
    let src = login.body[start..start + end].to_string();
    assert!(citizen.get("/documents").await.body.contains(&src));
    assert!(admin.get("/admin/apparence").await.body.contains(&src));
    // Served without any cookie, as an image, cacheable.
    let r = t.http.get(t.url(&src)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert!(
        r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .starts_with("public"),
    );
    assert!(r.headers().get(SET_COOKIE).is_none());
    assert_eq!(r.bytes().await.unwrap().to_vec(), png);

    // The settings form cannot slip a logo past the checks...
    let forged = serde_json::json!({
        "request_retention": "P3M",
        "brand_logo_image": {"type": "image/png", "sha256": "00", "data": "PGh0bWw+"},
    });
    let r = admin
        .post(
            "/admin/reglages",
            &[("csrf", &token), ("settings", &forged.to_string())],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let served = t.http.get(t.url(&src)).send().await.unwrap();
    assert_eq!(served.bytes().await.unwrap().to_vec(), png);

    // ... and the journal names the logo by its fingerprint, without its bytes.
    let entries = liasse_store::journal::page(&t.app.db, &tenant_id, 0, 1000)
        .await
        .unwrap();
    let logo_entry = entries
        .iter()
        .rev()
        .find(|e| e.entry.action == "tenant.logo")
        .expect("a tenant.logo entry");
    let details = logo_entry.entry.details.to_string();
    assert!(
        details.contains("sha256") && !details.contains("\"data\""),
        "{details}"
    );

    // Removing it leaves no logo.
    let r = admin
        .post("/admin/apparence/logo/retirer", &[("csrf", &token)])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let login = Browser::new(&t).get("/connexion?collectivite=logo").await;
    assert!(!login.body.contains("/theme/logo/logo"));
    assert_eq!(t.http.get(t.url(&src)).send().await.unwrap().status(), 404);
}

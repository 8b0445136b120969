//! The landing page: what this server is and where to go next. The citizen and agent pages
//! come with the web interface; until then it points to the API.

use axum::Router;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;

use crate::app::App;
use crate::http::openapi::html_escape;

pub fn routes() -> Router<App> {
    Router::new().route("/", get(home))
}

async fn home(State(app): State<App>) -> Html<String> {
    let demo = liasse_store::tenants::by_slug(&app.db, crate::demo::DEMO_TENANT)
        .await
        .ok()
        .flatten()
        .is_some();
    let demo_text = if demo {
        format!(
            "<h2>Démonstration</h2><p>La collectivité de démonstration <code>demo</code> est chargée. Comptes : {}.</p>\
             <p>Essayez : <code>liasse token create --tenant demo --login camille</code>, puis déposez une pièce avec \
             <code>curl -H \"Authorization: Bearer JETON\" -F type=justificatif-domicile -F file=@facture.pdf {}/api/v1/documents</code>.</p>",
            crate::demo::accounts_html(),
            html_escape(&app.config.public_url())
        )
    } else {
        String::new()
    };
    Html(format!(
        "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Liasse</title></head><body><main><h1>Liasse, le porte-documents de votre collectivité</h1>\
         <p>Déposez une fois vos pièces justificatives (identité, domicile, impôts...), suivez leur validité, \
         et choisissez qui peut les consulter : chaque accès est inscrit dans un journal que vous pouvez lire.</p>\
         {demo_text}<h2>API</h2><p>La description de l'API : <a href=\"/api/v1/docs\">/api/v1/docs</a> \
         (<a href=\"/api/v1/openapi.json\">OpenAPI</a>). État du service : <a href=\"/readyz\">/readyz</a>.</p></main></body></html>"
    ))
}

//! The OpenAPI 3.1 document of the API, and a plain HTML page that presents it.
//!
//! Written by hand next to the routes (rather than generated) to keep the build lean; the
//! access test walks every path of this document, so a route missing here is noticed.

use axum::Json;
use axum::Router;
use axum::response::Html;
use axum::routing::get;
use serde_json::{Value, json};

use crate::app::App;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/openapi.json", get(document))
        .route("/docs", get(page))
}

async fn document() -> Json<Value> {
    Json(spec())
}

fn problem_responses(extra: &[(&str, &str)]) -> Value {
    let mut m = serde_json::Map::new();
    for (code, desc) in [
        ("401", "Authentification requise"),
        (
            "404",
            "Introuvable (ou non autorisé : l'existence n'est jamais révélée)",
        ),
    ]
    .iter()
    .chain(extra.iter())
    {
        m.insert((*code).into(), json!({ "description": desc, "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } }));
    }
    Value::Object(m)
}

fn ok(schema: Value, status: &str, extra: &[(&str, &str)]) -> Value {
    let mut r = problem_responses(extra);
    if let Value::Object(m) = &mut r {
        m.insert(status.into(), json!({ "description": "Succès", "content": { "application/json": { "schema": schema } } }));
    }
    r
}

fn id_param() -> Value {
    json!({ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } })
}

fn upload_body(type_required: bool) -> Value {
    let mut required = vec!["file"];
    if type_required {
        required.push("type");
    }
    json!({
        "required": true,
        "content": { "multipart/form-data": { "schema": {
            "type": "object",
            "required": required,
            "properties": {
                "file": { "type": "string", "format": "binary", "description": "PDF, JPEG, PNG ou WebP selon le type" },
                "type": { "type": "string", "description": "code du type de pièce du référentiel" },
                "subject": { "type": "string", "description": "id d'un membre du foyer ; absent pour soi-même" },
                "title": { "type": "string" },
                "valid_until": { "type": "string", "format": "date", "description": "date de fin imprimée, pour les types « printed-date »" },
                "issued_on": { "type": "string", "format": "date", "description": "date d'émission, à partir de laquelle la durée de validité court" },
                "metadata": { "type": "string", "description": "objet JSON" }
            }
        } } }
    })
}

fn binary_ok() -> Value {
    let mut r = problem_responses(&[]);
    if let Value::Object(m) = &mut r {
        m.insert("200".into(), json!({ "description": "Le fichier original (en pièce jointe)", "content": { "application/octet-stream": { "schema": { "type": "string", "format": "binary" } } } }));
    }
    r
}

/// The document itself.
pub fn spec() -> Value {
    let doc = json!({ "$ref": "#/components/schemas/Document" });
    let upload_errors: &[(&str, &str)] = &[
        ("400", "Requête invalide"),
        ("413", "Fichier trop volumineux"),
        ("415", "Format non accepté"),
        (
            "422",
            "Fichier refusé (contenu actif, chiffré, illisible...)",
        ),
        ("503", "Antivirus indisponible"),
        ("507", "Stockage plein"),
    ];
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Liasse",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Porte-documents citoyen d'une collectivité. Authentification : `Authorization: Bearer <jeton>` (créé par `liasse token create`) ou cookie de session (POST /api/v1/session) avec l'en-tête `X-CSRF-Token` sur les requêtes qui modifient. Erreurs : application/problem+json avec un `type` stable."
        },
        "servers": [{ "url": "/api/v1" }],
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "schemas": {
                "Problem": { "type": "object", "required": ["type", "title", "status", "detail"], "properties": {
                    "type": { "type": "string" }, "title": { "type": "string" }, "status": { "type": "integer" }, "detail": { "type": "string" } } },
                "Version": { "type": "object", "properties": {
                    "version": { "type": "integer" }, "size": { "type": "integer" }, "media_type": { "type": "string" },
                    "sha256": { "type": "string" }, "file_name": { "type": "string" }, "created_at": { "type": "string" }, "destroyed": { "type": "boolean" } } },
                "Document": { "type": "object", "required": ["id", "type", "state", "version", "sha256"], "properties": {
                    "id": { "type": "string" }, "type": { "type": "string" }, "type_label": { "type": "string" }, "domain": { "type": "string" },
                    "subject": { "type": ["string", "null"] }, "title": { "type": ["string", "null"] }, "file_name": { "type": "string" },
                    "state": { "type": "string", "enum": ["submitted", "validated", "rejected", "certified", "expired"] },
                    "review_state": { "type": "string" }, "review_reason": { "type": ["string", "null"] },
                    "valid_until": { "type": ["string", "null"], "format": "date" }, "expired": { "type": "boolean" },
                    "channel": { "type": "string" }, "origin": { "type": "string" }, "version": { "type": "integer" },
                    "size": { "type": "integer" }, "media_type": { "type": "string" }, "sha256": { "type": "string" },
                    "metadata": { "type": "object" }, "created_at": { "type": "string" }, "updated_at": { "type": "string" },
                    "versions": { "type": "array", "items": { "$ref": "#/components/schemas/Version" } } } },
                "DocumentType": { "type": "object", "required": ["code", "label", "domain", "validity"], "properties": {
                    "code": { "type": "string" }, "label": { "type": "string" }, "domain": { "type": "string" },
                    "validity": { "type": "string", "description": "unlimited, end-of-year, end-of-school-year, printed-date ou durée ISO 8601 (P3M, P10Y)" },
                    "reusable": { "type": "boolean" }, "retention": { "type": "string" }, "disposal": { "type": "string", "enum": ["delete", "keep"] },
                    "disposal_notice_days": { "type": "integer" }, "keep_allowed": { "type": "boolean" },
                    "formats": { "type": "array", "items": { "type": "string", "enum": ["pdf", "jpeg", "png", "webp"] } },
                    "max_size": { "type": "integer" }, "review_required": { "type": "boolean" },
                    "depositors": { "type": "array", "items": { "type": "string", "enum": ["citizen", "agent", "provider"] } },
                    "description": { "type": "string" } } },
                "JournalItem": { "type": "object", "properties": {
                    "seq": { "type": "integer" }, "at": { "type": "string" }, "actor_kind": { "type": "string" }, "actor_name": { "type": "string" },
                    "actor_service": { "type": "string" }, "action": { "type": "string" }, "object_kind": { "type": "string" }, "object_id": { "type": "string" },
                    "basis_kind": { "type": "string" }, "basis_id": { "type": "string" }, "details": {}, "hash": { "type": "string" } } },
                "Member": { "type": "object", "properties": {
                    "id": { "type": "string" }, "name": { "type": "string" }, "birth_date": { "type": ["string", "null"] }, "relation": { "type": "string" }, "created_at": { "type": "integer" } } },
                "Check": { "type": "object", "properties": {
                    "id": { "type": "string" }, "version": { "type": "integer" }, "intact": { "type": "boolean" },
                    "sha256_expected": { "type": "string" }, "sha256_actual": { "type": ["string", "null"] } } }
            }
        },
        "security": [{ "bearer": [] }],
        "paths": {
            "/documents": {
                "get": { "summary": "Mon porte-documents", "parameters": [
                    { "name": "type", "in": "query", "schema": { "type": "string" } },
                    { "name": "state", "in": "query", "schema": { "type": "string" } },
                    { "name": "subject", "in": "query", "schema": { "type": "string" }, "description": "self ou id d'un membre du foyer" },
                    { "name": "valid_on", "in": "query", "schema": { "type": "string", "format": "date" } }
                ], "responses": ok(json!({ "type": "array", "items": doc }), "200", &[("400", "Filtre invalide")]) },
                "post": { "summary": "Déposer une pièce", "requestBody": upload_body(true), "responses": ok(doc.clone(), "201", upload_errors) }
            },
            "/documents/count": {
                "get": { "summary": "Nombre de pièces de mon porte-documents", "responses": ok(json!({ "type": "object", "properties": { "count": { "type": "integer" } } }), "200", &[]) }
            },
            "/documents/{id}": {
                "parameters": [id_param()],
                "get": { "summary": "Une pièce, ses métadonnées techniques et ses versions", "responses": ok(doc.clone(), "200", &[]) },
                "delete": { "summary": "Supprimer une pièce (la clé est détruite, une trace reste au journal)", "responses": { "204": { "description": "Supprimée" }, "401": { "description": "Authentification requise" }, "404": { "description": "Introuvable" } } }
            },
            "/documents/{id}/content": {
                "parameters": [id_param(), { "name": "version", "in": "query", "schema": { "type": "integer" } }],
                "get": { "summary": "Télécharger le fichier (version courante ou ?version=N)", "responses": binary_ok() },
                "put": { "summary": "Remplacer par une nouvelle version", "requestBody": upload_body(false), "responses": ok(doc.clone(), "200", upload_errors) }
            },
            "/documents/{id}/versions/{version}/content": {
                "parameters": [id_param(), { "name": "version", "in": "path", "required": true, "schema": { "type": "integer" } }],
                "get": { "summary": "Télécharger une version", "responses": binary_ok() }
            },
            "/documents/{id}/check": {
                "parameters": [id_param()],
                "post": { "summary": "Contrôler l'intégrité d'une pièce", "responses": ok(json!({ "$ref": "#/components/schemas/Check" }), "200", &[]) }
            },
            "/document-types": {
                "get": { "summary": "Référentiel des types de pièces", "responses": ok(json!({ "type": "array", "items": { "$ref": "#/components/schemas/DocumentType" } }), "200", &[]) }
            },
            "/document-types/{code}": {
                "parameters": [{ "name": "code", "in": "path", "required": true, "schema": { "type": "string" } }],
                "get": { "summary": "Un type de pièce", "responses": ok(json!({ "$ref": "#/components/schemas/DocumentType" }), "200", &[]) },
                "put": { "summary": "Créer ou modifier un type (administrateur)", "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/DocumentType" } } } },
                         "responses": ok(json!({ "$ref": "#/components/schemas/DocumentType" }), "200", &[("201", "Créé"), ("400", "Définition invalide"), ("403", "Réservé aux administrateurs")]) },
                "delete": { "summary": "Retirer un type du référentiel (administrateur)", "responses": { "204": { "description": "Retiré" }, "403": { "description": "Réservé aux administrateurs" }, "404": { "description": "Introuvable" } } }
            },
            "/household-members": {
                "get": { "summary": "Les membres de mon foyer", "responses": ok(json!({ "type": "array", "items": { "$ref": "#/components/schemas/Member" } }), "200", &[]) },
                "post": { "summary": "Déclarer un membre du foyer", "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["name", "relation"], "properties": {
                    "name": { "type": "string" }, "birth_date": { "type": "string", "format": "date" }, "relation": { "type": "string" } } } } } },
                          "responses": ok(json!({ "$ref": "#/components/schemas/Member" }), "201", &[("400", "Requête invalide")]) }
            },
            "/household-members/{id}": {
                "parameters": [id_param()],
                "delete": { "summary": "Retirer un membre du foyer", "responses": { "204": { "description": "Retiré" }, "404": { "description": "Introuvable" } } }
            },
            "/journal": {
                "get": { "summary": "Qui a fait quoi sur mon compte et mes pièces", "responses": ok(json!({ "type": "array", "items": { "$ref": "#/components/schemas/JournalItem" } }), "200", &[]) }
            },
            "/export": {
                "get": { "summary": "Tout emporter : ZIP des originaux, manifest.json, journal", "responses": { "200": { "description": "Archive ZIP", "content": { "application/zip": { "schema": { "type": "string", "format": "binary" } } } }, "401": { "description": "Authentification requise" }, "403": { "description": "Réservé aux usagers" } } }
            },
            "/session": {
                "post": { "summary": "Connexion par mot de passe", "security": [], "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["tenant", "login", "password"], "properties": {
                    "tenant": { "type": "string" }, "login": { "type": "string" }, "password": { "type": "string" } } } } } },
                          "responses": { "200": { "description": "Session ouverte (cookie __Host-liasse) et jeton CSRF" }, "401": { "description": "Identifiants incorrects" }, "429": { "description": "Trop de tentatives" } } },
                "delete": { "summary": "Déconnexion", "responses": { "204": { "description": "Session fermée" }, "401": { "description": "Authentification requise" } } }
            }
        }
    })
}

/// A readable page of the API for people who integrate Liasse (no script, no external asset).
async fn page() -> Html<String> {
    let spec = spec();
    let mut rows = String::new();
    if let Some(paths) = spec["paths"].as_object() {
        for (path, ops) in paths {
            if let Some(ops) = ops.as_object() {
                for (method, op) in ops {
                    if method == "parameters" {
                        continue;
                    }
                    rows.push_str(&format!(
                        "<tr><td><code>{}</code></td><td><code>/api/v1{}</code></td><td>{}</td></tr>\n",
                        method.to_uppercase(),
                        html_escape(path),
                        html_escape(op["summary"].as_str().unwrap_or_default())
                    ));
                }
            }
        }
    }
    Html(format!(
        "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>API Liasse</title></head><body><main><h1>API de Liasse</h1>\
         <p>Le document OpenAPI complet : <a href=\"/api/v1/openapi.json\">/api/v1/openapi.json</a>. {}</p>\
         <table><thead><tr><th>Méthode</th><th>Chemin</th><th>Rôle</th></tr></thead><tbody>{rows}</tbody></table></main></body></html>",
        html_escape(spec["info"]["description"].as_str().unwrap_or_default())
    ))
}

pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

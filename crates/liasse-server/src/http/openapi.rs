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
                "AgentDocument": { "allOf": [{ "$ref": "#/components/schemas/Document" }, { "type": "object", "properties": { "basis": { "type": "object", "properties": { "kind": { "type": "string", "enum": ["owner", "request", "grant", "deposit"] }, "id": { "type": "string" } } } } }] },
                "Grant": { "type": "object", "properties": {
                    "id": { "type": "string" }, "citizen_id": { "type": "string" }, "grantee_kind": { "type": "string", "enum": ["domain", "client"] }, "grantee": { "type": "string" },
                    "scope_kind": { "type": "string", "enum": ["documents", "types"] }, "scope": { "type": "array", "items": { "type": "string" } }, "purpose": { "type": "string" },
                    "valid_until": { "type": "string" }, "created_at": { "type": "integer" }, "revoked_at": { "type": ["integer", "null"] },
                    "status": { "type": "string", "enum": ["active", "revoked", "expired"] }, "uses": { "type": "array", "items": { "type": "object" } } } },
                "Request": { "type": "object", "properties": {
                    "id": { "type": "string" }, "number": { "type": "string" }, "procedure": { "type": "string" }, "procedure_title": { "type": "string" }, "domain": { "type": "string" },
                    "citizen_id": { "type": "string" }, "state": { "type": "string", "enum": ["draft", "submitted", "in_progress", "completed", "rejected", "closed"] },
                    "answers": { "type": "object" }, "members": { "type": "array", "items": { "type": "string" } },
                    "requirements": { "type": "array", "items": { "type": "object" } }, "missing": { "type": "array", "items": { "type": "string" } },
                    "notes": { "type": "array", "items": { "type": "object" } }, "history": { "type": "array", "items": { "type": "object" } },
                    "lock_holder": { "type": ["string", "null"] }, "created_at": { "type": "string" }, "submitted_at": { "type": ["string", "null"] },
                    "late": { "type": "boolean" }, "tracking_code": { "type": "string" } } },
                "Preferences": { "type": "object", "properties": {
                    "channels": { "type": "object", "properties": { "email": { "type": "boolean" }, "sms": { "type": "boolean" }, "in_app": { "type": "boolean" } } },
                    "optional": { "type": "boolean" }, "digest": { "type": "boolean" }, "email": { "type": ["string", "null"] },
                    "phone": { "type": ["string", "null"] }, "account_email": { "type": ["string", "null"] } } },
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
            "/documents/{id}/keep": {
                "parameters": [id_param()],
                "post": { "summary": "Conserver une pièce au-delà de sa durée de conservation (si son type le permet)", "responses": ok(json!({ "type": "object", "properties": { "id": { "type": "string" }, "kept": { "type": "boolean" } } }), "200", &[("400", "Ce type de pièce ne peut pas être conservé")]) }
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
            "/citizens/{id}/documents": {
                "parameters": [id_param()],
                "get": { "summary": "Vue agent : les pièces d'un usager qu'une base autorise, chacune avec sa base", "parameters": [{ "name": "type", "in": "query", "schema": { "type": "string" } }], "responses": ok(json!({ "type": "array", "items": { "$ref": "#/components/schemas/AgentDocument" } }), "200", &[("403", "Réservé aux agents et services")]) },
                "post": { "summary": "Dépôt par la collectivité ou un service (courrier, document généré, dépôt au guichet ou par courrier, document certifié d'un émetteur)", "requestBody": upload_body(false), "responses": ok(doc.clone(), "201", upload_errors) }
            },
            "/documents/{id}/review": {
                "parameters": [id_param()],
                "post": { "summary": "Valider ou refuser une pièce (agent avec droit de modification sur une base)", "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["decision"], "properties": {
                    "decision": { "type": "string", "enum": ["validated", "rejected"] }, "reason": { "type": "string" }, "valid_until": { "type": "string", "format": "date" } } } } } },
                          "responses": ok(doc.clone(), "200", &[("400", "Requête invalide"), ("409", "Document certifié")]) }
            },
            "/documents/{id}/uses": {
                "parameters": [id_param()],
                "post": { "summary": "Service partenaire : noter qu'une pièce lue (base : partage ou demande) est jointe à un dossier de son logiciel", "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["case"], "properties": { "case": { "type": "string" } } } } } },
                          "responses": { "204": { "description": "Noté au journal de l'usager" }, "400": { "description": "Référence invalide" }, "404": { "description": "Introuvable" } } }
            },
            "/dashboard": {
                "get": { "summary": "Tableau de bord de l'agent : nouvelles, les miennes, en retard, urgentes", "responses": ok(json!({ "type": "object" }), "200", &[("403", "Réservé aux agents")]) }
            },
            "/search/requests": {
                "get": { "summary": "Rechercher des demandes (nom de l'usager ou d'un membre du foyer, numéro, dates, démarche, état)", "parameters": [
                    { "name": "q", "in": "query", "schema": { "type": "string" } }, { "name": "state", "in": "query", "schema": { "type": "string" } },
                    { "name": "procedure", "in": "query", "schema": { "type": "string" } }, { "name": "from", "in": "query", "schema": { "type": "string", "format": "date" } },
                    { "name": "to", "in": "query", "schema": { "type": "string", "format": "date" } }],
                         "responses": ok(json!({ "type": "array", "items": { "type": "object" } }), "200", &[("403", "Réservé aux agents")]) }
            },
            "/statistics": {
                "get": { "summary": "Statistiques par démarche et état (responsables), ?format=csv pour un export", "parameters": [{ "name": "format", "in": "query", "schema": { "type": "string", "enum": ["json", "csv"] } }],
                         "responses": ok(json!({ "type": "array", "items": { "type": "object" } }), "200", &[("403", "Réservé aux responsables")]) }
            },
            "/grants": {
                "get": { "summary": "Mes partages et ce à quoi chacun a servi", "responses": ok(json!({ "type": "array", "items": { "$ref": "#/components/schemas/Grant" } }), "200", &[("403", "Réservé aux usagers")]) },
                "post": { "summary": "Partager des pièces ou des types de pièces avec un domaine ou un service, pour un objet, jusqu'à une date", "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["purpose", "until"], "properties": {
                    "domain": { "type": "string" }, "client": { "type": "string" }, "documents": { "type": "array", "items": { "type": "string" } }, "types": { "type": "array", "items": { "type": "string" } },
                    "purpose": { "type": "string" }, "until": { "type": "string", "format": "date" } } } } } },
                          "responses": ok(json!({ "$ref": "#/components/schemas/Grant" }), "201", &[("400", "Requête invalide"), ("403", "Réservé aux usagers")]) }
            },
            "/grants/{id}": {
                "parameters": [id_param()],
                "delete": { "summary": "Révoquer un partage (effet immédiat)", "responses": { "204": { "description": "Révoqué" }, "404": { "description": "Introuvable" } } }
            },
            "/notifications": {
                "get": { "summary": "Mes notifications et le nombre de non lues", "responses": ok(json!({ "type": "object", "properties": { "unread": { "type": "integer" }, "items": { "type": "array", "items": { "type": "object" } } } }), "200", &[]) }
            },
            "/notifications/{id}/read": {
                "parameters": [id_param()],
                "post": { "summary": "Marquer une notification comme lue", "responses": { "204": { "description": "Lue" }, "404": { "description": "Introuvable" } } }
            },
            "/preferences": {
                "get": { "summary": "Mes préférences de notification (canaux, avis facultatifs, récapitulatif quotidien)", "responses": ok(json!({ "$ref": "#/components/schemas/Preferences" }), "200", &[]) },
                "put": { "summary": "Changer mes préférences de notification (les champs absents restent inchangés ; les avis de suppression sont toujours envoyés)", "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "properties": {
                    "channels": { "type": "object", "properties": { "email": { "type": "boolean" }, "sms": { "type": "boolean" }, "in_app": { "type": "boolean" } } },
                    "optional": { "type": "boolean", "description": "recevoir les rappels facultatifs (fin de validité)" },
                    "digest": { "type": "boolean", "description": "agents : un courriel récapitulatif par jour" },
                    "email": { "type": "string", "description": "adresse des avis ; vide : celle du compte" },
                    "phone": { "type": "string", "description": "mobile pour les SMS, +33612345678 ; vide : aucun" } } } } } },
                         "responses": ok(json!({ "$ref": "#/components/schemas/Preferences" }), "200", &[("400", "Préférence invalide")]) }
            },
            "/deliveries": {
                "get": { "summary": "Mes courriels et SMS et leur état d'envoi (administrateur : les envois en attente ou en échec de la collectivité, sans leur contenu)", "responses": ok(json!({ "type": "array", "items": { "type": "object", "properties": {
                    "id": { "type": "string" }, "channel": { "type": "string", "enum": ["email", "sms"] }, "subject": { "type": "string" }, "address": { "type": "string" },
                    "state": { "type": "string", "enum": ["pending", "sending", "sent", "failed", "held", "digested"] }, "attempts": { "type": "integer" },
                    "last_error": { "type": ["string", "null"] }, "created_at": { "type": "string" }, "sent_at": { "type": ["string", "null"] } } } }), "200", &[]) }
            },
            "/providers": {
                "get": { "summary": "Les services partenaires et émetteurs de documents certifiés", "responses": ok(json!({ "type": "array", "items": { "type": "object", "properties": { "id": { "type": "string" }, "name": { "type": "string" }, "service": { "type": "string" } } } }), "200", &[]) }
            },
            "/providers/{id}/consent": {
                "parameters": [id_param()],
                "put": { "summary": "Accepter les documents certifiés de cet émetteur", "responses": { "204": { "description": "Accepté" }, "403": { "description": "Réservé aux usagers" }, "404": { "description": "Introuvable" } } },
                "delete": { "summary": "Retirer ce consentement", "responses": { "204": { "description": "Retiré" }, "403": { "description": "Réservé aux usagers" }, "404": { "description": "Introuvable" } } }
            },
            "/procedures": {
                "get": { "summary": "Les démarches de la collectivité et leurs justificatifs attendus", "responses": ok(json!({ "type": "array", "items": { "type": "object" } }), "200", &[]) }
            },
            "/procedures/{code}": {
                "parameters": [{ "name": "code", "in": "path", "required": true, "schema": { "type": "string" } }],
                "put": { "summary": "Créer ou modifier une démarche (administrateur, ou responsable du domaine)", "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["title", "domain", "requirements"], "properties": {
                    "title": { "type": "string" }, "domain": { "type": "string" }, "description": { "type": "string" },
                    "questions": { "type": "object", "additionalProperties": { "type": "string", "enum": ["number", "boolean", "string", "date"] } },
                    "requirements": { "type": "array", "items": { "type": "object", "required": ["key", "type"], "properties": {
                        "key": { "type": "string" }, "type": { "type": "string" }, "mandatory": { "type": "boolean" }, "for": { "type": "string", "enum": ["citizen", "each_member"] },
                        "label": { "type": "string" }, "condition": { "type": "string", "description": "ex. answers.children >= 1 && answers.owner == false" } } } },
                    "processing_days": { "type": "integer" }, "reminder_days": { "type": "integer" }, "open": { "type": "boolean" } } } } } },
                         "responses": ok(json!({ "type": "object" }), "200", &[("201", "Créée"), ("400", "Définition invalide"), ("403", "Non autorisé")]) }
            },
            "/requests": {
                "get": { "summary": "Mes demandes (usager) ou les demandes de mes domaines (agent)", "responses": ok(json!({ "type": "array", "items": { "type": "object" } }), "200", &[("403", "Non autorisé")]) },
                "post": { "summary": "Commencer une demande (brouillon)", "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["procedure"], "properties": {
                    "procedure": { "type": "string" }, "answers": { "type": "object" }, "members": { "type": "array", "items": { "type": "string" } } } } } } },
                          "responses": ok(json!({ "$ref": "#/components/schemas/Request" }), "201", &[("400", "Requête invalide"), ("403", "Réservé aux usagers")]) }
            },
            "/requests/{id}": {
                "parameters": [id_param()],
                "get": { "summary": "Une demande : justificatifs attendus, état, pièces proposées du porte-documents", "responses": ok(json!({ "$ref": "#/components/schemas/Request" }), "200", &[]) },
                "patch": { "summary": "Enregistrer le brouillon (réponses, personnes concernées)", "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "properties": { "answers": { "type": "object" }, "members": { "type": "array", "items": { "type": "string" } } } } } } },
                           "responses": ok(json!({ "$ref": "#/components/schemas/Request" }), "200", &[("400", "Requête invalide"), ("409", "Déjà envoyée")]) }
            },
            "/requests/{id}/attachments/{requirement}": {
                "parameters": [id_param(), { "name": "requirement", "in": "path", "required": true, "schema": { "type": "string" } }],
                "put": { "summary": "Joindre une pièce du porte-documents", "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["document"], "properties": { "document": { "type": "string" } } } } } },
                         "responses": ok(json!({ "$ref": "#/components/schemas/Request" }), "200", &[("400", "Pièce inadaptée"), ("409", "Demande terminée")]) },
                "post": { "summary": "Déposer une nouvelle pièce pour ce justificatif (elle rejoint le porte-documents, typée)", "requestBody": upload_body(false), "responses": ok(json!({ "$ref": "#/components/schemas/Request" }), "201", upload_errors) },
                "delete": { "summary": "Retirer la pièce de la demande (elle reste dans le porte-documents)", "responses": ok(json!({ "$ref": "#/components/schemas/Request" }), "200", &[("409", "Demande terminée")]) }
            },
            "/requests/{id}/transitions": {
                "parameters": [id_param()],
                "post": { "summary": "Changer l'état : submitted (usager), in_progress, completed, rejected, closed (agent)", "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["to"], "properties": {
                    "to": { "type": "string", "enum": ["submitted", "in_progress", "completed", "rejected", "closed"] }, "reason": { "type": "string" } } } } } },
                          "responses": ok(json!({ "$ref": "#/components/schemas/Request" }), "200", &[("400", "Justificatifs manquants"), ("403", "Non autorisé"), ("409", "Transition impossible ou demande verrouillée")]) }
            },
            "/requests/{id}/lock": {
                "parameters": [id_param()],
                "post": { "summary": "Prendre le verrou (ou le forcer : responsable, {\"break\": true})", "responses": ok(json!({ "$ref": "#/components/schemas/Request" }), "200", &[("403", "Non autorisé"), ("409", "Verrouillée par un autre agent")]) },
                "delete": { "summary": "Rendre le verrou", "responses": ok(json!({ "$ref": "#/components/schemas/Request" }), "200", &[("409", "Verrou non détenu")]) }
            },
            "/requests/{id}/notes": {
                "parameters": [id_param()],
                "post": { "summary": "Ajouter une note interne ou visible de l'usager", "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["body"], "properties": { "body": { "type": "string" }, "visible": { "type": "boolean" } } } } } },
                          "responses": ok(json!({ "$ref": "#/components/schemas/Request" }), "200", &[("400", "Note invalide"), ("403", "Non autorisé"), ("409", "Verrouillée")]) }
            },
            "/requests/{id}/letters": {
                "parameters": [id_param()],
                "post": { "summary": "Écrire à l'usager depuis un modèle (PDF déposé dans son porte-documents)", "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["template"], "properties": {
                    "template": { "type": "string", "enum": ["accuse-reception", "demande-acceptee", "demande-refusee", "libre"] }, "text": { "type": "string" }, "subject": { "type": "string" } } } } } },
                          "responses": ok(doc.clone(), "201", &[("400", "Modèle inconnu"), ("403", "Non autorisé")]) }
            },
            "/tracking/{code}": {
                "parameters": [{ "name": "code", "in": "path", "required": true, "schema": { "type": "string" } }],
                "get": { "summary": "Suivre une demande avec son code de suivi, sans compte", "security": [], "responses": { "200": { "description": "État de la demande (sans donnée personnelle)" }, "404": { "description": "Code inconnu" } } }
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

//! The OpenAPI 3.1 document of the API, and a plain HTML page that presents it.
//!
//! Written by hand next to the routes (rather than generated) to keep the build lean; the
//! access test walks every path of this document, so a route missing here is noticed, and
//! `scripts/api-fuzz.sh` (schemathesis) checks every answer of the server against it: each
//! operation lists every status it can answer, errors included.

mod parts;

use parts::*;

use axum::Json;
use axum::Router;
use axum::response::Html;
use axum::routing::get;
use serde_json::{Map, Value, json};

use liasse_app::app::App;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/openapi.json", get(document))
        .route("/docs", get(page))
}

async fn document() -> Json<Value> {
    Json(spec())
}

/// The document itself.
pub fn spec() -> Value {
    let doc = json!({ "$ref": "#/components/schemas/Document" });
    let request = json!({ "$ref": "#/components/schemas/Request" });
    let doc_type = json!({ "$ref": "#/components/schemas/DocumentType" });
    let upload_and_404: Vec<&str> = UPLOAD_PROBLEMS.iter().copied().chain(["404"]).collect();
    let upload_403_404: Vec<&str> = UPLOAD_PROBLEMS
        .iter()
        .copied()
        .chain(["403", "404"])
        .collect();
    let mut document_types_put = with_json_body(
        op(
            "Créer (201) ou modifier (200) un type (administrateur)",
            "200",
            doc_type.clone(),
            &["201:Créé", "400", "403:Réservé aux administrateurs"],
        ),
        json!({ "$ref": "#/components/schemas/DocumentTypeInput" }),
    );
    document_types_put["responses"]["201"] = json!({ "description": "Créé", "content": { "application/json": { "schema": doc_type.clone() } } });
    let mut document_types_post = document_types_put.clone();
    document_types_post["summary"] =
        json!("Comme PUT : créer (201) ou modifier (200) un type (administrateur)");
    let mut procedure_put = with_json_body(
        op(
            "Créer (201) ou modifier (200) une démarche (administrateur, ou responsable du domaine)",
            "200",
            json!({ "$ref": "#/components/schemas/Procedure" }),
            &["400", "403"],
        ),
        json!({ "$ref": "#/components/schemas/ProcedureInput" }),
    );
    procedure_put["responses"]["201"] = json!({ "description": "Créée", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Procedure" } } } });
    let mut statistics = op(
        "Statistiques par démarche et état (responsables), ?format=csv pour un export",
        "200",
        json!({ "type": "array", "items": { "type": "object", "properties": {
            "procedure": { "type": "string" }, "state": { "type": "string" }, "count": { "type": "integer" } } } }),
        &["400", "403:Réservé aux responsables"],
    );
    statistics["parameters"] = json!([{ "name": "format", "in": "query", "schema": { "type": "string", "enum": ["json", "csv"] }, "description": "json (par défaut) ou csv" }]);
    statistics["responses"]["200"]["content"]["text/csv"] =
        json!({ "schema": { "type": "string" } });
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Liasse",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Porte-documents citoyen d'une collectivité. Authentification : `Authorization: Bearer <jeton>` (créé par `liasse token create`) ou cookie de session (POST /api/v1/session) avec l'en-tête `X-CSRF-Token` sur les requêtes qui modifient. Erreurs : application/problem+json avec un `type` stable (https://liasse.fr/problems/CODE) et un `detail` en français ; une requête refusée ne change rien. Un service partenaire ne voit jamais l'identifiant interne d'un usager : il le connaît par un identifiant pseudonyme qui lui est propre (`pw_…`, et `pwm_…` pour un membre du foyer), stable, différent de celui d'un autre service, dans toutes ses réponses et adresses."
        },
        "servers": [{ "url": "/api/v1" }],
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "schemas": {
                "Problem": { "type": "object", "required": ["type", "title", "status", "detail"], "properties": {
                    "type": { "type": "string", "pattern": "^https://liasse\\.fr/problems/[a-z0-9-]+$" }, "title": { "type": "string" },
                    "status": { "type": "integer" }, "detail": { "type": "string" } } },
                "Version": { "type": "object", "properties": {
                    "version": { "type": "integer" }, "size": { "type": "integer" }, "media_type": { "type": "string" },
                    "digest": { "type": "string", "description": "keyed fingerprint hmac-sha256:<hex> under the version's own key (not a plain SHA-256)" }, "file_name": { "type": "string" }, "created_at": { "type": "string" }, "destroyed": { "type": "boolean" } } },
                "Document": { "type": "object", "required": ["id", "type", "state", "version", "digest"], "properties": {
                    "id": { "type": "string" }, "type": { "type": "string" }, "type_label": { "type": "string" }, "domain": { "type": "string" },
                    "subject": { "type": ["string", "null"], "description": "null pour l'usager lui-même, ou l'id d'un membre du foyer (pour un service partenaire, son identifiant pseudonyme pwm_…)" }, "title": { "type": ["string", "null"] }, "file_name": { "type": "string" },
                    "state": { "type": "string", "enum": ["submitted", "validated", "rejected", "certified", "expired"] },
                    "review_state": { "type": "string" }, "review_reason": { "type": ["string", "null"] },
                    "valid_until": { "type": ["string", "null"], "format": "date" }, "expired": { "type": "boolean" },
                    "channel": { "type": "string" }, "origin": { "type": "string" }, "version": { "type": "integer" },
                    "size": { "type": "integer" }, "media_type": { "type": "string" }, "digest": { "type": "string", "description": "keyed fingerprint hmac-sha256:<hex> under the version's own key (not a plain SHA-256)" },
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
                "DocumentTypeInput": { "type": "object", "additionalProperties": false, "required": ["label", "domain", "validity"],
                    "description": "Un type de pièce ; le code vient de l'adresse (s'il est dans le corps, il doit être le même)", "properties": {
                    "code": { "type": "string" }, "label": { "type": "string" }, "domain": { "type": "string" },
                    "validity": { "type": "string", "description": "unlimited, end-of-year, end-of-school-year, printed-date ou durée ISO 8601 (P3M, P10Y)" },
                    "reusable": { "type": "boolean" }, "retention": { "type": "string", "description": "durée ISO 8601" },
                    "disposal": { "type": "string", "enum": ["delete", "keep"] },
                    "disposal_notice_days": { "type": "integer", "minimum": 0, "maximum": 4_294_967_295_u64 }, "keep_allowed": { "type": "boolean" },
                    "formats": { "type": "array", "items": { "type": "string" }, "description": "parmi pdf, jpeg, png, webp" },
                    "max_size": { "type": "integer", "minimum": 0 }, "review_required": { "type": "boolean" },
                    "depositors": { "type": "array", "items": { "type": "string", "enum": ["citizen", "agent", "provider"] } },
                    "description": { "type": "string" } } },
                "Procedure": { "type": "object", "properties": {
                    "code": { "type": "string" }, "title": { "type": "string" }, "domain": { "type": "string" }, "description": { "type": "string" },
                    "requirements": { "type": "array", "items": { "type": "object" } }, "questions": { "type": "object" },
                    "processing_days": { "type": "integer" }, "reminder_days": { "type": "integer" }, "open": { "type": "boolean" } } },
                "ProcedureInput": { "type": "object", "additionalProperties": false, "required": ["title", "domain", "requirements"],
                    "description": "Une démarche ; le code vient de l'adresse (s'il est dans le corps, il doit être le même)", "properties": {
                    "code": { "type": "string" }, "title": { "type": "string" }, "domain": { "type": "string" }, "description": { "type": "string" },
                    "questions": { "type": "object", "additionalProperties": { "type": "string", "enum": ["number", "boolean", "string", "date"] } },
                    "requirements": { "type": "array", "items": { "type": "object", "additionalProperties": false, "required": ["key", "type"], "properties": {
                        "key": { "type": "string" }, "type": { "type": "string" }, "mandatory": { "type": "boolean" }, "for": { "type": "string", "enum": ["citizen", "each_member"] },
                        "label": { "type": ["string", "null"] }, "condition": { "type": ["string", "null"], "description": "ex. answers.children >= 1 && answers.owner == false" } } } },
                    "processing_days": { "type": "integer", "minimum": 0, "maximum": 4_294_967_295_u64 },
                    "reminder_days": { "type": "integer", "minimum": 0, "maximum": 4_294_967_295_u64 }, "open": { "type": "boolean" } } },
                "JournalItem": { "type": "object", "properties": {
                    "seq": { "type": "integer" }, "at": { "type": "string" }, "actor_kind": { "type": "string" }, "actor_name": { "type": "string" },
                    "actor_service": { "type": "string" }, "action": { "type": "string" }, "object_kind": { "type": "string" }, "object_id": { "type": "string" },
                    "basis_kind": { "type": "string" }, "basis_id": { "type": "string" }, "details": {}, "hash": { "type": "string" } } },
                "Member": { "type": "object", "properties": {
                    "id": { "type": "string" }, "name": { "type": "string" }, "birth_date": { "type": ["string", "null"] }, "relation": { "type": "string" }, "created_at": { "type": "integer" } } },
                "AgentDocument": { "allOf": [{ "$ref": "#/components/schemas/Document" }, { "type": "object", "properties": { "basis": { "type": "object", "properties": { "kind": { "type": "string", "enum": ["owner", "request", "grant", "deposit"] }, "id": { "type": "string" } } } } }] },
                "Grant": { "type": "object", "properties": {
                    "id": { "type": "string" }, "citizen_id": { "type": "string", "description": "l'usager qui partage ; pour le service partenaire qui reçoit le partage, son identifiant pseudonyme pw_… (celui des adresses /citizens/{id})" }, "grantee_kind": { "type": "string", "enum": ["domain", "client"] }, "grantee": { "type": "string" },
                    "scope_kind": { "type": "string", "enum": ["documents", "types"] }, "scope": { "type": "array", "items": { "type": "string" } }, "purpose": { "type": "string" },
                    "valid_until": { "type": "string" }, "created_at": { "type": "integer" }, "revoked_at": { "type": ["integer", "null"] },
                    "status": { "type": "string", "enum": ["active", "revoked", "expired"] }, "uses": { "type": "array", "items": { "type": "object" } } } },
                "Request": { "type": "object", "properties": {
                    "id": { "type": "string" }, "number": { "type": "string" }, "procedure": { "type": "string" }, "procedure_title": { "type": "string" }, "domain": { "type": "string" },
                    "citizen_id": { "type": "string" }, "state": { "type": "string", "enum": ["draft", "submitted", "in_progress", "complement", "completed", "rejected", "closed"] },
                    "answers": { "type": "object" }, "members": { "type": "array", "items": { "type": "string" } },
                    "requirements": { "type": "array", "items": { "type": "object" } }, "missing": { "type": "array", "items": { "type": "string" } },
                    "notes": { "type": "array", "items": { "type": "object" } }, "history": { "type": "array", "items": { "type": "object" } },
                    "lock_holder": { "type": ["string", "null"] }, "created_at": { "type": "string" }, "submitted_at": { "type": ["string", "null"] },
                    "late": { "type": "boolean" }, "tracking_code": { "type": "string" } } },
                "Tracking": { "type": "object", "required": ["number", "procedure_title", "state", "updated_at"], "properties": {
                    "number": { "type": "string" }, "procedure_title": { "type": "string" }, "state": { "type": "string" },
                    "submitted_at": { "type": ["string", "null"] }, "updated_at": { "type": "string" } } },
                "Preferences": { "type": "object", "properties": {
                    "channels": { "type": "object", "properties": { "email": { "type": "boolean" }, "sms": { "type": "boolean" }, "in_app": { "type": "boolean" } } },
                    "optional": { "type": "boolean" }, "digest": { "type": "boolean" }, "email": { "type": ["string", "null"] },
                    "phone": { "type": ["string", "null"] }, "account_email": { "type": ["string", "null"] } } },
                "Token": { "type": "object", "required": ["id", "name", "account", "login", "scopes", "created_at", "expires_at", "revoked_at", "state"], "properties": {
                    "id": { "type": "string" }, "name": { "type": "string" }, "account": { "type": "string" }, "login": { "type": "string" }, "scopes": { "type": "string" },
                    "created_at": { "type": "integer", "description": "millisecondes depuis 1970" }, "expires_at": { "type": ["integer", "null"] }, "revoked_at": { "type": ["integer", "null"] },
                    "state": { "type": "string", "enum": ["active", "expired", "revoked"] } } },
                "Check": { "type": "object", "properties": {
                    "id": { "type": "string" }, "version": { "type": "integer" }, "intact": { "type": "boolean" },
                    "digest_expected": { "type": "string" }, "digest_actual": { "type": ["string", "null"] } } }
            }
        },
        "security": [{ "bearer": [] }],
        "paths": {
            "/documents": {
                "get": {
                    "summary": "Mon porte-documents (vide pour un compte qui n'est pas un usager)",
                    "parameters": [
                        { "name": "type", "in": "query", "schema": { "type": "string" } },
                        { "name": "state", "in": "query", "schema": { "type": "string" } },
                        { "name": "subject", "in": "query", "schema": { "type": "string" }, "description": "self ou id d'un membre du foyer" },
                        date_query("valid_on", "pièces valides ce jour-là")
                    ],
                    "responses": op("", "200", json!({ "type": "array", "items": doc }), &["400"])["responses"]
                },
                "post": {
                    "summary": "Déposer une pièce (usager)", "requestBody": upload_body(true),
                    "responses": op("", "201", doc.clone(), &UPLOAD_PROBLEMS.iter().copied().chain(["403:Réservé aux usagers"]).collect::<Vec<_>>())["responses"]
                }
            },
            "/documents/count": {
                "get": {
                    "summary": "Nombre de pièces de mon porte-documents, avec les mêmes filtres",
                    "parameters": [
                        { "name": "type", "in": "query", "schema": { "type": "string" } },
                        { "name": "state", "in": "query", "schema": { "type": "string" } },
                        { "name": "subject", "in": "query", "schema": { "type": "string" } },
                        date_query("valid_on", "pièces valides ce jour-là")
                    ],
                    "responses": op("", "200", json!({ "type": "object", "required": ["count"], "properties": { "count": { "type": "integer" } } }), &["400"])["responses"]
                }
            },
            "/documents/{id}": {
                "parameters": [id_param()],
                "get": op("Une pièce, ses métadonnées techniques et ses versions", "200", doc.clone(), &["400", "404"]),
                "delete": op_no_content("Supprimer une pièce (la clé est détruite, une trace reste au journal)", "Supprimée", &["400", "404", "409"])
            },
            "/documents/{id}/content": {
                "parameters": [id_param()],
                "get": with_params(
                    download("Télécharger le fichier (version courante ou ?version=N)"),
                    json!([{ "name": "version", "in": "query", "schema": { "type": "integer" }, "description": "une version précédente ; absent : la version courante" }])
                ),
                "put": {
                    "summary": "Remplacer par une nouvelle version", "requestBody": replace_body(),
                    "responses": op("", "200", doc.clone(), &UPLOAD_PROBLEMS.iter().copied().chain(["404", "409"]).collect::<Vec<_>>())["responses"]
                }
            },
            "/documents/{id}/versions/{version}/content": {
                "parameters": [id_param(), { "name": "version", "in": "path", "required": true, "schema": { "type": "integer" } }],
                "get": download("Télécharger une version")
            },
            "/documents/{id}/keep": {
                "parameters": [id_param()],
                "post": op("Conserver une pièce au-delà de sa durée de conservation (si son type le permet)", "200",
                    json!({ "type": "object", "properties": { "id": { "type": "string" }, "kept": { "type": "boolean" } } }),
                    &["400:Requête invalide, ou ce type de pièce ne peut pas être conservé", "404"])
            },
            "/documents/{id}/check": {
                "parameters": [id_param()],
                "post": op("Contrôler l'intégrité d'une pièce", "200", json!({ "$ref": "#/components/schemas/Check" }), &["400", "404"])
            },
            "/document-types": {
                "get": op("Référentiel des types de pièces", "200", json!({ "type": "array", "items": doc_type.clone() }), &[])
            },
            "/document-types/{code}": {
                "parameters": [code_param()],
                "get": op("Un type de pièce", "200", doc_type.clone(), &["400", "404"]),
                "put": document_types_put,
                "post": document_types_post,
                "delete": op_no_content("Retirer un type du référentiel (administrateur)", "Retiré", &["400", "403:Réservé aux administrateurs", "404"])
            },
            "/household-members": {
                "get": op("Les membres de mon foyer (usager)", "200", json!({ "type": "array", "items": { "$ref": "#/components/schemas/Member" } }), &["403:Réservé aux usagers"]),
                "post": with_json_body(
                    op("Déclarer un membre du foyer (usager)", "201", json!({ "$ref": "#/components/schemas/Member" }), &["400", "403:Réservé aux usagers"]),
                    json!({ "type": "object", "additionalProperties": false, "required": ["name", "relation"], "properties": {
                        "name": { "type": "string" }, "birth_date": { "type": ["string", "null"], "format": "date" }, "relation": { "type": "string" } } }))
            },
            "/household-members/{id}": {
                "parameters": [id_param()],
                "delete": op_no_content("Retirer un membre du foyer", "Retiré", &["400", "404"])
            },
            "/citizens/{id}/documents": {
                "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" },
                    "description": "l'usager : son id pour un agent ; pour un service partenaire, son identifiant pseudonyme pw_… (lu dans GET /grants ou ses notifications), tout autre id étant introuvable" }],
                "get": {
                    "summary": "Vue agent : les pièces d'un usager qu'une base autorise, chacune avec sa base",
                    "parameters": [{ "name": "type", "in": "query", "schema": { "type": "string" } }],
                    "responses": op("", "200", json!({ "type": "array", "items": { "$ref": "#/components/schemas/AgentDocument" } }), &["400", "403:Réservé aux agents et services", "404"])["responses"]
                },
                "post": {
                    "summary": "Dépôt par la collectivité ou un service (courrier, document généré, dépôt au guichet ou par courrier avec plusieurs pages `file`, document certifié d'un émetteur)",
                    "requestBody": upload_body(false),
                    "responses": op("", "201", doc.clone(), &upload_403_404)["responses"]
                }
            },
            "/documents/{id}/review": {
                "parameters": [id_param()],
                "post": with_json_body(
                    op("Valider ou refuser une pièce (agent avec droit de modification sur une base)", "200", doc.clone(), &["400", "403", "404", "409:Document certifié, ou déjà examiné"]),
                    json!({ "type": "object", "additionalProperties": false, "required": ["decision"], "properties": {
                        "decision": { "type": "string", "enum": ["validated", "rejected"] }, "reason": nullable("string"),
                        "valid_until": { "type": ["string", "null"], "format": "date" } } }))
            },
            "/documents/{id}/uses": {
                "parameters": [id_param()],
                "post": with_json_body(
                    op_no_content("Service partenaire : noter qu'une pièce lue (base : partage ou demande) est jointe à un dossier de son logiciel", "Noté au journal de l'usager", &["400", "404"]),
                    json!({ "type": "object", "additionalProperties": false, "required": ["case"], "properties": { "case": { "type": "string" } } }))
            },
            "/dashboard": {
                "get": op("Tableau de bord de l'agent : nouvelles, les miennes, en retard, urgentes", "200", json!({ "type": "object" }), &["403:Réservé aux agents"])
            },
            "/search/requests": {
                "get": {
                    "summary": "Rechercher des demandes (nom de l'usager ou d'un membre du foyer, numéro, dates, démarche, état)",
                    "parameters": [
                        { "name": "q", "in": "query", "schema": { "type": "string" } }, { "name": "state", "in": "query", "schema": { "type": "string" } },
                        { "name": "procedure", "in": "query", "schema": { "type": "string" } },
                        date_query("from", "envoyées ce jour-là ou après"), date_query("to", "envoyées ce jour-là ou avant")
                    ],
                    "responses": op("", "200", json!({ "type": "array", "items": { "type": "object" } }), &["400", "403:Réservé aux agents"])["responses"]
                }
            },
            "/statistics": { "get": statistics },
            "/grants": {
                "get": op("Mes partages et ce à quoi chacun a servi ; pour un service partenaire, les partages que des usagers lui ont donnés, chacun avec l'identifiant pseudonyme de l'usager", "200", json!({ "type": "array", "items": { "$ref": "#/components/schemas/Grant" } }), &["403:Réservé aux usagers et aux services partenaires"]),
                "post": with_json_body(
                    op("Partager des pièces ou des types de pièces avec un domaine ou un service, pour un objet, jusqu'à une date", "201", json!({ "$ref": "#/components/schemas/Grant" }), &["400", "403:Réservé aux usagers"]),
                    json!({ "type": "object", "additionalProperties": false, "required": ["purpose", "until"], "properties": {
                        "domain": nullable("string"), "client": nullable("string"), "documents": { "type": "array", "items": { "type": "string" } },
                        "types": { "type": "array", "items": { "type": "string" } }, "purpose": { "type": "string" }, "until": { "type": "string", "format": "date" } } }))
            },
            "/grants/{id}": {
                "parameters": [id_param()],
                "delete": op_no_content("Révoquer un partage (effet immédiat)", "Révoqué", &["400", "404"])
            },
            "/notifications": {
                "get": op("Mes notifications et le nombre de non lues", "200", json!({ "type": "object", "properties": { "unread": { "type": "integer" }, "items": { "type": "array", "items": { "type": "object" } } } }), &[])
            },
            "/notifications/{id}/read": {
                "parameters": [id_param()],
                "post": op_no_content("Marquer une notification comme lue", "Lue", &["400", "404"])
            },
            "/preferences": {
                "get": op("Mes préférences de notification (canaux, avis facultatifs, récapitulatif quotidien)", "200", json!({ "$ref": "#/components/schemas/Preferences" }), &[]),
                "put": with_json_body(
                    op("Changer mes préférences de notification (les champs absents ou null restent inchangés ; les avis de suppression sont toujours envoyés)", "200", json!({ "$ref": "#/components/schemas/Preferences" }), &["400"]),
                    json!({ "type": "object", "additionalProperties": false, "properties": {
                        "channels": { "type": "object", "additionalProperties": false, "properties": { "email": nullable("boolean"), "sms": nullable("boolean"), "in_app": nullable("boolean") } },
                        "optional": { "type": ["boolean", "null"], "description": "recevoir les rappels facultatifs (fin de validité)" },
                        "digest": { "type": ["boolean", "null"], "description": "agents : un courriel récapitulatif par jour" },
                        "email": { "type": ["string", "null"], "description": "adresse des avis ; vide : celle du compte" },
                        "phone": { "type": ["string", "null"], "description": "mobile pour les SMS, +33612345678 ; vide : aucun" } } }))
            },
            "/deliveries": {
                "get": op("Mes courriels et SMS et leur état d'envoi (administrateur : les envois en attente ou en échec de la collectivité, sans leur contenu)", "200", json!({ "type": "array", "items": { "type": "object", "properties": {
                    "id": { "type": "string" }, "channel": { "type": "string", "enum": ["email", "sms"] }, "subject": { "type": "string" }, "address": { "type": "string" },
                    "state": { "type": "string", "enum": ["pending", "sending", "sent", "failed", "held", "digested"] }, "attempts": { "type": "integer" },
                    "last_error": { "type": ["string", "null"] }, "created_at": { "type": "string" }, "sent_at": { "type": ["string", "null"] } } } }), &[])
            },
            "/providers": {
                "get": op("Les services partenaires et émetteurs de documents certifiés", "200", json!({ "type": "array", "items": { "type": "object", "properties": { "id": { "type": "string" }, "name": { "type": "string" }, "service": { "type": "string" } } } }), &[])
            },
            "/providers/{id}/consent": {
                "parameters": [id_param()],
                "put": op_no_content("Accepter les documents certifiés de cet émetteur", "Accepté", &["400", "403:Réservé aux usagers", "404"]),
                "delete": op_no_content("Retirer ce consentement", "Retiré", &["400", "403:Réservé aux usagers", "404"])
            },
            "/procedures": {
                "get": op("Les démarches de la collectivité et leurs justificatifs attendus", "200", json!({ "type": "array", "items": { "$ref": "#/components/schemas/Procedure" } }), &[])
            },
            "/procedures/{code}": {
                "parameters": [code_param()],
                "put": procedure_put
            },
            "/requests": {
                "get": op("Mes demandes (usager) ou les demandes de mes domaines (agent)", "200", json!({ "type": "array", "items": { "type": "object" } }), &["403:Réservé aux usagers et aux agents"]),
                "post": with_json_body(
                    op("Commencer une demande (brouillon)", "201", request.clone(), &["400", "403:Réservé aux usagers"]),
                    json!({ "type": "object", "additionalProperties": false, "required": ["procedure"], "properties": {
                        "procedure": { "type": "string" }, "answers": { "type": "object" }, "members": { "type": "array", "items": { "type": "string" } } } }))
            },
            "/requests/{id}": {
                "parameters": [id_param()],
                "get": op("Une demande : justificatifs attendus, état, pièces proposées du porte-documents", "200", request.clone(), &["400", "404"]),
                "patch": with_json_body(
                    op("Enregistrer le brouillon (réponses, personnes concernées)", "200", request.clone(), &["400", "404", "409:Déjà envoyée"]),
                    json!({ "type": "object", "additionalProperties": false, "properties": {
                        "answers": { "type": ["object", "null"] }, "members": { "type": ["array", "null"], "items": { "type": "string" } } } }))
            },
            "/requests/{id}/attachments/{requirement}": {
                "parameters": [id_param(), { "name": "requirement", "in": "path", "required": true, "schema": { "type": "string" } }],
                "put": with_json_body(
                    op("Joindre une pièce du porte-documents", "200", request.clone(), &["400:Requête invalide, ou pièce inadaptée", "404", "409:Demande terminée"]),
                    json!({ "type": "object", "additionalProperties": false, "required": ["document"], "properties": { "document": { "type": "string" } } })),
                "post": {
                    "summary": "Déposer une nouvelle pièce pour ce justificatif (elle rejoint le porte-documents, typée)", "requestBody": upload_body(false),
                    "responses": op("", "201", request.clone(), &upload_and_404.iter().copied().chain(["409:Demande terminée"]).collect::<Vec<_>>())["responses"]
                },
                "delete": op("Retirer la pièce de la demande (elle reste dans le porte-documents) : dans un brouillon, ou pour une pièce demandée en complément", "200", request.clone(), &["400", "404", "409:Demande terminée, envoyée (request-sent) ou verrouillée par un agent (request-locked)"])
            },
            "/requests/{id}/transitions": {
                "parameters": [id_param()],
                "post": with_json_body(
                    op("Changer l'état : submitted (usager, aussi après un complément), in_progress, complement (avec reason et requirements), completed, rejected (avec reason), closed (agent) ; l'usager est prévenu de chaque changement", "200", request.clone(), &["400:Requête invalide (motif manquant, pièce inconnue)", "403", "404", "409:Transition impossible ou demande verrouillée (request-locked)", "422:Demande incomplète (request-incomplete, liste errors : field, detail)"]),
                    json!({ "type": "object", "additionalProperties": false, "required": ["to"], "properties": {
                        "to": { "type": "string", "enum": ["submitted", "in_progress", "complement", "completed", "rejected", "closed"] }, "reason": nullable("string"),
                        "requirements": { "type": "array", "items": { "type": "string" } } } }))
            },
            "/requests/{id}/lock": {
                "parameters": [id_param()],
                "post": {
                    "summary": "Prendre le verrou (ou le forcer : responsable, {\"break\": true} ; le corps peut être vide)",
                    "requestBody": { "required": false, "content": { "application/json": { "schema": { "type": "object", "additionalProperties": false, "properties": { "break": { "type": "boolean" } } } } } },
                    "responses": op("", "200", request.clone(), &["400", "403", "404", "409:Verrouillée par un autre agent"])["responses"]
                },
                "delete": op("Rendre le verrou", "200", request.clone(), &["400", "404", "409:Verrou non détenu"])
            },
            "/requests/{id}/notes": {
                "parameters": [id_param()],
                "post": with_json_body(
                    op("Ajouter une note interne ou visible de l'usager", "200", request.clone(), &["400", "403", "404", "409:Verrouillée"]),
                    json!({ "type": "object", "additionalProperties": false, "required": ["body"], "properties": { "body": { "type": "string" }, "visible": { "type": "boolean" } } }))
            },
            "/requests/{id}/letters": {
                "parameters": [id_param()],
                "post": with_json_body(
                    op("Écrire à l'usager depuis un modèle (PDF déposé dans son porte-documents)", "201", doc.clone(), &["400:Requête invalide, ou modèle inconnu", "403", "404"]),
                    json!({ "type": "object", "additionalProperties": false, "required": ["template"], "properties": {
                        "template": { "type": "string", "enum": ["accuse-reception", "demande-acceptee", "demande-refusee", "libre"] }, "text": { "type": "string" }, "subject": { "type": "string" } } }))
            },
            "/tracking/{code}": {
                "parameters": [code_param()],
                "get": { "summary": "Suivre une demande avec son code de suivi, sans compte", "security": [],
                    "responses": responses(json!({ "200": { "description": "État de la demande (sans donnée personnelle)", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Tracking" } } } } }), &["400", "404:Code inconnu"], false) }
            },
            "/journal": {
                "get": op("Qui a fait quoi sur mon compte et mes pièces", "200", json!({ "type": "array", "items": { "$ref": "#/components/schemas/JournalItem" } }), &[])
            },
            "/export": {
                "get": { "summary": "Tout emporter : ZIP des originaux, manifest.json, journal (usager)",
                    "responses": responses(json!({ "200": { "description": "Archive ZIP, en pièce jointe",
                        "headers": { "Content-Disposition": { "required": true, "description": "attachment; filename=...", "schema": { "type": "string" } } },
                        "content": { "application/zip": { "schema": { "type": "string", "format": "binary" } } } } }),
                        &["403:Réservé aux usagers", "507"], true) }
            },
            "/tokens": {
                "get": op("Mes jetons d'API (jamais leur secret), du plus récent au plus ancien", "200", json!({ "type": "array", "items": { "$ref": "#/components/schemas/Token" } }), &[])
            },
            "/tokens/{id}": {
                "parameters": [id_param()],
                "delete": op_no_content("Révoquer un de mes jetons : il est refusé dès la requête suivante", "Jeton révoqué (ou déjà révoqué)", &["400", "404:Jeton inconnu ou d'un autre compte"])
            },
            "/session": {
                "post": { "summary": "Connexion par mot de passe (corps JSON seulement)", "security": [],
                    "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["tenant", "login", "password"], "properties": {
                        "tenant": { "type": "string" }, "login": { "type": "string" }, "password": { "type": "string" },
                        "code": { "type": "string", "description": "Le second facteur d'un compte qui en a un : le code à 6 chiffres de l'application, ou un code de secours (usage unique). Sans lui, ces comptes reçoivent 400 second-factor-required." } } } } } },
                    "responses": responses(json!({ "200": { "description": "Session ouverte (cookie __Host-liasse) et jeton CSRF à renvoyer dans X-CSRF-Token",
                        "content": { "application/json": { "schema": { "type": "object", "required": ["csrf_token", "account", "role"], "properties": {
                            "csrf_token": { "type": "string" }, "account": { "type": "string" }, "role": { "type": "string" } } } } } } }),
                        &["400:Second facteur manquant (second-factor-required), erroné ou déjà utilisé (second-factor-invalid), ou à activer d'abord sur les pages (second-factor-enrolment-required)", "401:Identifiants incorrects", "415:Le corps n'est pas du JSON (Content-Type: application/json)", "429"], false) },
                "delete": op_no_content("Déconnexion (ferme la session du cookie ; un jeton reste valable)", "Session fermée", &["400:Jeton anti-falsification (CSRF) absent ou invalide"])
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

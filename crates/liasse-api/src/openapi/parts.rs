//! The pieces the OpenAPI document is assembled from: operations, parameters, bodies, problem responses.

use super::*;

/// What each problem status means, unless an operation says more.
pub(super) fn problem_description(status: &str) -> &'static str {
    match status {
        "400" => {
            "Requête invalide : paramètre, corps JSON ou formulaire illisible, ou valeur refusée (le `type` du problème dit laquelle)"
        }
        "401" => "Authentification requise : jeton absent, inconnu ou expiré",
        "403" => "Action non autorisée pour ce compte",
        "404" => "Introuvable (ou non autorisé : l'existence n'est jamais révélée)",
        "409" => "Conflit avec l'état de la ressource",
        "413" => "Fichier trop volumineux",
        "415" => {
            "Format non accepté : le corps n'est pas du type attendu, ou le fichier n'est pas d'un format que le type de pièce accepte"
        }
        "422" => "Fichier refusé : contenu actif, chiffré, illisible ou vide",
        "429" => "Trop de tentatives",
        "503" => {
            "Un service nécessaire (antivirus, stockage) ne répond pas : rien n'a été enregistré"
        }
        "507" => "Stockage plein : rien n'a été enregistré",
        _ => "Erreur",
    }
}

pub(super) fn problem_response(status: &str, description: &str) -> Value {
    let mut r = json!({
        "description": description,
        "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } }
    });
    let header = match status {
        "401" => Some(("WWW-Authenticate", "Bearer")),
        "429" => Some(("Retry-After", "secondes avant de réessayer")),
        _ => None,
    };
    if let Some((name, what)) = header {
        r["headers"] = json!({ name: { "description": what, "required": true, "schema": { "type": "string" } } });
    }
    r
}

/// The `responses` of an operation: its success answers, then a problem+json answer for each
/// of `problems` ("404", or "404:description" to say more than the default). Every operation
/// that needs authentication also answers 401.
pub(super) fn responses(success: Value, problems: &[&str], authenticated: bool) -> Value {
    let mut m = match success {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let mut all: Vec<&str> = problems.to_vec();
    if authenticated && !all.iter().any(|p| p.starts_with("401")) {
        all.push("401");
    }
    for p in all {
        let (status, description) = match p.split_once(':') {
            Some((s, d)) => (s, d),
            None => (p, problem_description(p)),
        };
        m.insert(status.into(), problem_response(status, description));
    }
    Value::Object(m)
}

/// An authenticated operation answering JSON.
pub(super) fn op(summary: &str, status: &str, schema: Value, problems: &[&str]) -> Value {
    json!({
        "summary": summary,
        "responses": responses(json!({ status: { "description": "Succès", "content": { "application/json": { "schema": schema } } } }), problems, true)
    })
}

/// An authenticated operation answering 204 without a body.
pub(super) fn op_no_content(summary: &str, done: &str, problems: &[&str]) -> Value {
    json!({ "summary": summary, "responses": responses(json!({ "204": { "description": done } }), problems, true) })
}

/// Adds a JSON request body to an operation.
pub(super) fn with_json_body(mut op: Value, schema: Value) -> Value {
    op["requestBody"] =
        json!({ "required": true, "content": { "application/json": { "schema": schema } } });
    op
}

/// Adds operation-level parameters to an operation.
pub(super) fn with_params(mut op: Value, parameters: Value) -> Value {
    op["parameters"] = parameters;
    op
}

pub(super) fn id_param() -> Value {
    json!({ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } })
}

pub(super) fn code_param() -> Value {
    json!({ "name": "code", "in": "path", "required": true, "schema": { "type": "string" } })
}

/// A date filter of a query string: `AAAA-MM-JJ`, or empty for none.
pub(super) fn date_query(name: &str, description: &str) -> Value {
    json!({ "name": name, "in": "query", "description": description,
            "schema": { "type": "string", "anyOf": [{ "format": "date" }, { "maxLength": 0 }] } })
}

pub(super) fn upload_body(type_required: bool) -> Value {
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
                "subject": { "type": "string", "description": "id d'un membre du foyer (pour un service partenaire, son identifiant pseudonyme pwm_…) ; absent pour soi-même" },
                "title": { "type": "string" },
                "valid_until": { "type": "string", "format": "date", "description": "date de fin imprimée, pour les types « printed-date »" },
                "issued_on": { "type": "string", "format": "date", "description": "date d'émission, à partir de laquelle la durée de validité court" },
                "metadata": { "type": "string", "description": "objet JSON" },
                "channel": { "type": "string", "description": "dépôt par un agent : guichet, courrier..." }
            }
        } } }
    })
}

/// A new version: only the file counts (the document keeps its type, subject and dates).
pub(super) fn replace_body() -> Value {
    json!({
        "required": true,
        "content": { "multipart/form-data": { "schema": {
            "type": "object",
            "required": ["file"],
            "description": "les autres champs du formulaire sont ignorés",
            "properties": { "file": { "type": "string", "format": "binary", "description": "dans un format que le type de la pièce accepte" } }
        } } }
    })
}

/// What an upload can be refused for, besides a wrong request.
pub(super) const UPLOAD_PROBLEMS: [&str; 6] = ["400", "413", "415", "422", "503", "507"];

/// A download: the original file as an attachment, in the format it was deposited in.
pub(super) fn download(summary: &str) -> Value {
    let file = json!({ "schema": { "type": "string", "format": "binary" } });
    json!({
        "summary": summary,
        "responses": responses(json!({ "200": {
            "description": "Le fichier original, en pièce jointe",
            "headers": { "Content-Disposition": { "required": true, "description": "attachment; filename=...", "schema": { "type": "string" } } },
            "content": { "application/pdf": file, "image/jpeg": file, "image/png": file, "image/webp": file }
        } }), &["400", "404"], true)
    })
}

pub(super) fn nullable(kind: &str) -> Value {
    json!({ "type": [kind, "null"] })
}

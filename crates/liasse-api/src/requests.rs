//! Procedures and requests over HTTP.

use crate::auth::Caller;
use crate::error::ApiError;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use liasse_app::requests::RequestRow;
use liasse_domain::procedure::Procedure;
use serde::{Deserialize, Serialize};

use crate::documents::read_form;
use crate::extract::{Multipart, Path, coded_body, json_object};
use liasse_app::app::App;
use liasse_app::requests::{
    self, DraftUpdate, NewNote, NewRequest, RequestView, Tracking, Transition,
};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/procedures", get(list_procedures))
        .route("/procedures/{code}", put(put_procedure))
        .route("/requests", get(list).post(create))
        .route("/requests/{id}", get(get_one).patch(update_draft))
        .route(
            "/requests/{id}/attachments/{requirement}",
            put(attach).post(upload).delete(detach),
        )
        .route("/requests/{id}/transitions", post(transition))
        .route("/requests/{id}/lock", post(lock).delete(unlock))
        .route("/requests/{id}/notes", post(add_note))
        .route("/requests/{id}/letters", post(write_letter))
        .route("/tracking/{code}", get(track))
}

async fn list_procedures(
    State(app): State<App>,
    Caller(p): Caller,
) -> Result<Json<Vec<Procedure>>, ApiError> {
    Ok(Json(requests::list_procedures(&app, &p).await?))
}

async fn put_procedure(
    State(app): State<App>,
    Caller(p): Caller,
    Path(code): Path<String>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Procedure>), ApiError> {
    let proc_: Procedure = coded_body(&body, &code, "invalid-procedure")?;
    let existed = requests::put_procedure(&app, &p, proc_.clone()).await?;
    Ok((
        if existed {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        },
        Json(proc_),
    ))
}

async fn list(
    State(app): State<App>,
    Caller(p): Caller,
) -> Result<Json<Vec<RequestItem>>, ApiError> {
    let rows = requests::list(&app, &p).await?;
    Ok(Json(rows.into_iter().map(RequestItem::from).collect()))
}

/// A request in a listing, as the API answers it (the contract; not the stored row).
#[derive(Serialize)]
struct RequestItem {
    id: String,
    number: String,
    procedure_code: String,
    domain: String,
    citizen_id: String,
    state: String,
    /// The answers as a JSON text.
    answers: String,
    /// The household members concerned, as a JSON text.
    members: String,
    lock_holder: Option<String>,
    lock_until: Option<i64>,
    created_at: i64,
    updated_at: i64,
    submitted_at: Option<i64>,
    closed_at: Option<i64>,
    anonymised_at: Option<i64>,
}

impl From<RequestRow> for RequestItem {
    fn from(r: RequestRow) -> Self {
        RequestItem {
            id: r.id,
            number: r.number,
            procedure_code: r.procedure_code,
            domain: r.domain,
            citizen_id: r.citizen_id,
            state: r.state,
            answers: r.answers,
            members: r.members,
            lock_holder: r.lock_holder,
            lock_until: r.lock_until,
            created_at: r.created_at,
            updated_at: r.updated_at,
            submitted_at: r.submitted_at,
            closed_at: r.closed_at,
            anonymised_at: r.anonymised_at,
        }
    }
}

async fn create(
    State(app): State<App>,
    Caller(p): Caller,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<RequestView>), ApiError> {
    let n: NewRequest = json_object(&body)?;
    Ok((
        StatusCode::CREATED,
        Json(requests::create(&app, &p, n).await?),
    ))
}

async fn get_one(
    State(app): State<App>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<Json<RequestView>, ApiError> {
    Ok(Json(requests::get(&app, &p, &id).await?))
}

async fn update_draft(
    State(app): State<App>,
    Caller(p): Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<RequestView>, ApiError> {
    let u: DraftUpdate = json_object(&body)?;
    Ok(Json(requests::update_draft(&app, &p, &id, u).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AttachBody {
    document: String,
}

async fn attach(
    State(app): State<App>,
    Caller(p): Caller,
    Path((id, requirement)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Json<RequestView>, ApiError> {
    let b: AttachBody = json_object(&body)?;
    Ok(Json(
        requests::attach(&app, &p, &id, &requirement, &b.document).await?,
    ))
}

/// Uploads a new document that lands in the vault with the requirement's type and subject,
/// and attaches it.
async fn upload(
    State(app): State<App>,
    Caller(p): Caller,
    Path((id, requirement)): Path<(String, String)>,
    mp: Multipart,
) -> Result<(StatusCode, Json<RequestView>), ApiError> {
    let (type_code, _) = requests::requirement_of(&app, &p, &id, &requirement).await?;
    let mut form = read_form(&app, &p, mp, Some(&type_code), 1).await?;
    let input = form.deposit_input()?;
    let file = form.take_file()?;
    Ok((
        StatusCode::CREATED,
        Json(requests::upload(&app, &p, &id, &requirement, input, file).await?),
    ))
}

async fn detach(
    State(app): State<App>,
    Caller(p): Caller,
    Path((id, requirement)): Path<(String, String)>,
) -> Result<Json<RequestView>, ApiError> {
    Ok(Json(requests::detach(&app, &p, &id, &requirement).await?))
}

async fn transition(
    State(app): State<App>,
    Caller(p): Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<RequestView>, ApiError> {
    let t: Transition = json_object(&body)?;
    Ok(Json(requests::transition(&app, &p, &id, t).await?))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct LockBody {
    #[serde(default, rename = "break")]
    force: bool,
}

async fn lock(
    State(app): State<App>,
    Caller(p): Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<RequestView>, ApiError> {
    let b: LockBody = if body.is_empty() {
        LockBody::default()
    } else {
        json_object(&body)?
    };
    Ok(Json(requests::lock(&app, &p, &id, b.force).await?))
}

async fn unlock(
    State(app): State<App>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<Json<RequestView>, ApiError> {
    Ok(Json(requests::unlock(&app, &p, &id).await?))
}

async fn add_note(
    State(app): State<App>,
    Caller(p): Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<RequestView>, ApiError> {
    let n: NewNote = json_object(&body)?;
    Ok(Json(requests::add_note(&app, &p, &id, n).await?))
}

/// No authentication: the tracking code is the secret.
async fn track(
    State(app): State<App>,
    Path(code): Path<String>,
) -> Result<Json<Tracking>, ApiError> {
    Ok(Json(requests::track(&app, &code).await?))
}

async fn write_letter(
    State(app): State<App>,
    Caller(p): Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<liasse_app::documents::DocumentView>), ApiError> {
    let l: liasse_app::letters::NewLetter = json_object(&body)?;
    Ok((
        StatusCode::CREATED,
        Json(liasse_app::letters::write(&app, &p, &id, l).await?),
    ))
}

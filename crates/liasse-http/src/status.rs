//! The one table from a use case's error to an HTTP status, for the API and the pages alike.

use axum::http::StatusCode;
use liasse_app::AppError;
use liasse_inspect::Refusal;

/// Seconds a client is told to wait (`Retry-After`) when a dependency (the antivirus, the
/// store) does not answer.
pub const UNAVAILABLE_RETRY_SECS: &str = "30";

/// The status that answers `e`.
pub fn of(e: &AppError) -> StatusCode {
    use StatusCode as S;
    match e {
        AppError::NotFound => S::NOT_FOUND,
        AppError::Unauthorized => S::UNAUTHORIZED,
        AppError::Forbidden => S::FORBIDDEN,
        AppError::Invalid { .. } => S::BAD_REQUEST,
        // A file of a kind that the document type does not take; other refusals are about
        // what the file holds.
        AppError::Refused(Refusal::UnknownFormat | Refusal::FormatNotAllowed { .. }) => {
            S::UNSUPPORTED_MEDIA_TYPE
        }
        AppError::Refused(_) | AppError::Incomplete { .. } => S::UNPROCESSABLE_ENTITY,
        AppError::TooLarge { .. } => S::PAYLOAD_TOO_LARGE,
        AppError::Conflict(_) | AppError::ConflictOf { .. } => S::CONFLICT,
        AppError::RateLimited { .. } => S::TOO_MANY_REQUESTS,
        AppError::StorageFull => S::INSUFFICIENT_STORAGE,
        AppError::Unavailable(_) => S::SERVICE_UNAVAILABLE,
        AppError::Store(_) | AppError::Crypto(_) | AppError::Internal(_) => {
            S::INTERNAL_SERVER_ERROR
        }
    }
}

//! The API's error: what a use case or an extractor refused, answered as problem+json
//! (see `problem`). Handlers return it; `?` turns a use case's error into it.

use liasse_app::AppError;

#[derive(Debug)]
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError(e)
    }
}

//! Liasse's use cases: the application context (configuration, storage, keys, clock) and one
//! module per capability. Each function takes the context and a principal (who acts), asks the
//! policy, changes storage in one transaction with its journal entry, and returns plain data
//! for the API, the pages or the command line to present. No HTTP types here.

pub mod access;
pub mod admin;
pub mod agency;
pub mod app;
pub mod assemble;
pub mod auth;
pub mod catalogue;
pub use liasse_config as config;
pub mod dashboard;
pub mod demo;
pub mod deposit;
pub mod documents;
pub mod enrolment;
pub mod error;
pub mod grants;
pub mod guard;
pub mod journal;
pub mod keys;
pub mod letters;
pub mod mail;
pub mod members;
pub mod pairwise;
pub mod passwords;
pub mod progress;
pub mod requests;
pub mod requests_basis;
pub mod rotate;
pub mod scan;
pub mod secrets;
pub mod signup;
pub mod tenants;
pub mod text;
pub mod upload;
pub mod verify;

pub use app::App;
pub use error::AppError;

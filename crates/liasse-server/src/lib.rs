#![recursion_limit = "1024"]
//! The Liasse server: configuration, services (use cases), the HTTP API, and the `liasse`
//! command line. Handlers are thin: they read the request, call a service, map the result.

pub mod app;
pub mod cli;
pub mod config;
pub mod demo;
pub mod error;
pub mod http;
pub mod keys;
pub mod progress;
pub mod services;
pub mod web;

pub use app::App;
pub use error::AppError;

//! Sample files built in memory, for this crate's tests and the server's HTTP tests.
//!
//! Every function returns a complete file. Valid samples are accepted by
//! [`inspect`](crate::inspect) with the default limits; the others are refused, each with the
//! refusal its documentation names.

mod images;
mod others;
mod pdfs;
mod writer;

pub use images::*;
pub use others::*;
pub use pdfs::*;
use writer::*;

use std::fmt::Write as _;
use std::io::{Cursor, Write as _};

use image::{DynamicImage, ImageFormat, RgbImage};

#[cfg(test)]
mod tests;

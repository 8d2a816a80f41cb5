//! The report model and its renderers.

pub mod html;
pub mod json;
pub mod model;
pub mod text;

pub use model::*;

//! The report model and its renderers.

pub mod diff;
pub mod html;
pub mod json;
pub mod model;
mod party;
pub mod sarif;
pub mod schema;
pub mod text;

pub use model::*;
pub use party::{Party, PartyKind, Reach};

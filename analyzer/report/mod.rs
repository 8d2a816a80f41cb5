//! The report model and its renderers.

pub mod app;
pub mod control;
pub mod cyclonedx;
pub mod diff;
pub mod diff_protections;
pub mod html;
pub mod html_index;
pub mod html_sections;
pub mod json;
pub mod model;
mod party;
pub mod party_table;
pub mod sarif;
pub mod schema;
pub mod text;

pub use control::Control;
pub use model::*;
pub use party::{Party, PartyKind, Reach};

//! appvet: static analysis of mobile app binaries for data collection,
//! ownership and jurisdiction.
//!
//! Data flows one way through the stages (see DESIGN.md): `archive` ->
//! `formats` -> `android` -> `evidence` -> `signatures` -> `report`.

pub mod android;
pub mod archive;
pub mod diagnostic;
pub mod evidence;
pub mod formats;
pub mod ios;
pub mod policy;
pub mod reader;
pub mod report;
pub mod risk;
pub mod scan;
pub mod signatures;
mod string_enum;

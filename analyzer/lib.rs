//! appvet: static analysis of mobile app binaries for data collection,
//! ownership and jurisdiction.
//!
//! Data flows one way through the stages (see DESIGN.md), and each module
//! imports only the ones before it:
//!
//! - bottom: [`reader`] (the bounds-checked byte reader), [`diagnostic`],
//!   [`database`] (the loaded signature database: reference data);
//! - [`archive`] (containers, ZIP read in memory under limits) ->
//!   [`formats`] (pure parsers over `&[u8]`) ->
//!   [`context`] (per-input state the platform stages share) ->
//!   [`android`] | [`ios`] (facts about the app) -> [`evidence`] ->
//!   [`attribution`] (evidence to SDKs, owners and countries) -> [`risk`] ->
//!   [`policy`] -> [`report`] (one model, many renderers);
//! - on top: [`scan`] (one input through every stage) and [`store`]
//!   (results databases).

// Workers never print: the binary's one output thread owns stdout and stderr.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod android;
pub mod archive;
pub mod attribution;
pub mod context;
pub mod database;
pub mod diagnostic;
pub mod evidence;
pub mod formats;
pub mod ios;
pub mod policy;
pub mod reader;
pub mod report;
pub mod risk;
pub mod scan;
pub mod store;
mod string_enum;

#[cfg(test)]
mod test_support;

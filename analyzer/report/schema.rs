//! The report's JSON Schema, derived from the model (`schemars`) rather than
//! written by hand, so the shipped `schemas/report.schema.json` and the
//! serde types cannot drift. `tests/report_schema.rs` fails when the
//! committed file differs from [`render`]; `APPVET_BLESS=1` rewrites it, and
//! `cargo run --example report_schema` prints it.

use schemars::generate::SchemaSettings;

use super::Report;

/// `$id` of the shipped schema.
pub const SCHEMA_ID: &str = "https://appvet.invalid/schemas/report.schema.json";

/// The schema of `appvet scan --format json` as a JSON value.
pub fn report_schema() -> serde_json::Value {
    // What the JSON looks like as written (fields with `serde(default)` are
    // always serialized, so they are required), not what deserializing accepts.
    let generator = SchemaSettings::draft2020_12().for_serialize().into_generator();
    let mut schema = generator.into_root_schema_for::<Report>();
    schema.insert("$id".into(), SCHEMA_ID.into());
    schema.insert("title".into(), format!("appvet report ({})", super::SCHEMA).into());
    schema.insert(
        "description".into(),
        "The JSON contract of `appvet scan --format json` (see DESIGN.md), generated from the report \
         model. Fields may be added (objects stay open); the required ones are the contract. Countries \
         are ISO 3166-1 alpha-2, upper case."
            .into(),
    );
    schema.to_value()
}

/// The schema as the committed file holds it: indented, with a final newline.
pub fn render() -> String {
    let mut s = serde_json::to_string_pretty(&report_schema()).unwrap_or_default();
    s.push('\n');
    s
}

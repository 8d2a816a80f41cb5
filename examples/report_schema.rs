//! Prints the report's JSON Schema as generated from the model:
//! `cargo run --example report_schema > schemas/report.schema.json`
//! (or `APPVET_BLESS=1 cargo test --test report_schema`).

fn main() {
    print!("{}", appvet::report::schema::render());
}

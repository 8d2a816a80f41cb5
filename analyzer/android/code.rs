//! Code units: DEX files and native libraries, summarised for the report and
//! kept as evidence (classes, API references, linked libraries, strings).

use crate::scan::Context;

pub fn add_dex(ctx: &mut Context, entry: &str, data: &[u8], primary: bool) {
    let _ = (ctx, entry, data, primary);
}

pub fn add_native(ctx: &mut Context, entry: &str, data: &[u8], abi: Option<&str>) {
    let _ = (ctx, entry, data, abi);
}

//! (stub until the axml branch lands)
use crate::report::Diagnostic;
pub struct ArscParse {
    pub table: Option<ResourceTable>,
    pub diagnostics: Vec<Diagnostic>,
}
pub struct ResourceTable;
impl ResourceTable {
    pub fn resolve_string(&self, _id: u32) -> Option<String> {
        None
    }
    pub fn entry_name(&self, _id: u32) -> Option<String> {
        None
    }
}
pub fn parse(_data: &[u8]) -> ArscParse {
    ArscParse { table: None, diagnostics: vec![] }
}

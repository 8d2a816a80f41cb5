//! (stub until the hosts branch lands)
use crate::report::Host;
pub struct HostExtractor;
impl HostExtractor {
    pub fn new(_own: &[String]) -> Self {
        HostExtractor
    }
    pub fn scan(&mut self, _source: &str, _kind: &str, _text: &str) {}
    pub fn add_code_packages<'a>(&mut self, _p: impl IntoIterator<Item = &'a str>) {}
    pub fn finish(self) -> Vec<Host> {
        vec![]
    }
}

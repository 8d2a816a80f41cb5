//! (stub until the axml branch lands)
use super::xml_tree::XmlElement;
use crate::report::Diagnostic;
pub struct XmlParse {
    pub root: Option<XmlElement>,
    pub diagnostics: Vec<Diagnostic>,
}
pub fn parse(_data: &[u8]) -> XmlParse {
    XmlParse { root: None, diagnostics: vec![] }
}

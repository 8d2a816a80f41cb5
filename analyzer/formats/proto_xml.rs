//! (stub until the axml branch lands)
use super::axml::XmlParse;
pub fn parse(_data: &[u8]) -> XmlParse {
    XmlParse { root: None, diagnostics: vec![] }
}

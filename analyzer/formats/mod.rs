//! Pure parsers over `&[u8]`: each takes bytes and returns a typed result
//! plus diagnostics, never panics and never trusts a length.

pub mod android_attrs;
pub mod arsc;
pub mod axml;
pub mod codesign;
pub mod dex;
pub mod elf;
pub mod macho;
pub mod mobileprovision;
pub(crate) mod panic_guard;
pub mod property_list;
pub mod proto_xml;
pub mod signing;
pub mod summary;
pub mod xml_tree;

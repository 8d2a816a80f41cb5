//! `Res_value`: the typed value of a binary XML attribute or a resource table
//! entry, mapped onto [`AttrValue`].

use super::string_pool::StringPool;
use crate::formats::xml_tree::AttrValue;

pub const TYPE_NULL: u8 = 0x00;
pub const TYPE_REFERENCE: u8 = 0x01;
pub const TYPE_ATTRIBUTE: u8 = 0x02;
pub const TYPE_STRING: u8 = 0x03;
pub const TYPE_FLOAT: u8 = 0x04;
pub const TYPE_DYNAMIC_REFERENCE: u8 = 0x07;
pub const TYPE_DYNAMIC_ATTRIBUTE: u8 = 0x08;
pub const TYPE_INT_DEC: u8 = 0x10;
pub const TYPE_INT_HEX: u8 = 0x11;
pub const TYPE_INT_BOOLEAN: u8 = 0x12;

/// Maps a typed value to [`AttrValue`], looking strings up in `pool`.
/// A string index the pool cannot resolve stays visible as `Other`.
pub fn to_attr_value(data_type: u8, data: u32, pool: &StringPool<'_>) -> AttrValue {
    match data_type {
        TYPE_REFERENCE | TYPE_DYNAMIC_REFERENCE => AttrValue::Reference(data),
        TYPE_ATTRIBUTE | TYPE_DYNAMIC_ATTRIBUTE => AttrValue::AttributeRef(data),
        TYPE_STRING => match pool.get(data) {
            Some(s) => AttrValue::String(s),
            None => AttrValue::Other { data_type, data },
        },
        TYPE_FLOAT => AttrValue::Float(f32::from_bits(data)),
        TYPE_INT_DEC => AttrValue::IntDec(data as i32),
        TYPE_INT_HEX => AttrValue::IntHex(data),
        // Android treats any non-zero data as true (aapt writes 0xffffffff).
        TYPE_INT_BOOLEAN => AttrValue::Bool(data != 0),
        _ => AttrValue::Other { data_type, data },
    }
}

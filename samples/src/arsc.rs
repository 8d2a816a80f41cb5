//! resources.arsc writer: one package (id 0x7f) with types `string` (type
//! id 1) and `xml` (type id 2), each holding string-valued entries in the
//! default configuration only.
//!
//! Layout: ResTable header (0x0002) + global value string pool (UTF-8), then a
//! ResTable_package chunk (0x0200, header 288) with type- and key-name pools
//! (UTF-16), and per type a ResTable_typeSpec (0x0202) and one ResTable_type
//! (0x0201) whose config is the all-zero default ResTable_config (64 bytes).

use crate::string_pool;
use crate::zip::{put_u16, put_u32};

pub const PACKAGE_ID: u32 = 0x7f;
const TYPE_NAMES: [&str; 2] = ["string", "xml"];
const CONFIG_SIZE: u32 = 64;
const TYPE_STRING: u8 = 0x03;

/// Resource id of `@string/app_name`.
pub const APP_NAME_ID: u32 = 0x7f01_0000;
/// Resource id of `@xml/network_security_config`.
pub const NETWORK_SECURITY_CONFIG_ID: u32 = 0x7f02_0000;
/// Path the `@xml/network_security_config` entry points to.
pub const NETWORK_SECURITY_CONFIG_PATH: &str = "res/xml/network_security_config.xml";

/// Builds the resource table of a demo app: `@string/app_name` = `app_name`
/// and `@xml/network_security_config` -> res/xml/network_security_config.xml.
pub fn app_resources(package_name: &str, app_name: &str) -> Vec<u8> {
    let entries: [(&str, Vec<(&str, &str)>); 2] = [
        ("string", vec![("app_name", app_name)]),
        ("xml", vec![("network_security_config", NETWORK_SECURITY_CONFIG_PATH)]),
    ];
    encode(package_name, &entries)
}

/// Encodes a table; `types[i]` is type id i+1 and must follow [`TYPE_NAMES`].
fn encode(package_name: &str, types: &[(&str, Vec<(&str, &str)>)]) -> Vec<u8> {
    let mut values: Vec<String> = Vec::new();
    let mut keys: Vec<String> = Vec::new();
    let mut type_chunks = Vec::new();
    for (index, (type_name, entries)) in types.iter().enumerate() {
        assert_eq!(*type_name, TYPE_NAMES[index], "type ids follow TYPE_NAMES");
        let type_id = (index + 1) as u8;
        let count = entries.len() as u32;

        put_u16(&mut type_chunks, 0x0202);
        put_u16(&mut type_chunks, 16);
        put_u32(&mut type_chunks, 16 + 4 * count);
        type_chunks.push(type_id);
        type_chunks.push(0);
        put_u16(&mut type_chunks, 0);
        put_u32(&mut type_chunks, count);
        for _ in entries {
            put_u32(&mut type_chunks, 0); // no configuration variants
        }

        let header_size = 20 + CONFIG_SIZE;
        let entries_start = header_size + 4 * count;
        let entry_size = 16u32; // ResTable_entry (8) + Res_value (8)
        put_u16(&mut type_chunks, 0x0201);
        put_u16(&mut type_chunks, header_size as u16);
        put_u32(&mut type_chunks, entries_start + entry_size * count);
        type_chunks.push(type_id);
        type_chunks.push(0); // flags
        put_u16(&mut type_chunks, 0);
        put_u32(&mut type_chunks, count);
        put_u32(&mut type_chunks, entries_start);
        put_u32(&mut type_chunks, CONFIG_SIZE);
        type_chunks.resize(type_chunks.len() + CONFIG_SIZE as usize - 4, 0);
        for i in 0..count {
            put_u32(&mut type_chunks, i * entry_size);
        }
        for (key, value) in entries {
            keys.push(key.to_string());
            values.push(value.to_string());
            put_u16(&mut type_chunks, 8);
            put_u16(&mut type_chunks, 0);
            put_u32(&mut type_chunks, (keys.len() - 1) as u32);
            put_u16(&mut type_chunks, 8);
            type_chunks.push(0);
            type_chunks.push(TYPE_STRING);
            put_u32(&mut type_chunks, (values.len() - 1) as u32);
        }
    }

    let type_names: Vec<String> = TYPE_NAMES.iter().map(|s| s.to_string()).collect();
    let type_pool = string_pool::encode(&type_names, false);
    let key_pool = string_pool::encode(&keys, false);
    let header_size = 288u32;
    let package_size = header_size as usize + type_pool.len() + key_pool.len() + type_chunks.len();

    let mut package = Vec::with_capacity(package_size);
    put_u16(&mut package, 0x0200);
    put_u16(&mut package, header_size as u16);
    put_u32(&mut package, package_size as u32);
    put_u32(&mut package, PACKAGE_ID);
    let name_units: Vec<u16> = package_name.encode_utf16().collect();
    assert!(name_units.len() < 128, "package name fits in 128 UTF-16 units");
    for i in 0..128 {
        put_u16(&mut package, name_units.get(i).copied().unwrap_or(0));
    }
    put_u32(&mut package, header_size); // typeStrings
    put_u32(&mut package, TYPE_NAMES.len() as u32); // lastPublicType
    put_u32(&mut package, header_size + type_pool.len() as u32); // keyStrings
    put_u32(&mut package, keys.len() as u32); // lastPublicKey
    put_u32(&mut package, 0); // typeIdOffset
    package.extend_from_slice(&type_pool);
    package.extend_from_slice(&key_pool);
    package.extend_from_slice(&type_chunks);

    let value_pool = string_pool::encode(&values, true);
    let total = 12 + value_pool.len() + package.len();
    let mut out = Vec::with_capacity(total);
    put_u16(&mut out, 0x0002);
    put_u16(&mut out, 12);
    put_u32(&mut out, total as u32);
    put_u32(&mut out, 1);
    out.extend_from_slice(&value_pool);
    out.extend_from_slice(&package);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_sizes_are_consistent() {
        let table = app_resources("org.example.notes", "Notes");
        assert_eq!(&table[..2], &[0x02, 0x00]);
        assert_eq!(u32::from_le_bytes(table[4..8].try_into().unwrap()) as usize, table.len());
        assert_eq!(table.len() % 4, 0);
    }
}

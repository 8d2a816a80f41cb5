//! The element tree that both Android manifest encodings decode into: binary
//! XML (APK) and aapt2's protobuf XML (AAB). Later stages read only this.

/// The Android framework namespace.
pub const ANDROID_NS: &str = "http://schemas.android.com/apk/res/android";

#[derive(Debug, Clone, Default, PartialEq)]
pub struct XmlElement {
    pub name: String,
    pub namespace: Option<String>,
    pub attributes: Vec<XmlAttribute>,
    pub children: Vec<XmlElement>,
    /// Source line recorded by the compiler, when present.
    pub line: Option<u32>,
    /// Character data directly inside the element (`<domain>example.com</domain>`
    /// in a network security config), concatenated.
    pub text: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct XmlAttribute {
    /// Canonical name: for framework attributes resolved from the resource ID
    /// (as Android does), otherwise the name from the string pool.
    pub name: String,
    pub namespace: Option<String>,
    /// Resource ID from the resource map (binary XML) or the proto attribute.
    pub resource_id: Option<u32>,
    pub value: AttrValue,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    String(String),
    /// `@type/name` reference to a resource ID.
    Reference(u32),
    /// `?attr` reference to a theme attribute.
    AttributeRef(u32),
    IntDec(i32),
    IntHex(u32),
    Bool(bool),
    Float(f32),
    /// Dimensions, fractions, colours and anything else: raw type and data.
    Other {
        data_type: u8,
        data: u32,
    },
}

impl AttrValue {
    /// The value as Android's `TypedValue.coerceToString` would show it,
    /// without resolving references (`@0x7f040001`).
    pub fn display(&self) -> String {
        match self {
            AttrValue::String(s) => s.clone(),
            AttrValue::Reference(id) => format!("@0x{id:08x}"),
            AttrValue::AttributeRef(id) => format!("?0x{id:08x}"),
            AttrValue::IntDec(v) => v.to_string(),
            AttrValue::IntHex(v) => format!("0x{v:08x}"),
            AttrValue::Bool(b) => b.to_string(),
            AttrValue::Float(f) => f.to_string(),
            AttrValue::Other { data_type, data } => format!("(type 0x{data_type:02x})0x{data:08x}"),
        }
    }
}

impl XmlElement {
    /// Attribute in the android namespace (or un-namespaced, as some
    /// obfuscators strip the namespace) with this canonical name.
    pub fn android_attr(&self, name: &str) -> Option<&AttrValue> {
        let mut fallback = None;
        for a in &self.attributes {
            if a.name != name {
                continue;
            }
            match a.namespace.as_deref() {
                Some(ANDROID_NS) => return Some(&a.value),
                _ if a.resource_id.is_some_and(|id| id >> 24 == 0x01) => return Some(&a.value),
                None | Some("") => fallback = fallback.or(Some(&a.value)),
                _ => {}
            }
        }
        fallback
    }

    /// Attribute with this name in any namespace (manifest `package`, `split`).
    pub fn attr(&self, name: &str) -> Option<&AttrValue> {
        self.attributes.iter().find(|a| a.name == name).map(|a| &a.value)
    }

    pub fn children_named<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s XmlElement> + 's {
        self.children.iter().filter(move |c| c.name == name)
    }
}

//! Closed sets of the report serialised as fixed strings (`"approve"`,
//! `"apk"`, `"usage-description"` ...). One table per set gives the enum,
//! its serde names, its JSON Schema and `as_str` / `parse`, so the JSON, the
//! schema and the text renderers cannot disagree on a spelling.

/// `string_enum! { /// doc  pub enum Name { Variant = "text", ... } }`:
/// the enum with serde / schemars names from the table, `as_str`, `parse`
/// `AsRef<str>` and `Display` (the same text). Extra attributes (`#[derive(Default)]`,
/// `#[default]` on a variant) pass through.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash,
            serde::Serialize, serde::Deserialize, schemars::JsonSchema,
        )]
        $vis enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            /// The JSON spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// The value spelled `s` in the JSON, if any.
            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use string_enum;

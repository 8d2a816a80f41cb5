//! "Did you mean ...": the nearest valid name for a misspelt policy field,
//! diagnostic code or preset, by Jaro-Winkler similarity (what clap uses
//! for mistyped subcommands and flags).

/// Below this similarity a candidate is not offered: it would be a guess.
const MIN_SIMILARITY: f64 = 0.8;

/// The candidate most similar to `wrong`, if any is close.
pub fn nearest<'a>(wrong: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(wrong, c), c))
        .filter(|(score, _)| *score >= MIN_SIMILARITY)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// ` (did you mean "x"?)` or nothing.
pub fn hint<'a>(wrong: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    nearest(wrong, candidates).map(|c| format!(" (did you mean {c:?}?)")).unwrap_or_default()
}

/// Adds a hint to serde's "unknown field `x`, expected one of `a`, `b`"
/// (or "expected `a` or `b`") message, and to its "unknown variant" one for
/// a closed set of values (`provisioning = ["enterprize"]`).
pub fn unknown_field(message: &str) -> String {
    let rest = message.split("unknown field `").nth(1).or_else(|| message.split("unknown variant `").nth(1));
    let Some(rest) = rest else { return message.to_string() };
    let Some((field, expected)) = rest.split_once('`') else { return message.to_string() };
    let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    match nearest(field, candidates) {
        Some(c) => format!("{}\ndid you mean {c:?}?", message.trim_end()),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_names_are_offered_and_far_ones_are_not() {
        assert_eq!(nearest("debugable", ["debuggable", "bomb"]), Some("debuggable"));
        assert_eq!(nearest("nl-aivd2", ["baseline", "nl-aivd"]), Some("nl-aivd"));
        assert_eq!(nearest("quux", ["baseline", "nl-aivd"]), None);
        assert_eq!(hint("quux", ["baseline"]), "");
    }

    #[test]
    fn serde_unknown_field_messages_get_a_hint() {
        let m = "unknown field `diagnostic`, expected one of `id`, `decision`, `diagnostics`";
        assert!(unknown_field(m).ends_with("did you mean \"diagnostics\"?"), "{}", unknown_field(m));
        let m = "unknown field `zzz`, expected `id` or `decision`";
        assert_eq!(unknown_field(m), m);
        assert_eq!(unknown_field("other error"), "other error");
        let m = "unknown variant `enterprize`, expected one of `app-store`, `ad-hoc`, `enterprise`";
        assert!(unknown_field(m).ends_with("did you mean \"enterprise\"?"), "{}", unknown_field(m));
    }
}

//! "Did you mean" for policy files and preset names: a misspelt preset or
//! field is named together with the closest valid one, as clap does for
//! options.

/// The closest candidate to `word`, when one is close enough to be a typo.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// Adds a suggestion to serde's "unknown field `x`, expected one of `a`,
/// `b`" (and "unknown variant") messages.
pub fn with_suggestion(message: String) -> String {
    let Some(rest) =
        message.find("unknown field `").or_else(|| message.find("unknown variant `")).map(|i| &message[i..])
    else {
        return message;
    };
    let mut ticks = rest.split('`').skip(1).step_by(2);
    let Some(word) = ticks.next() else {
        return message;
    };
    match closest(word, ticks) {
        Some(best) => format!("{}\ndid you mean `{best}`?", message.trim_end()),
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_get_the_closest_name_and_nonsense_gets_none() {
        assert_eq!(closest("nl-aivt", ["baseline", "nl-aivd", "us-foreign-adversaries"]), Some("nl-aivd"));
        assert_eq!(closest("zzz", ["baseline", "nl-aivd"]), None);
        let m =
            with_suggestion("unknown field `subjcts`, expected one of `id`, `decision`, `subjects`".into());
        assert!(m.ends_with("did you mean `subjects`?"), "{m}");
        assert_eq!(with_suggestion("bad syntax".into()), "bad syntax");
    }
}

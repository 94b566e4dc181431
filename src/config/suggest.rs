//! "Did you mean …?": the nearest known word to a misspelt one.
//!
//! Used for unknown fields, unknown values of a closed set, and references to undeclared
//! resources. Called only when something is already wrong, never on the happy path.

/// The candidate closest to `word`, when one is close enough to be a likely typo: at most one
/// edit for short words, a third of the word's length for longer ones. Ties go to the first.
pub(crate) fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    let length = word.chars().count();
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        // Cheap filter first: a length difference alone already costs that many edits.
        if candidate.chars().count().abs_diff(length) > limit || candidate == word {
            continue;
        }
        let distance = strsim::osa_distance(word, candidate);
        if distance <= limit && best.is_none_or(|(best_distance, _)| distance < best_distance) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// `did you mean `x`?` for the closest candidate, if any.
pub(crate) fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    closest(word, candidates).map(|candidate| format!("did you mean `{candidate}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_the_intended_word() {
        assert_eq!(closest("hots", ["host", "hypervisor", "vcpus"]), Some("host"));
        assert_eq!(closest("shoshn", ["shoshin", "workstation"]), Some("shoshin"));
        assert_eq!(closest("memroy", ["memory", "vcpus"]), Some("memory"));
        assert_eq!(closest("qemo", ["qemu", "cloud-hypervisor"]), Some("qemu"));
    }

    #[test]
    fn unrelated_words_find_nothing() {
        assert_eq!(closest("colour", ["host", "vcpus"]), None);
        assert_eq!(closest("x", ["host"]), None);
        assert_eq!(closest("host", ["host"]), None);
        assert_eq!(did_you_mean("nope", Vec::<&str>::new()), None);
    }
}

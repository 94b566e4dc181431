//! What reading a large file in two pieces at once (`yaml_cut`, `toml_cut`) shares: when it is
//! worth it, and joining the pieces' trees into the tree of the whole.
//!
//! A file is cut inside one of its sections (`vms:`, `[vms]`): the head holds everything before
//! the cut, that section included; the other piece holds the section's remaining entries and the
//! sections after it. Joining appends them; any key found on both sides makes the join refuse,
//! and the file is then read whole, so that its error is reported exactly as a whole read does.

use std::collections::HashSet;

use super::node::{Key, Node, NodeValue};

/// Files smaller than this are read whole: a second thread would not pay for itself.
pub(super) const MIN_BYTES: usize = 256 * 1024;

/// `head` (a file's top-level mapping) with `entries` appended to its section `section`, which
/// must be its last, and `sections` appended after it; `None` when they do not join plainly.
pub(super) fn join(
    mut head: Node,
    section: &str,
    entries: Vec<(Key, Node)>,
    sections: Vec<(Key, Node)>,
) -> Option<Node> {
    let NodeValue::Mapping(head_sections) = &mut head.value else { return None };
    let (_, cut_section) = head_sections.last_mut().filter(|(key, _)| key.text == section)?;
    let NodeValue::Mapping(head_entries) = &mut cut_section.value else { return None };
    extend_unique(head_entries, entries)?;
    extend_unique(head_sections, sections)?;
    Some(head)
}

/// Appends `more` to `entries`; `None` when a key is in both.
fn extend_unique(entries: &mut Vec<(Key, Node)>, more: Vec<(Key, Node)>) -> Option<()> {
    let known: HashSet<&str> = entries.iter().map(|(key, _)| key.text.as_str()).collect();
    if more.iter().any(|(key, _)| known.contains(key.text.as_str())) {
        return None;
    }
    entries.extend(more);
    Some(())
}

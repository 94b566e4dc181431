//! The differential check that holds `yaml_subset` to saphyr: on any text, reading a piece gives
//! the very tree (positions included) or error that saphyr alone gives, and the fast reader either
//! falls back or produces exactly saphyr's events, each at saphyr's start position (line, column
//! and character index). Span ends are not compared: the builder reads only where an event starts.
//!
//! It is shared by the unit and property tests (`yaml_subset_tests`), the `yaml_subset` fuzz
//! target and the plan benchmark, which also asserts that its file takes the fast path.

use std::fmt::Write as _;

use saphyr_parser::{Event, Marker, Parser};

use super::from_yaml::{MAX_VALUES, parse_piece_with_limit, parse_saphyr, parse_subset};
use super::yaml_subset::{self, Fallback};

/// Events with the line, column and character index each starts at.
type Placed<'a> = Vec<(Event<'a>, (usize, usize, usize))>;

fn place(marker: Marker) -> (usize, usize, usize) {
    (marker.line(), marker.col(), marker.index())
}

/// saphyr's events for `text`, up to its error if it has one.
fn saphyr_events(text: &str) -> Result<Placed<'_>, String> {
    let mut events = Vec::new();
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|error| error.to_string())?;
        events.push((event, place(span.start)));
    }
    Ok(events)
}

/// The fast reader's events for `text`, unless it falls back.
fn subset_events(text: &str) -> Result<Placed<'_>, Fallback> {
    let mut events = Vec::new();
    yaml_subset::read(text, |event, marker| {
        events.push((event, place(marker)));
        Ok(())
    })?;
    Ok(events)
}

/// Whether the fast path reads `text` (`Ok(true)`) or falls back to saphyr (`Ok(false)`), be it
/// for the fast reader or for the builder; `Err` says how it disagrees with saphyr.
pub(crate) fn compare(text: &str) -> Result<bool, String> {
    // What users get: the same tree or the same error as saphyr alone gives. Pieces of a file
    // start further down; their positions must move alike.
    for first_line in [40, 1] {
        let read = format!("{:?}", parse_piece_with_limit(text, first_line, MAX_VALUES));
        let slow = format!("{:?}", parse_saphyr(text, first_line, MAX_VALUES));
        if read != slow {
            return Err(format!("the pieces read differ (read | saphyr alone):\n{read}\n{slow}"));
        }
    }
    // How: the fast reader's events, when it does not fall back, are saphyr's.
    let Ok(fast) = subset_events(text) else {
        return Ok(false);
    };
    let slow = saphyr_events(text).map_err(|error| format!("saphyr fails where the fast reader does not: {error}"))?;
    if fast != slow {
        let mut report = String::from("the events differ (fast | saphyr):\n");
        let length = fast.len().max(slow.len());
        for index in 0..length {
            let (left, right) = (fast.get(index), slow.get(index));
            let mark = if left == right { ' ' } else { '!' };
            let _ = writeln!(report, "{mark} {left:?} | {right:?}");
        }
        return Err(report);
    }
    Ok(parse_subset(text, 1, MAX_VALUES).is_some())
}

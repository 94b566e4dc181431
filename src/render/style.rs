//! Every terminal style rave uses, in one place. Meaning never depends on colour: symbols and
//! words carry it, and with colour off every style prints the same text plainly.

use console::Style;

/// The styles for one output stream: coloured or all plain.
#[derive(Debug, Clone)]
pub(crate) struct Styles {
    /// `+` and things being created.
    pub(crate) create: Style,
    /// `~` and things changed in place.
    pub(crate) update: Style,
    /// `-` and things destroyed; also failures.
    pub(crate) delete: Style,
    /// `-/+` and `+/-`.
    pub(crate) replace: Style,
    /// Headings and addresses.
    pub(crate) bold: Style,
    /// Secondary text: reasons, hints, elapsed times.
    pub(crate) dim: Style,
    /// `error:`.
    pub(crate) error: Style,
    /// `warning:`.
    pub(crate) warning: Style,
    /// Success lines.
    pub(crate) success: Style,
}

impl Styles {
    /// Coloured styles when `is_colored`, plain ones otherwise.
    pub(crate) fn new(is_colored: bool) -> Self {
        let style = |style: Style| style.force_styling(is_colored);
        Self {
            create: style(Style::new().green()),
            update: style(Style::new().yellow()),
            delete: style(Style::new().red()),
            replace: style(Style::new().magenta()),
            bold: style(Style::new().bold()),
            dim: style(Style::new().dim()),
            error: style(Style::new().red().bold()),
            warning: style(Style::new().yellow().bold()),
            success: style(Style::new().green().bold()),
        }
    }

    /// Styles that print text unchanged.
    pub(crate) fn plain() -> Self {
        Self::new(false)
    }
}

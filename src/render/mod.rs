//! Pure rendering: values in, text out. Nothing here decides, reads or prints.

pub(crate) mod style;

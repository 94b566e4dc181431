//! [`StoreDerivation`]: a `.drv` file as the store keeps it, read from its `ATerm` text
//! (`Derive([outputs],[input derivations],[input sources],"system","builder",[args],[env])`), the
//! format every Nix version writes. Only what comparing two derivations needs is kept.
//!
//! Pure: [`StoreDerivation::parse`] reads text; nothing here touches the store. Text that is not
//! a derivation (or nests deeper than a derivation does) is `None`, never a panic.

use std::collections::BTreeMap;

/// How deep terms may nest: a derivation needs 3 (list, tuple, list of output names).
const MAX_DEPTH: usize = 8;

/// A derivation, as its `.drv` file says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct StoreDerivation {
    /// Its output names (`out`, `dev`, …).
    pub(crate) outputs: Vec<String>,
    /// The `.drv` files it builds on.
    pub(crate) input_derivations: Vec<String>,
    /// The store paths it reads as they are (sources, scripts).
    pub(crate) input_sources: Vec<String>,
    /// The platform it builds on.
    pub(crate) system: String,
    /// The program that builds it.
    pub(crate) builder: String,
    /// The builder's arguments.
    pub(crate) args: Vec<String>,
    /// Its environment, by variable.
    pub(crate) env: BTreeMap<String, String>,
}

/// An `ATerm` term, as far as derivations use them.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Term {
    /// `"text"`.
    Text(String),
    /// `[a,b]`.
    List(Vec<Term>),
    /// `(a,b)`.
    Tuple(Vec<Term>),
}

impl Term {
    fn text(&self) -> Option<&str> {
        match self {
            Self::Text(text) => Some(text),
            _ => None,
        }
    }

    fn items(&self) -> Option<&[Term]> {
        match self {
            Self::List(items) | Self::Tuple(items) => Some(items),
            Self::Text(_) => None,
        }
    }

    /// The first item of every tuple in a list: output names, input `.drv` paths.
    fn firsts(&self) -> Option<Vec<String>> {
        self.items()?.iter().map(|item| item.items()?.first()?.text().map(str::to_owned)).collect()
    }

    /// A list of texts.
    fn texts(&self) -> Option<Vec<String>> {
        self.items()?.iter().map(|item| item.text().map(str::to_owned)).collect()
    }
}

impl StoreDerivation {
    /// Reads a `.drv` file's text; `None` when it is not a derivation.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let mut parser = Parser { rest: text.strip_prefix("Derive")? };
        let Term::Tuple(fields) = parser.term(0)? else { return None };
        if !parser.rest.trim().is_empty() {
            return None;
        }
        let [outputs, inputs, sources, system, builder, args, env] = fields.as_slice() else { return None };
        let env = env
            .items()?
            .iter()
            .map(|pair| match pair.items()? {
                [name, value] => Some((name.text()?.to_owned(), value.text()?.to_owned())),
                _ => None,
            })
            .collect::<Option<_>>()?;
        Some(Self {
            outputs: outputs.firsts()?,
            input_derivations: inputs.firsts()?,
            input_sources: sources.texts()?,
            system: system.text()?.to_owned(),
            builder: builder.text()?.to_owned(),
            args: args.texts()?,
            env,
        })
    }
}

/// Reads terms from the front of `rest`.
struct Parser<'a> {
    rest: &'a str,
}

impl Parser<'_> {
    fn term(&mut self, depth: usize) -> Option<Term> {
        if depth > MAX_DEPTH {
            return None;
        }
        let mut chars = self.rest.chars();
        match chars.next()? {
            '"' => self.text().map(Term::Text),
            open @ ('[' | '(') => {
                self.rest = chars.as_str();
                let close = if open == '[' { ']' } else { ')' };
                let mut items = Vec::new();
                loop {
                    if let Some(rest) = self.rest.strip_prefix(close) {
                        self.rest = rest;
                        break;
                    }
                    if !items.is_empty() {
                        self.rest = self.rest.strip_prefix(',')?;
                    }
                    items.push(self.term(depth + 1)?);
                }
                Some(if open == '[' { Term::List(items) } else { Term::Tuple(items) })
            }
            _ => None,
        }
    }

    /// A quoted string with Nix's escapes (`\"`, `\\`, `\n`, `\r`, `\t`).
    fn text(&mut self) -> Option<String> {
        let mut chars = self.rest.strip_prefix('"')?.chars();
        let mut text = String::new();
        loop {
            match chars.next()? {
                '"' => break,
                '\\' => text.push(match chars.next()? {
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    other => other,
                }),
                other => text.push(other),
            }
        }
        self.rest = chars.as_str();
        Some(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUNNER: &str = r#"Derive([("out","/nix/store/0c8q-microvm-run-vm1","","")],[("/nix/store/9k2v-bash-5.2.drv",["out"]),("/nix/store/1abc-stdenv.drv",["out","dev"])],["/nix/store/7x1d-vmlinuz"],"x86_64-linux","/bin/sh",["-c","echo \"hi\\there\"\n"],[("builder","/bin/sh"),("name","microvm-run-vm1"),("out","/nix/store/0c8q-microvm-run-vm1")])"#;

    #[test]
    fn a_derivation_is_read_with_its_inputs_and_environment() {
        let derivation = StoreDerivation::parse(RUNNER).expect("a derivation");
        assert_eq!(derivation.outputs, ["out"]);
        assert_eq!(derivation.input_derivations, ["/nix/store/9k2v-bash-5.2.drv", "/nix/store/1abc-stdenv.drv"]);
        assert_eq!(derivation.input_sources, ["/nix/store/7x1d-vmlinuz"]);
        assert_eq!(derivation.system, "x86_64-linux");
        assert_eq!(derivation.builder, "/bin/sh");
        assert_eq!(derivation.args, ["-c", "echo \"hi\\there\"\n"]);
        assert_eq!(derivation.env["name"], "microvm-run-vm1");
    }

    #[test]
    fn what_is_not_a_derivation_is_none() {
        for text in [
            "",
            "Derive(",
            "Derive([],[],[])",
            &RUNNER.replace("Derive(", "Other("),
            &format!("{RUNNER}trailing"),
            &format!("Derive({}{})", "[".repeat(100), "]".repeat(100)),
            "Derive([(\"out\",\"/nix/store/x\",\"\",\"\")],[],[],\"x\",\"b\",[],[(\"a\")])",
        ] {
            assert_eq!(StoreDerivation::parse(text), None, "{text}");
        }
    }
}

//! Showing an apply as it happens, on stderr, from the executor's [`Event`]s.
//!
//! On a terminal: finished steps print as lines, and below them a live block shows one line per
//! running node (spinner, current step, elapsed time), redrawn every 100 ms. Otherwise (a pipe, a
//! CI log): one plain line per event, `vm.gitlab: creating...`, `vm.gitlab: created (3.2s)`.
//! Lines programs print show only with `-v`; `-q` shows nothing here (the summary still says
//! what failed).
//!
//! The live block is drawn with `console::Term` (clear the block, print finished lines, draw the
//! block again) rather than `indicatif`: `console` is already rave's styling crate, the block
//! is a handful of lines with no bars or rates, and one redraw loop keeps finished lines and the
//! block from interleaving, which `indicatif::MultiProgress` would need care for.
//!
//! [`ProgressView`] holds what is running and turns events into text, without I/O; [`show`]
//! feeds it and writes.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use console::Term;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::MissedTickBehavior;

use crate::apply::{Event, Stream};
use crate::model::ResourceId;
use crate::plan::Action;
use crate::render::style::Styles;
use crate::ui::printer::{Printer, Verbosity};
use crate::ui::{elapsed, verbs};

/// How often the live block redraws.
const TICK: Duration = Duration::from_millis(100);
/// Events handled between two redraws at most, so a burst redraws once.
const BURST: usize = 256;
/// Running nodes shown at most; the rest are counted.
const MAX_LIVE_LINES: usize = 20;
/// The spinner, one frame per tick.
const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// Shows `events` until the channel closes (the executor dropped its sender).
pub(crate) async fn show(mut events: UnboundedReceiver<Event>, printer: &Printer) {
    let is_live = printer.stderr_is_tty() && printer.verbosity() > Verbosity::Quiet;
    let mut view = ProgressView::new(printer.stderr_styles().clone(), printer.verbosity(), is_live);
    if !is_live {
        while let Some(event) = events.recv().await {
            for line in view.on_event(event, Instant::now()) {
                printer.stderr_line(&line);
            }
        }
        return;
    }
    let mut area = LiveArea { term: Term::stderr(), drawn: 0 };
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut frame = 0;
    loop {
        let mut lines = Vec::new();
        tokio::select! {
            event = events.recv() => {
                let Some(event) = event else { break };
                lines.extend(view.on_event(event, Instant::now()));
                for _ in 0..BURST {
                    let Ok(event) = events.try_recv() else { break };
                    lines.extend(view.on_event(event, Instant::now()));
                }
            }
            _ = ticker.tick() => frame += 1,
        }
        let (rows, columns) = area.term.size();
        let live_rows = usize::from(rows).saturating_sub(2).min(MAX_LIVE_LINES);
        area.draw(&lines, &view.live_lines(Instant::now(), frame, live_rows, usize::from(columns)));
    }
    area.draw(&[], &[]);
}

/// The bottom of the terminal, where the live block is redrawn.
struct LiveArea {
    term: Term,
    /// How many live lines are on screen now.
    drawn: usize,
}

impl LiveArea {
    /// Replaces the live block with `live`, printing `finished` above it for good.
    fn draw(&mut self, finished: &[String], live: &[String]) {
        // Terminal write errors only mean nobody is watching; the apply goes on.
        let _ = self.term.clear_last_lines(self.drawn);
        for line in finished.iter().chain(live) {
            let _ = self.term.write_line(line);
        }
        self.drawn = live.len();
    }
}

/// A node that is running.
#[derive(Debug)]
struct Running {
    action: Action,
    started: Instant,
    /// The last step its driver reported.
    step: Option<String>,
}

/// What is running, and the text each event becomes.
#[derive(Debug)]
pub(crate) struct ProgressView {
    styles: Styles,
    verbosity: Verbosity,
    /// Whether a live block shows running nodes (then starts and steps print no line).
    is_live: bool,
    running: BTreeMap<ResourceId, Running>,
    /// How many stop requests were seen.
    interruptions: usize,
}

impl ProgressView {
    /// A view writing with `styles`; `is_live` when a live block will show running nodes.
    pub(crate) fn new(styles: Styles, verbosity: Verbosity, is_live: bool) -> Self {
        Self { styles, verbosity, is_live, running: BTreeMap::new(), interruptions: 0 }
    }

    /// Takes `event` in at `now` and returns the lines to print for good.
    pub(crate) fn on_event(&mut self, event: Event, now: Instant) -> Vec<String> {
        let lines = self.lines_for(&event);
        match event {
            Event::Started { address, action } => {
                self.running.insert(address, Running { action, started: now, step: None });
            }
            Event::Progress { address, message } => {
                if let Some(running) = self.running.get_mut(&address) {
                    running.step = Some(message);
                }
            }
            Event::Succeeded { address, .. } | Event::Failed { address, .. } => {
                self.running.remove(&address);
            }
            Event::Interrupted { .. } => self.interruptions += 1,
            Event::Log { .. } | Event::Skipped { .. } | Event::Cancelled { .. } => {}
        }
        if self.verbosity == Verbosity::Quiet { Vec::new() } else { lines }
    }

    fn lines_for(&self, event: &Event) -> Vec<String> {
        let styles = &self.styles;
        let address = |address: &ResourceId| styles.bold.apply_to(address.to_string()).to_string();
        let line = match event {
            Event::Started { .. } | Event::Progress { .. } if self.is_live => return Vec::new(),
            Event::Started { address: id, action } => format!("{}: {}...", address(id), verbs::doing(*action)),
            Event::Progress { address: id, message } => format!("{}: {message}", address(id)),
            Event::Log { .. } if self.verbosity < Verbosity::Verbose => return Vec::new(),
            Event::Log { address: id, stream, line } => {
                let bar = match stream {
                    Stream::Stdout => "|",
                    Stream::Stderr => "!",
                };
                format!("{} {} {line}", styles.dim.apply_to(id.to_string()), styles.dim.apply_to(bar))
            }
            Event::Succeeded { address: id, action, elapsed } => format!(
                "{}: {} {}",
                address(id),
                self.action_style(*action).apply_to(verbs::done(*action)),
                styles.dim.apply_to(format!("({})", elapsed::precise(*elapsed)))
            ),
            Event::Failed { address: id, error, elapsed, .. } => format!(
                "{}: {} after {}: {}",
                address(id),
                styles.error.apply_to("failed"),
                elapsed::precise(*elapsed),
                error.lines().next().unwrap_or_default()
            ),
            Event::Skipped { address: id, because } => {
                format!("{}: {} because {because} failed", address(id), styles.warning.apply_to("skipped"))
            }
            Event::Cancelled { address: id } => {
                let why = if self.interruptions > 0 { "interrupted" } else { "apply stopped" };
                format!("{}: {}", address(id), styles.dim.apply_to(format!("not started ({why})")))
            }
            Event::Interrupted { running } => {
                let steps = match running {
                    1 => "1 running step".to_owned(),
                    count => format!("{count} running steps"),
                };
                match (self.interruptions, running) {
                    (0, 0) => format!("{}: starting nothing new", styles.warning.apply_to("interrupted")),
                    (0, _) => {
                        format!("{}: starting nothing new, finishing {steps}", styles.warning.apply_to("interrupted"))
                    }
                    _ => format!("still finishing {steps}; state is saved after each"),
                }
            }
        };
        vec![line]
    }

    fn action_style(&self, action: Action) -> &console::Style {
        match action {
            Action::NoOp => &self.styles.dim,
            Action::Create => &self.styles.create,
            Action::Update => &self.styles.update,
            Action::DeleteThenCreate | Action::CreateThenDelete => &self.styles.replace,
            Action::Delete => &self.styles.delete,
        }
    }

    /// The live block at `now`: one line per running node, at most `rows` lines, each cut to
    /// `columns` characters (a wrapped line would break the redraw).
    pub(crate) fn live_lines(&self, now: Instant, frame: usize, rows: usize, columns: usize) -> Vec<String> {
        if !self.is_live || rows == 0 {
            return Vec::new();
        }
        let spinner = SPINNER[frame % SPINNER.len()];
        let shown = if self.running.len() > rows { rows - 1 } else { self.running.len() };
        let mut lines: Vec<String> = self
            .running
            .iter()
            .take(shown)
            .map(|(address, running)| {
                let step = running.step.clone().unwrap_or_else(|| format!("{}...", verbs::doing(running.action)));
                let line = format!(
                    "{} {}: {step} {}",
                    self.styles.dim.apply_to(spinner),
                    self.styles.bold.apply_to(address.to_string()),
                    self.styles.dim.apply_to(elapsed::whole(now.saturating_duration_since(running.started)))
                );
                console::truncate_str(&line, columns, "…").into_owned()
            })
            .collect();
        if shown < self.running.len() {
            lines.push(format!("  … and {} more running", self.running.len() - shown));
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> ResourceId {
        text.parse().unwrap()
    }

    fn feed(view: &mut ProgressView, start: Instant, events: Vec<(u64, Event)>) -> Vec<String> {
        events
            .into_iter()
            .flat_map(|(second, event)| view.on_event(event, start + Duration::from_secs(second)))
            .collect()
    }

    fn an_apply() -> Vec<(u64, Event)> {
        vec![
            (0, Event::Started { address: id("vm.gitlab"), action: Action::Create }),
            (0, Event::Started { address: id("host.b"), action: Action::Delete }),
            (1, Event::Progress { address: id("vm.gitlab"), message: "building".into() }),
            (1, Event::Log { address: id("vm.gitlab"), stream: Stream::Stderr, line: "copying path".into() }),
            (
                1,
                Event::Failed {
                    address: id("host.b"),
                    action: Action::Delete,
                    error: "ssh refused\n  exit status 255".into(),
                    elapsed: Duration::from_secs(1),
                },
            ),
            (1, Event::Skipped { address: id("service.x"), because: id("host.b") }),
            (2, Event::Interrupted { running: 1 }),
            (3, Event::Interrupted { running: 1 }),
            (
                4,
                Event::Succeeded {
                    address: id("vm.gitlab"),
                    action: Action::Create,
                    elapsed: Duration::from_millis(3_240),
                },
            ),
            (4, Event::Cancelled { address: id("vm.y") }),
        ]
    }

    #[test]
    fn plain_lines_say_what_happened() {
        let mut view = ProgressView::new(Styles::plain(), Verbosity::Normal, false);
        assert_eq!(
            feed(&mut view, Instant::now(), an_apply()),
            [
                "vm.gitlab: creating...",
                "host.b: destroying...",
                "vm.gitlab: building",
                "host.b: failed after 1.0s: ssh refused",
                "service.x: skipped because host.b failed",
                "interrupted: starting nothing new, finishing 1 running step",
                "still finishing 1 running step; state is saved after each",
                "vm.gitlab: created (3.2s)",
                "vm.y: not started (interrupted)",
            ]
        );
    }

    #[test]
    fn logs_show_only_when_verbose_and_nothing_when_quiet() {
        let mut verbose = ProgressView::new(Styles::plain(), Verbosity::Verbose, false);
        let lines = feed(&mut verbose, Instant::now(), an_apply());
        assert!(lines.contains(&"vm.gitlab ! copying path".to_owned()));
        let mut quiet = ProgressView::new(Styles::plain(), Verbosity::Quiet, false);
        assert!(feed(&mut quiet, Instant::now(), an_apply()).is_empty());
    }

    #[test]
    fn the_live_block_shows_running_nodes_with_their_step_and_time() {
        let start = Instant::now();
        let mut view = ProgressView::new(Styles::plain(), Verbosity::Normal, true);
        let printed = feed(
            &mut view,
            start,
            vec![
                (0, Event::Started { address: id("vm.gitlab"), action: Action::Create }),
                (0, Event::Started { address: id("host.b"), action: Action::Update }),
                (0, Event::Started { address: id("host.c"), action: Action::Update }),
                (2, Event::Progress { address: id("vm.gitlab"), message: "building".into() }),
            ],
        );
        assert!(printed.is_empty(), "starts and steps live in the block: {printed:?}");
        let now = start + Duration::from_secs(75);
        assert_eq!(
            view.live_lines(now, 1, 10, 80),
            ["⠙ host.b: updating... 1m15s", "⠙ host.c: updating... 1m15s", "⠙ vm.gitlab: building 1m15s"]
        );
        assert_eq!(view.live_lines(now, 0, 2, 80), ["⠋ host.b: updating... 1m15s", "  … and 2 more running"]);
        assert_eq!(view.live_lines(now, 0, 10, 12)[0], "⠋ host.b: u…");
    }
}

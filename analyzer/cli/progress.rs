//! Progress and the end-of-run summary, both on stderr and both owned by the
//! writer thread. The bar is drawn only on a terminal; a pipe gets nothing
//! but the one-line-per-failure messages (and the summary when asked).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How many of the slowest apps the summary names.
const SLOWEST_SHOWN: usize = 5;
/// How many SDK owners and countries the summary names.
const TOP_SHOWN: usize = 8;
/// How many blocked apps the summary names.
const BLOCKED_SHOWN: usize = 20;

pub struct Progress {
    bar: Option<ProgressBar>,
    started: Instant,
    bytes: u64,
    errors: u64,
}

impl Progress {
    pub fn new(total: u64, enabled: bool) -> Self {
        let bar = enabled.then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr_with_hz(4));
            let style = ProgressStyle::with_template("{bar:30} {pos}/{len} apps  {msg}  ETA {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar
        });
        Progress { bar, started: Instant::now(), bytes: 0, errors: 0 }
    }

    pub fn advance(&mut self, bytes: u64, failed: bool) {
        self.bytes += bytes;
        self.errors += u64::from(failed);
        if let Some(bar) = &self.bar {
            let secs = self.started.elapsed().as_secs_f64().max(1e-3);
            bar.inc(1);
            bar.set_message(format!(
                "{} apps/s  {} MB/s  {} errors",
                rate(bar.position() as f64 / secs),
                rate(self.bytes as f64 / 1e6 / secs),
                self.errors
            ));
        }
    }

    /// Prints a line without tearing the bar.
    pub fn println(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// What the summary counts.
#[derive(Default)]
pub struct Summary {
    pub inputs: u64,
    pub analysed: u64,
    /// Already stored under the same versions (resume) or identical to
    /// another input (dedupe).
    pub skipped: u64,
    pub duplicates: u64,
    pub errors: u64,
    pub timeouts: u64,
    pub bytes_read: u64,
    pub verdicts: HashMap<String, u64>,
    pub sdk_owners: HashMap<String, u64>,
    pub countries: HashMap<String, u64>,
    /// The blocked apps, by name (and path), in the order they finished.
    pub blocked: Vec<String>,
    slowest: Vec<(Duration, String)>,
}

impl Summary {
    pub fn note_time(&mut self, elapsed: Duration, path: &str) {
        if self.slowest.len() < SLOWEST_SHOWN || self.slowest.last().is_some_and(|(t, _)| elapsed > *t) {
            self.slowest.push((elapsed, path.to_string()));
            self.slowest.sort_by_key(|s| std::cmp::Reverse(s.0));
            self.slowest.truncate(SLOWEST_SHOWN);
        }
    }

    pub fn render(&self, elapsed: Duration) -> String {
        let secs = elapsed.as_secs_f64().max(1e-3);
        let mut s = format!(
            "appvet: {} inputs: {} analysed, {} already stored, {} duplicates, {} errors ({} timeouts) in {:.1} s \
             ({} apps/s, {} MB/s read)\n",
            self.inputs,
            self.analysed,
            self.skipped,
            self.duplicates,
            self.errors,
            self.timeouts,
            secs,
            rate(self.analysed as f64 / secs),
            rate(self.bytes_read as f64 / 1e6 / secs)
        );
        if !self.verdicts.is_empty() {
            s.push_str(&format!("  verdicts: {}\n", top(&self.verdicts, usize::MAX)));
        }
        if !self.blocked.is_empty() {
            let mut names: Vec<String> = self.blocked.iter().take(BLOCKED_SHOWN).cloned().collect();
            if self.blocked.len() > BLOCKED_SHOWN {
                names.push(format!("and {} more", self.blocked.len() - BLOCKED_SHOWN));
            }
            s.push_str(&format!("  blocked: {}\n", names.join("; ")));
        }
        if !self.sdk_owners.is_empty() {
            s.push_str(&format!(
                "  top SDK owners (rolled up to the controlling parent; apps): {}\n",
                top(&self.sdk_owners, TOP_SHOWN)
            ));
        }
        if !self.countries.is_empty() {
            s.push_str(&format!(
                "  top countries (controlling country of publishers, SDK and host owners; apps): {}\n",
                top(&self.countries, TOP_SHOWN)
            ));
        }
        if !self.slowest.is_empty() {
            s.push_str("  slowest:");
            for (t, p) in &self.slowest {
                s.push_str(&format!(" {p} ({:.2} s);", t.as_secs_f64()));
            }
            s.pop();
            s.push('\n');
        }
        s
    }
}

/// A rate with as many digits as it needs to be read, not more: `512`,
/// `50.4`, `4.20`.
fn rate(x: f64) -> String {
    match x {
        x if !x.is_finite() => "0".into(),
        x if x >= 100.0 => format!("{x:.0}"),
        x if x >= 10.0 => format!("{x:.1}"),
        x => format!("{x:.2}"),
    }
}

fn top(counts: &HashMap<String, u64>, n: usize) -> String {
    let mut v: Vec<(&String, &u64)> = counts.iter().collect();
    v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    v.iter().take(n).map(|(k, c)| format!("{k} {c}")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_rounded_to_what_is_worth_reading() {
        assert_eq!(rate(50.3963), "50.4");
        assert_eq!(rate(512.7), "513");
        assert_eq!(rate(4.2), "4.20");
        assert_eq!(rate(f64::NAN), "0");
    }

    #[test]
    fn blocked_apps_are_named() {
        let mut s = Summary::default();
        s.blocked.push("Clips (com.ss.clips, a.apk)".into());
        assert!(s.render(Duration::from_secs(1)).contains("  blocked: Clips (com.ss.clips, a.apk)\n"));
    }

    #[test]
    fn summary_keeps_the_slowest_and_orders_counts() {
        let mut s = Summary::default();
        for i in 0..20u64 {
            s.note_time(Duration::from_millis(i), &format!("app{i}"));
        }
        s.sdk_owners.insert("A".into(), 1);
        s.sdk_owners.insert("B".into(), 3);
        let text = s.render(Duration::from_secs(1));
        assert!(text.contains("app19 (0.02 s)"));
        assert!(!text.contains("app3 "));
        assert!(text.contains("B 3, A 1"));
    }
}

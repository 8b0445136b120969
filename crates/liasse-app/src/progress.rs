//! Progress for long commands: a bar on a terminal, plain lines otherwise (logs, CI).

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

pub struct Progress {
    bar: Option<ProgressBar>,
    label: String,
    total: u64,
    done: u64,
    last_line: u64,
}

impl Progress {
    pub fn new(label: &str, total: u64) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = ProgressBar::new(total);
            if let Ok(style) =
                ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} ({eta})")
            {
                b.set_style(style.progress_chars("=> "));
            }
            b.set_message(label.to_string());
            b
        });
        if bar.is_none() {
            eprintln!("{label}: 0/{total}");
        }
        Progress {
            bar,
            label: label.to_string(),
            total,
            done: 0,
            last_line: 0,
        }
    }

    pub fn inc(&mut self, n: u64) {
        self.done += n;
        match &self.bar {
            Some(b) => b.inc(n),
            None => {
                // About twenty lines per run, whatever its size.
                let step = (self.total / 20).max(1);
                if self.done - self.last_line >= step {
                    self.last_line = self.done;
                    eprintln!("{}: {}/{}", self.label, self.done, self.total);
                }
            }
        }
    }

    pub fn finish(self) {
        match self.bar {
            Some(b) => b.finish(),
            None => eprintln!("{}: {}/{} done", self.label, self.done, self.total),
        }
    }
}

//! The log's writer. `env_logger` formats each line on the thread that logs it and appends it
//! to a buffer in memory; a thread of its own writes the buffer to standard error every 50 ms.
//! A request (the access log writes a line for each) never waits on the terminal, a pipe or
//! the journal, and under load a few hundred lines go out in one write instead of one each.

use std::io::{self, Write};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// How often the buffer is written out.
const WRITE_EVERY: Duration = Duration::from_millis(50);
/// The most bytes waiting: the line that passes it writes the buffer out itself, so memory
/// stays bounded when standard error is slower than the traffic, and no line is dropped.
const MAX_WAITING: usize = 1 << 20;

/// Lines formatted and not yet written.
static WAITING: Mutex<Vec<u8>> = Mutex::new(Vec::new());
/// Held while writing, so that lines reach standard error in the order they were logged.
static WRITING: Mutex<()> = Mutex::new(());

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What `env_logger` writes each formatted line to.
struct Buffered;

impl Write for Buffered {
    fn write(&mut self, line: &[u8]) -> io::Result<usize> {
        let full = {
            let mut waiting = lock(&WAITING);
            waiting.extend_from_slice(line);
            waiting.len() >= MAX_WAITING
        };
        if full {
            flush();
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Installs the logger: `RUST_LOG` filters (default `info`); lines go to standard error by
/// way of the buffer (directly, should the writing thread not start).
pub fn init() {
    let mut builder =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"));
    let writer = std::thread::Builder::new()
        .name("log".into())
        .spawn(|| loop {
            std::thread::sleep(WRITE_EVERY);
            flush();
        });
    if writer.is_ok() {
        builder.target(env_logger::Target::Pipe(Box::new(Buffered)));
    }
    builder.init();
}

/// Writes out every line logged so far; the writing thread's turn, and the process's before
/// it exits. A failure to write standard error is ignored: there is nowhere to report it.
pub fn flush() {
    let _turn = lock(&WRITING);
    let lines = std::mem::take(&mut *lock(&WAITING));
    if !lines.is_empty() {
        let _ = io::stderr().lock().write_all(&lines);
    }
}
